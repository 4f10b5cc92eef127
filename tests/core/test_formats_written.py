"""Known-answer tests on vendor files written here (particle_gui.core.io.formats), Hitachi/JEOL
sidecar text files and ImageJ units (particle_gui.core.io.metadata).

Velox, Berkeley EMD and MRC files, sidecars and ImageJ TIFFs are written in tmp_path; the real
vendor fixtures are tested in ``test_formats.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from particle_gui.core.io.calibration import SOURCE_METADATA
from particle_gui.core.errors import ImageLoadError
from particle_gui.core.io.format_axes import Axis, make_calibration, nm_per_unit, unit_kind
from particle_gui.core.io.loading import load_image


# ---------------------------------------------------------------- synthetic EMD and MRC files


def write_velox(path: Path, data_yxn: np.ndarray, *, unit: str = "m", width: float = 2.5e-10, height=None, kinds=("Image",)):
    """A minimal Velox EMD: Data/Image/<id>/{Data (rows, columns, frames), Metadata (JSON bytes)}."""
    h5py = pytest.importorskip("h5py")
    meta = {
        "BinaryResult": {
            "PixelUnitX": unit,
            "PixelUnitY": unit,
            "PixelSize": {"width": str(width), "height": str(height or width)},
            "Detector": "HAADF",
        },
        "Acquisition": {"AcquisitionStartDatetime": {"DateTime": "1600000000"}},
        "Stage": {},
    }
    text = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    column = np.zeros((len(text) + 16, data_yxn.shape[2]), np.uint8)
    column[: len(text)] = text[:, None]
    with h5py.File(path, "w") as handle:
        handle.create_dataset("Version", data=np.array([b'{"format": "Velox", "version": "2"}']))
        for kind in kinds:
            group = handle.create_group(f"Data/{kind}/0f1e2d3c")
            group.create_dataset("Data", data=data_yxn)
            group.create_dataset("Metadata", data=column)
    return path


def write_berkeley(path: Path, data: np.ndarray, dims):
    """A Berkeley EMD v0.2: data/<name> with emd_group_type 1, data and dim1..dimN (name, units)."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as handle:
        handle.attrs["version_major"], handle.attrs["version_minor"] = 0, 2
        group = handle.create_group("data/dataset_1")
        group.attrs["emd_group_type"] = 1
        group.create_dataset("data", data=data)
        for number, (size, step, name, unit) in enumerate(dims, start=1):
            dim = group.create_dataset(f"dim{number}", data=np.arange(size) * step)
            dim.attrs["name"], dim.attrs["units"] = np.bytes_(name), np.bytes_(unit)
    return path


def test_velox_image_stack(tmp_path):
    data = np.stack([np.full((20, 30), 100 + 50 * k, np.uint16) for k in range(4)], axis=2)
    data[5, 7, 0] = 9000
    image = load_image(write_velox(tmp_path / "stack.emd", data))
    assert image.original.shape == (20, 30) and image.original.dtype == np.uint16
    np.testing.assert_array_equal(image.original, data[:, :, 0])
    assert image.metadata_calibration.pixel_size_nm == pytest.approx(0.25, rel=1e-9)
    assert "Velox" in image.metadata_calibration.detail
    assert any("4 frames" in w for w in image.warnings)


def test_velox_diffraction_pattern_is_refused(tmp_path):
    path = write_velox(tmp_path / "diff.emd", np.ones((16, 16, 1), np.uint16), unit="1/m", width=1e7)
    with pytest.raises(ImageLoadError, match=r"diff\.emd.*diffraction pattern"):
        load_image(path)


def test_velox_without_images_is_refused(tmp_path):
    path = write_velox(tmp_path / "eds.emd", np.ones((16, 16, 1), np.uint16), kinds=("Spectrum",))
    with pytest.raises(ImageLoadError, match=r"eds\.emd.*no image, only Spectrum"):
        load_image(path)


def test_berkeley_stack_in_angstrom(tmp_path):
    data = np.arange(3 * 10 * 12, dtype=np.float64).reshape(3, 10, 12)
    dims = [(3, 1.0, "t", "s"), (10, 1.5, "y", "[A]"), (12, 1.5, "x", "[A]")]
    image = load_image(write_berkeley(tmp_path / "stack.emd", data, dims))
    np.testing.assert_array_equal(image.original, data[0])
    assert image.metadata_calibration.pixel_size_nm == pytest.approx(0.15, rel=1e-9)
    assert any("3 frames" in w for w in image.warnings)


def test_berkeley_spectrum_image_is_refused(tmp_path):
    dims = [(8, 1e-9, "y", "m"), (9, 1e-9, "x", "m"), (50, 0.5, "E", "eV")]
    path = write_berkeley(tmp_path / "si.emd", np.zeros((8, 9, 50), np.float32), dims)
    with pytest.raises(ImageLoadError, match=r"si\.emd.*spectrum image of 8 x 9 x 50"):
        load_image(path)


def test_berkeley_4d_stem_is_refused(tmp_path):
    dims = [(4, 1.0, "y", "nm"), (5, 1.0, "x", "nm"), (6, 0.1, "ky", "1/nm"), (7, 0.1, "kx", "1/nm")]
    path = write_berkeley(tmp_path / "4d.emd", np.zeros((4, 5, 6, 7), np.uint16), dims)
    with pytest.raises(ImageLoadError, match=r"4d\.emd.*4D-STEM"):
        load_image(path)


def test_hdf5_that_is_not_an_emd_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "other.emd"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("stuff", data=np.zeros(4))
    with pytest.raises(ImageLoadError, match=r"other\.emd.*neither a Velox nor a Berkeley EMD"):
        load_image(path)


def test_mrc_single_image_and_volume(tmp_path):
    mrcfile = pytest.importorskip("mrcfile")
    single = tmp_path / "single.mrc"
    data = (np.arange(24 * 32) % 1000 - 500).astype(np.int16).reshape(24, 32)
    with mrcfile.new(single) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = 3.0
    image = load_image(single)
    np.testing.assert_array_equal(image.original, data)
    assert image.metadata_calibration.pixel_size_nm == pytest.approx(0.3, rel=1e-6)
    assert image.warnings == ()

    volume = tmp_path / "volume.mrc"
    with mrcfile.new(volume) as mrc:
        mrc.set_data(np.arange(5 * 8 * 8, dtype=np.float32).reshape(5, 8, 8))
        mrc.set_volume()
        mrc.voxel_size = 10.0
    image = load_image(volume)
    assert image.shape == (8, 8) and image.metadata_calibration.pixel_size_nm == pytest.approx(1.0)
    assert any("5 slices" in w for w in image.warnings)


def test_mrc_without_pixel_size_is_uncalibrated(tmp_path):
    mrcfile = pytest.importorskip("mrcfile")
    path = tmp_path / "nocal.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.ones((8, 8), np.float32))
        mrc.voxel_size = 0.0
    image = load_image(path)
    assert image.metadata_calibration is None
    assert any("no pixel size" in w for w in image.warnings)


def test_text_file_named_dm3_is_refused(tmp_path):
    path = tmp_path / "notes.dm3"
    path.write_text("not a DigitalMicrograph file at all\n" * 4)
    with pytest.raises(ImageLoadError, match=r"notes\.dm3"):
        load_image(path)


# ---------------------------------------------------------------- units and calibration rules


@pytest.mark.parametrize(
    ("unit", "nm"),
    [("m", 1e9), ("nm", 1.0), ("n_m", 1.0), ("[n_m]", 1.0), ("A", 0.1), ("Å", 0.1), ("µm", 1e3), ("μm", 1e3),
     ("um", 1e3), (b"nm", 1.0), ("pm", 1e-3)],
)
def test_vendor_length_units(unit, nm):
    assert unit_kind(unit) == "length"
    assert nm_per_unit(unit) == pytest.approx(nm)


@pytest.mark.parametrize(
    ("unit", "kind"), [("1/nm", "reciprocal"), ("1/m", "reciprocal"), ("nm^-1", "reciprocal"), ("eV", "energy"),
                       ("mrad", "angle"), ("", "none"), ("pixels", "none"), ("s", "other")],
)
def test_vendor_non_length_units(unit, kind):
    assert unit_kind(unit) == kind
    assert nm_per_unit(unit) is None


def test_calibration_in_an_implausible_range_is_ignored_with_a_note():
    notes: list[str] = []
    # A TIA diffraction pattern has no unit in the .ser; its "metres" per pixel are 1/m.
    assert make_calibration("FEI TIA SER", Axis(64, 1e7, "m"), Axis(64, 1e7, "m"), notes) is None
    assert any("not a plausible" in n for n in notes)


def test_uncalibrated_axes_give_no_calibration_and_no_note():
    notes: list[str] = []
    assert make_calibration("Gatan DM4", Axis(64, 1.0, ""), Axis(64, 1.0, ""), notes) is None
    assert notes == []


# ---------------------------------------------------------------- Hitachi and JEOL sidecar text files


def grey_tiff(path: Path, shape=(60, 64), **kwargs) -> Path:
    tifffile.imwrite(path, np.zeros(shape, np.uint8), **kwargs)
    return path


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_hitachi_sidecar_pixel_size(tmp_path, newline):
    image = grey_tiff(tmp_path / "S4800_001.tif")
    lines = ["[SemImageFile]", "InstructName=S-4800", "DataSize=64x48", "PixelSize=1.234", "Magnification=50000"]
    (tmp_path / "S4800_001.txt").write_bytes(newline.join(lines).encode("latin-1") + newline.encode())
    calibration = load_image(image).metadata_calibration
    assert calibration.pixel_size_nm == pytest.approx(1.234, rel=1e-12)
    assert calibration.source == SOURCE_METADATA and "Hitachi" in calibration.detail


def test_hitachi_sidecar_also_calibrates_bmp(tmp_path):
    image = tmp_path / "hitachi.bmp"
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(image)
    (tmp_path / "hitachi.TXT").write_text("[SemImageFile]\nPixelSize = 12.5\n")
    assert load_image(image).metadata_calibration.pixel_size_nm == pytest.approx(12.5)


@pytest.mark.parametrize(
    ("marker", "bar", "expected_nm"),
    [(b"1um", b"200", 5.0), (b"100nm", b"50", 2.0), (b"1.0 \xb5m", b"250", 4.0), (b"2 \xc2\xb5m", b"100", 20.0),
     (b"500 nm", b"125.0", 4.0)],
)
def test_jeol_sidecar_micron_bar_and_marker(tmp_path, marker, bar, expected_nm):
    image = grey_tiff(tmp_path / "jeol.tif")
    text = b"$CM_FORMAT JEOL/SEM\r\n$CM_MAG 20000\r\n$CM_FULL_SIZE 64 48\r\n"
    text += b"$$SM_MICRON_BAR " + bar + b"\r\n$$SM_MICRON_MARKER " + marker + b"\r\n"
    (tmp_path / "jeol.txt").write_bytes(text)
    calibration = load_image(image).metadata_calibration
    assert calibration.pixel_size_nm == pytest.approx(expected_nm, rel=1e-12)
    assert "JEOL" in calibration.detail


def test_jeol_sidecar_with_single_dollar_keys(tmp_path):
    image = grey_tiff(tmp_path / "jeol1.tif")
    (tmp_path / "jeol1.txt").write_text("$SM_MICRON_BAR 80\n$SM_MICRON_MARKER 400nm\n")
    assert load_image(image).metadata_calibration.pixel_size_nm == pytest.approx(5.0)


@pytest.mark.parametrize(
    "text",
    ["$$SM_MICRON_BAR 200\n", "$$SM_MICRON_MARKER 1um\n", "$$SM_MICRON_BAR 0\n$$SM_MICRON_MARKER 1um\n",
     "$$SM_MICRON_BAR 200\n$$SM_MICRON_MARKER lots\n", "just some notes\nPixelSize is unknown\n"],
)
def test_incomplete_sidecars_give_no_calibration(tmp_path, text):
    image = grey_tiff(tmp_path / "partial.tif")
    (tmp_path / "partial.txt").write_text(text)
    assert load_image(image).metadata_calibration is None


def test_sidecar_for_an_image_of_another_width_is_not_used(tmp_path):
    image = grey_tiff(tmp_path / "resized.tif", shape=(30, 32))
    (tmp_path / "resized.txt").write_text("[SemImageFile]\nDataSize=64x48\nPixelSize=1.234\n")
    loaded = load_image(image)
    assert loaded.metadata_calibration is None
    assert any("64 pixels wide" in w and "resized.txt" in w for w in loaded.warnings)


def test_embedded_tags_win_over_the_sidecar(tmp_path):
    fei = "[Scan]\r\nPixelWidth=4.5e-009\r\nPixelHeight=4.5e-009\r\n"
    image = grey_tiff(tmp_path / "fei.tif", extratags=[(34682, "s", 0, fei, True)])
    (tmp_path / "fei.txt").write_text("PixelSize=1.234\n")
    assert load_image(image).metadata_calibration.pixel_size_nm == pytest.approx(4.5)


def test_sidecar_wins_over_resolution_tags(tmp_path):
    image = grey_tiff(tmp_path / "res.tif", resolution=(1e7 / 5, 1e7 / 5), resolutionunit="CENTIMETER")
    (tmp_path / "res.txt").write_text("PixelSize=1.234\n")
    assert load_image(image).metadata_calibration.pixel_size_nm == pytest.approx(1.234)


# ---------------------------------------------------------------- ImageJ units


@pytest.mark.parametrize(
    ("unit", "nm_per_unit_"),
    [("micron", 1e3), ("microns", 1e3), ("um", 1e3), ("\\u00B5m", 1e3), ("nm", 1.0), ("A", 0.1), ("\\u00C5", 0.1)],
)
def test_imagej_units(tmp_path, unit, nm_per_unit_):
    path = grey_tiff(tmp_path / "ij.tif", imagej=True, resolution=(4.0, 4.0), metadata={"unit": unit})
    calibration = load_image(path).metadata_calibration
    assert calibration.pixel_size_nm == pytest.approx(nm_per_unit_ / 4.0, rel=1e-9)
    assert calibration.source == SOURCE_METADATA


@pytest.mark.parametrize(("raw_unit", "nm"), [(b"\xb5m", 250.0), ("µm".encode(), 250.0), (b"\xc5", 0.025)])
def test_imagej_units_written_unescaped(tmp_path, raw_unit, nm):
    description = b"ImageJ=1.54f\nunit=" + raw_unit + b"\n"
    path = grey_tiff(tmp_path / "ij_raw.tif", description=description, resolution=(4.0, 4.0), metadata=None)
    assert load_image(path).metadata_calibration.pixel_size_nm == pytest.approx(nm, rel=1e-9)


def test_imagej_non_square_pixels_use_the_geometric_mean(tmp_path):
    path = grey_tiff(tmp_path / "ij_rect.tif", imagej=True, resolution=(1 / 4.0, 1 / 9.0), metadata={"unit": "nm"})
    calibration = load_image(path).metadata_calibration
    assert calibration.pixel_size_nm == pytest.approx(6.0, rel=1e-9)
    assert "non-square" in calibration.detail
    assert any("Non-square" in w and "geometric mean" in w for w in load_image(path).warnings)
