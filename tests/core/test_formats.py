"""Known-answer tests for real microscope vendor files (particle_gui.core.io.formats).

The vendor fixtures are read where they lie, in ../shared/data/formats (never copied into the
repository); those tests are skipped when that folder is absent, and fail when CI=true. Written
Velox, Berkeley EMD and MRC files, sidecars and ImageJ units: ``test_formats_written.py``.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from particle_gui.cli import main
from particle_gui.core.output.inputs import images_in_folder
from particle_gui.core.io.calibration import SOURCE_METADATA
from particle_gui.core.errors import ImageLoadError, ImageTooLargeError
from particle_gui.core.io.formats import VENDOR_SUFFIXES
from particle_gui.core.io.loading import IMAGE_SUFFIXES, load_image
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline

from tests.shared_data import FORMATS, require

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def vendor_files() -> Path:
    return require(FORMATS)


needs_fixtures = pytest.mark.usefixtures("vendor_files")

EMD = "Acquisition_18.emd"
SER = "16_STOimage_1.ser"
DM3 = "dmTest_float32_nonSquare_diffPixelSize.dm3"
DM4 = "dmTest_float32_nonSquare_diffPixelSize.dm4"
MRC = "temp.mrc"
SPECTRUM = "08_carbon.dm3"
DM_PIXEL_NM = math.sqrt(0.2 * 1.0)  # rows 2 A, columns 1 nm: geometric mean

KNOWN = [  # file, shape, dtype, pixel size in nm
    (EMD, (1024, 1024), np.uint16, 0.012246525),
    (SER, (1024, 1024), np.uint16, 1.00127e-11 * 1e9),
    (DM3, (64, 128), np.float32, DM_PIXEL_NM),
    (DM4, (64, 128), np.float32, DM_PIXEL_NM),
    (MRC, (128, 128), np.float32, 0.2),
]


def fixture(name: str) -> Path:
    return FORMATS / name


def truncated_copy(tmp_path: Path, name: str, keep_fraction: float) -> Path:
    raw = fixture(name).read_bytes()
    path = tmp_path / f"cut_{name}"
    path.write_bytes(raw[: int(len(raw) * keep_fraction)])
    return path


# ---------------------------------------------------------------- the vendor fixtures


@needs_fixtures
@pytest.mark.parametrize(("name", "shape", "dtype", "pixel_nm"), KNOWN, ids=[k[0] for k in KNOWN])
def test_fixture_shape_dtype_and_pixel_size(name, shape, dtype, pixel_nm):
    image = load_image(fixture(name))
    assert image.original.shape == shape
    assert image.original.dtype == dtype
    assert image.shape == shape and image.grey.dtype == np.float32
    assert np.isfinite(image.grey).all() and image.grey.min() == 0.0 and image.grey.max() == 1.0
    calibration = image.metadata_calibration
    assert calibration.source == SOURCE_METADATA
    assert calibration.pixel_size_nm == pytest.approx(pixel_nm, rel=1e-6)


@needs_fixtures
@pytest.mark.parametrize("name", [EMD, SER, DM4])
def test_intensities_are_kept_without_clipping(name):
    image = load_image(fixture(name))
    restored = image.grey.astype(np.float64) * image.intensity_scale + image.intensity_offset
    np.testing.assert_allclose(restored, image.original, atol=1e-6 * image.intensity_scale)


@needs_fixtures
@pytest.mark.parametrize("name", [DM3, DM4])
def test_dm_non_square_pixels_use_the_geometric_mean_with_a_warning(name):
    image = load_image(fixture(name))
    assert image.metadata_calibration.pixel_size_nm == pytest.approx(DM_PIXEL_NM, rel=1e-6)
    assert "non-square" in image.metadata_calibration.detail
    assert "1 nm x 0.2 nm" in image.metadata_calibration.detail  # width (columns) x height (rows)
    assert any("non-square" in w.lower() and "geometric mean" in w for w in image.warnings)


@needs_fixtures
def test_mrc_stack_gives_the_first_frame_and_warns():
    import mrcfile

    image = load_image(fixture(MRC))
    # A classic MRC header, without "MAP ": mrcfile warns.
    with pytest.warns(RuntimeWarning, match="Map ID"), mrcfile.open(fixture(MRC), permissive=True) as mrc:
        first = np.array(mrc.data[0])
    np.testing.assert_array_equal(image.original, first)
    assert any("3 frames" in w for w in image.warnings)


@needs_fixtures
def test_square_fixtures_have_no_warnings():
    for name in (EMD, SER):
        assert load_image(fixture(name)).warnings == ()


@needs_fixtures
def test_spectrum_is_refused_naming_the_file_and_what_it_holds():
    with pytest.raises(ImageLoadError, match=SPECTRUM) as info:
        load_image(fixture(SPECTRUM))
    message = str(info.value)
    assert "1-D spectrum" in message and "2048 channels" in message and "not an image" in message


@needs_fixtures
@pytest.mark.parametrize("name", [DM4, DM3, EMD, MRC, SER])
@pytest.mark.parametrize("keep_fraction", [0.02, 0.5, 0.95])
def test_truncated_files_are_refused_clearly(tmp_path, name, keep_fraction):
    path = truncated_copy(tmp_path, name, keep_fraction)
    with pytest.raises(ImageLoadError, match=path.name) as info:
        load_image(path)
    assert "truncated" in str(info.value)


@needs_fixtures
def test_ser_without_its_emi_keeps_its_calibration(tmp_path):
    alone = tmp_path / SER
    shutil.copyfile(fixture(SER), alone)
    image = load_image(alone)
    assert image.metadata_calibration.pixel_size_nm == pytest.approx(1.00127e-2, rel=1e-6)


@needs_fixtures
def test_ser_with_a_damaged_emi_still_loads(tmp_path):
    shutil.copyfile(fixture(SER), tmp_path / SER)
    (tmp_path / "16_STOimage.emi").write_bytes(b"\0garbage" * 10)
    assert load_image(tmp_path / SER).shape == (1024, 1024)


@needs_fixtures
def test_emi_is_not_an_image_and_points_to_the_ser():
    with pytest.raises(ImageLoadError, match=r"16_STOimage\.emi.*Open 16_STOimage_1\.ser"):
        load_image(fixture("16_STOimage.emi"))


@needs_fixtures
def test_size_limit_applies_before_reading(tmp_path):
    for name in (EMD, DM4, MRC, SER):
        with pytest.raises(ImageTooLargeError, match=name):
            load_image(fixture(name), max_pixels=1000)


@needs_fixtures
def test_folder_scan_finds_vendor_files_but_not_companions():
    names = [path.name for path in images_in_folder(FORMATS)]
    assert names == sorted([SPECTRUM, SER, EMD, DM3, DM4, MRC])
    assert ".emi" not in IMAGE_SUFFIXES and set(VENDOR_SUFFIXES) <= set(IMAGE_SUFFIXES)


@needs_fixtures
def test_pipeline_runs_on_the_emd_with_its_calibration():
    image = load_image(fixture(EMD))
    result = Pipeline(image).run(PipelineParams(), image.metadata_calibration)
    assert result.calibration.unit == "nm"
    assert result.summary.unit == "nm"
    assert result.calibration.pixel_size_nm == pytest.approx(0.012246525, rel=1e-6)


@needs_fixtures
def test_cli_analyzes_the_emd_with_metadata_calibration(tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(fixture(EMD)), "--out", str(out)]) == 0
    row = pd.read_csv(out / "summary.csv").iloc[0]
    assert row["status"] == "ok"
    assert row["calibration_source"] == "metadata"
    assert row["pixel_size_nm"] == pytest.approx(0.012246525, rel=1e-6)
    assert (out / "Acquisition_18_labels.tif").is_file()


@needs_fixtures
def test_cli_reports_the_spectrum_as_failed_and_goes_on(tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(fixture(SPECTRUM)), str(fixture(DM4)), "--out", str(out)]) == 1
    summary = pd.read_csv(out / "summary.csv").set_index("image")
    assert "1-D spectrum" in summary.loc[SPECTRUM, "status"]
    assert summary.loc[DM4, "status"] == "ok"


@needs_fixtures
def test_a_missing_reader_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "ncempy", None)
    monkeypatch.setitem(sys.modules, "ncempy.io", None)
    with pytest.raises(ImageLoadError, match=r"Acquisition_18\.emd.*needs the package 'ncempy'"):
        load_image(fixture(EMD))


def test_importing_the_engine_does_not_import_the_readers():
    code = (
        "import sys, particle_gui.core.io.loading, particle_gui.core.output.batch, particle_gui.core.io.formats\n"
        "print(sorted(m for m in ('ncempy', 'mrcfile', 'h5py', 'hdf5plugin', 'matplotlib') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
