"""Sizes at half maximum (``edge.half_maximum_sizes``): blurred flat discs of known area, whatever the
denoising, and the outline's area kept beside them; off by default."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from synthetic.known_shapes import disc_grid


def _discs(diameter: float, *, seed: int = 0, dark: bool = False) -> LoadedImage:
    """8 x 8 discs of ``diameter`` px, area-sampled, blurred by a 1 px PSF, noise 0.03."""
    grey = disc_grid(diameter, np.random.default_rng(seed), dark=dark)
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


def _mean_area(image: LoadedImage, **groups) -> tuple[float, float, int]:
    groups.setdefault("edge", {"half_maximum_sizes": True})
    particles = Pipeline(image).run(PipelineParams.from_dict(groups)).particles
    return float(particles["area"].mean()), float(particles["mask_area"].mean()), len(particles)


@pytest.mark.parametrize("dark", [False, True], ids=["bright", "dark"])
@pytest.mark.parametrize(("diameter", "tolerance"), [(5, 0.15), (10, 0.05), (20, 0.02)])
def test_default_pipeline_area_of_blurred_discs(diameter, tolerance, dark):
    true = np.pi * diameter**2 / 4
    area, outline, count = _mean_area(_discs(diameter, dark=dark))
    assert count >= 63
    assert area == pytest.approx(true, rel=tolerance)
    assert outline > area  # Gaussian 1.5 px + Otsu put the outline outside the half maximum


def test_sizes_do_not_follow_the_denoising():
    image = _discs(16)
    light, _, _ = _mean_area(image, preprocess={"gaussian_sigma_px": 0.8})
    heavy, _, _ = _mean_area(image, preprocess={"gaussian_sigma_px": 3.0})
    assert not PipelineParams().edge.half_maximum_sizes  # opt-in: domed particles have no plateau
    light_outline = Pipeline(image).run(PipelineParams.from_dict(
        {"preprocess": {"gaussian_sigma_px": 0.8}, "edge": {"half_maximum_sizes": False}})).particles["area"].mean()
    heavy_outline = Pipeline(image).run(PipelineParams.from_dict(
        {"preprocess": {"gaussian_sigma_px": 3.0}, "edge": {"half_maximum_sizes": False}})).particles["area"].mean()
    assert heavy / light == pytest.approx(1.0, abs=0.02)
    assert heavy_outline / light_outline > 1.05  # the outline's area moves with the blur


def test_switched_off_the_area_is_the_outlines():
    particles = Pipeline(_discs(12)).run(PipelineParams()).particles
    assert "mask_area" not in particles.columns
    assert particles["ecd"].to_numpy() == pytest.approx(np.sqrt(4 * particles["area"].to_numpy() / np.pi))


def test_a_sphere_in_transmission_has_no_plateau_and_reads_small():
    # Why the option is off by default: a TEM sphere's projected thickness is a dome, so its
    # "half maximum" lies inside its edge (about 0.87 of the radius for a linear contrast).
    from particle_gui.core.analysis.edges import half_maximum_areas

    yy, xx = np.mgrid[:100, :100] - 49.5
    r = np.hypot(xx, yy)
    thickness = np.sqrt(np.clip(1 - (r / 15) ** 2, 0, None))
    grey = cv2.GaussianBlur(np.exp(-1.2 * thickness).astype(np.float32), (0, 0), 1.0)
    mask = (r <= 15).astype(np.int32)
    assert half_maximum_areas(grey, mask)[1] / mask.sum() < 0.85
