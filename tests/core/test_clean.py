"""What the clean-up filters remove, counted and sized, and the smallest size measured reliably."""

from __future__ import annotations

import numpy as np
import pytest

from particle_gui.core.analysis.clean import MIN_RELIABLE_ECD_PX, clean_mask_with_losses, reliable_min_ecd_px
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.output.export import summary_row
from particle_gui.core.params import CleanParams, PipelineParams


def _scene() -> np.ndarray:
    """Four discs of radius 10, five of radius 2.5 (area 21 px) and six single-pixel specks."""
    mask = np.zeros((120, 200), bool)
    yy, xx = np.mgrid[:120, :200]
    for cx in (20, 60, 100, 140):
        mask |= (xx - cx) ** 2 + (yy - 30) ** 2 <= 10**2
    for cx in (20, 50, 80, 110, 140):
        mask |= (xx - cx) ** 2 + (yy - 80) ** 2 <= 2.5**2
    for cx in (20, 50, 80, 110, 140, 170):
        mask[105, cx] = True
    return mask


def test_minimum_area_reports_the_objects_it_drops():
    cleaned, losses = clean_mask_with_losses(_scene(), CleanParams(min_area_px=30, opening_radius_px=0,
                                                                   fill_holes=False))
    assert losses["opening"].count == 0
    small = losses["min_area"]
    assert small.count == 11  # five small discs and six specks
    assert small.min_ecd_px == pytest.approx(np.sqrt(4 / np.pi))
    assert small.max_ecd_px == pytest.approx(np.sqrt(4 * 21 / np.pi))
    assert int(cleaned.sum()) == 4 * 317


def test_the_opening_takes_the_specks_first():
    _, losses = clean_mask_with_losses(_scene(), CleanParams(min_area_px=30, opening_radius_px=1, fill_holes=False))
    assert losses["opening"].count == 6 and losses["opening"].max_ecd_px == pytest.approx(np.sqrt(4 / np.pi))
    assert losses["min_area"].count == 5  # the small discs survive the opening, not the minimum area
    assert "5 objects" in losses["min_area"].describe() and "px" in losses["min_area"].describe()
    assert losses["min_area"].describe(2.0).endswith("nm")


def test_reliable_size_follows_the_filters():
    assert reliable_min_ecd_px(CleanParams(min_area_px=0, opening_radius_px=0)) == MIN_RELIABLE_ECD_PX
    assert reliable_min_ecd_px(CleanParams(min_area_px=400, opening_radius_px=0)) == pytest.approx(np.sqrt(1600 / np.pi))
    assert reliable_min_ecd_px(CleanParams(min_area_px=0, opening_radius_px=4)) == 18.0
    # A minimum area in nm² counts with the pixel size: 10 000 nm² at 2 nm/px is 2500 px².
    limit = reliable_min_ecd_px(CleanParams(min_area_px=0, min_area_nm2=10_000, opening_radius_px=0), 2.0)
    assert limit == pytest.approx(np.sqrt(4 * 2500 / np.pi))


def test_the_summary_row_carries_the_losses_in_the_images_unit():
    grey = np.where(_scene(), 0.9, 0.1).astype(np.float32)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    params = PipelineParams.from_dict({"clean": {"min_area_px": 30, "opening_radius_px": 1},
                                       "preprocess": {"denoise": "none"}, "region": {"remove_outlier_pixels": False}})
    result = Pipeline(image).run(params)
    row = summary_row("scene.tif", result)
    assert (row["removed_by_opening"], row["removed_below_min_area"]) == (6, 5)
    assert row["removed_ecd_max"] == pytest.approx(np.sqrt(4 * 21 / np.pi))
    assert row["reliable_min_ecd"] == MIN_RELIABLE_ECD_PX
    assert row["n_particles"] == 4
