"""Data bars as instruments draw them: generated Zeiss, FEI/Thermo, JEOL, Hitachi, Tescan and top
layouts (synthetic.databars), and the real Zeiss and FEI/Thermo files in ../shared/data/vendor_sem."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from particle_gui.core.io.databar import detect_data_bar
from particle_gui.core.io.loading import load_image
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from synthetic import databars
from synthetic.scenes import random_scene
from tests.shared_data import EMPS, VENDOR_SEM, require

LAYOUTS = [v for v in databars.VENDORS if v != "overlay"]


@pytest.mark.parametrize("light", [True, False], ids=["light", "dark"])
@pytest.mark.parametrize("height", [384, 768])
@pytest.mark.parametrize("vendor", LAYOUTS)
def test_generated_layouts_give_the_strips_first_row(vendor, height, light):
    rng = np.random.default_rng(zlib.crc32(f"{vendor} {height} {light}".encode()))
    specimen, _ = random_scene(rng, (height, height * 4 // 3), median_px=float(rng.uniform(10, 50)))
    image, truth = databars.draw(rng, vendor, specimen, light=light, family="DejaVu Sans")
    bar = detect_data_bar(image)
    assert bar is not None
    assert (bar.first_row, bar.end_row, bar.side) == (*truth.strip, truth.side)


def test_overlay_bar_is_not_a_data_bar():
    rng = np.random.default_rng(3)
    specimen, _ = random_scene(rng, (384, 512), median_px=24.0)
    image, _ = databars.draw(rng, "overlay", specimen, family="DejaVu Sans")
    assert detect_data_bar(image) is None


@pytest.fixture(scope="module")
def vendor_sem():
    return require(VENDOR_SEM)


@pytest.mark.parametrize(
    ("name", "first_row", "end_row", "source"),
    [
        ("test_tiff_Zeiss_SEM_1k.tif", 691, 767, "image"),  # row 767 below the frame is specimen
        ("test_tiff_Zeiss_SEM_512pix.tif", 350, 383, "image"),
        ("FEI-Helios-Ebeam-8bits.tif", 442, 471, "metadata"),  # black bar on a black specimen
        ("FEI-Helios-Ebeam-16bits.tif", 442, 471, "metadata"),
    ],
)
def test_real_vendor_files(vendor_sem, name, first_row, end_row, source):
    image = load_image(vendor_sem / name)
    region = Pipeline(image).region(PipelineParams())
    bar = region.data_bar
    assert (bar.first_row, bar.end_row, bar.side, bar.source) == (first_row, end_row, "bottom", source)
    assert region.rows == (0, first_row)


def test_instrument_facts_from_real_files(vendor_sem):
    zeiss = load_image(vendor_sem / "test_tiff_Zeiss_SEM_1k.tif").instrument
    assert (zeiss.vendor, zeiss.model, zeiss.magnification) == ("Zeiss", "Merlin-61-08", 105.0)
    fei = load_image(vendor_sem / "FEI-Helios-Ebeam-8bits.tif").instrument
    assert (fei.vendor, fei.databar_height_px) == ("FEI/Thermo", 29)
    assert fei.magnification == pytest.approx(120.0, rel=1e-3) and fei.field_width_nm == pytest.approx(1.72667e6)



@pytest.mark.parametrize("name, rows", [("245e1a4826", (475, 512)), ("4628753cd8", (464, 512)),
                                        ("a4027c076c", (465, 512)), ("c36b04376a", (481, 512))])
def test_downscaled_jpeg_figures_keep_their_data_bar(name, rows):
    """EMPS images are micrographs as papers print them: halved, JPEG-compressed. A strip's colour
    then varies by a few levels and its text blurs into many greys, fewer than two-toned; these four
    (Zeiss white and black strips, FEI) were found with no data bar before 2026-12-03."""
    grey = load_image(require(EMPS) / "images" / f"{name}.png").grey
    bar = detect_data_bar(grey)
    assert bar is not None and bar.rows == rows and bar.side == "bottom"
