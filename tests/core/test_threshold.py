"""Known-answer tests for particle_gui.core.analysis.threshold (and the polarity it relies on)."""

import numpy as np
import pytest

from particle_gui.core.params import ThresholdParams
from particle_gui.core.analysis.threshold import global_threshold, threshold_image
from tests.core.synthetic import disc_image, disc_mask, grid_centres

SHAPE = (128, 128)
CENTRES = grid_centres(16, spacing=32, origin=16, columns=4)
RADIUS = 8
DISCS = disc_mask(SHAPE, CENTRES, RADIUS)


def bimodal(bright_particles: bool) -> np.ndarray:
    fg, bg = (0.8, 0.2) if bright_particles else (0.2, 0.8)
    return disc_image(SHAPE, CENTRES, RADIUS, background=bg, foreground=fg, noise=0.05, seed=3)


@pytest.mark.parametrize("bright", [True, False], ids=["bright-on-dark", "dark-on-bright"])
@pytest.mark.parametrize("method", ["otsu", "li", "triangle", "yen"])
def test_global_methods_fall_between_the_modes(method, bright):
    result = threshold_image(bimodal(bright), ThresholdParams(method=method))
    assert 0.2 < result.value < 0.8
    assert result.warnings == ()
    assert (result.mask == DISCS).mean() > 0.95


@pytest.mark.parametrize("bright", [True, False], ids=["bright-on-dark", "dark-on-bright"])
def test_otsu_mask_is_the_discs(bright):
    result = threshold_image(bimodal(bright), ThresholdParams(method="otsu"))
    assert result.mask.dtype == bool and result.mask.shape == SHAPE
    assert (result.mask == DISCS).mean() > 0.999


@pytest.mark.parametrize("bright", [True, False], ids=["bright-on-dark", "dark-on-bright"])
def test_auto_polarity_finds_the_particles(bright):
    result = threshold_image(bimodal(bright), ThresholdParams(polarity="auto"))
    assert result.polarity == ("bright" if bright else "dark")


def test_auto_polarity_with_large_dark_particles_on_bright():
    centres = grid_centres(4, spacing=64, origin=32, columns=2)
    image = disc_image(SHAPE, centres, 22, background=0.75, foreground=0.25, noise=0.03)
    assert threshold_image(image, ThresholdParams()).polarity == "dark"


def test_override_polarity_is_honoured():
    image = bimodal(bright_particles=True)
    result = threshold_image(image, ThresholdParams(polarity="dark"))
    assert result.polarity == "dark"
    assert (result.mask == ~DISCS).mean() > 0.999  # the background is now "particles"


def test_manual_value_is_used():
    image = bimodal(bright_particles=True)
    result = threshold_image(image, ThresholdParams(method="manual", manual_value=0.37, polarity="bright"))
    assert result.value == pytest.approx(0.37)
    np.testing.assert_array_equal(result.mask, image > np.float32(0.37))


def test_manual_dark_polarity_is_at_or_below():
    image = np.array([[0.1, 0.3], [0.5, 0.7]], np.float32)
    result = threshold_image(image, ThresholdParams(method="manual", manual_value=0.5, polarity="dark"))
    np.testing.assert_array_equal(result.mask, [[True, True], [True, False]])


@pytest.mark.parametrize("bright", [True, False], ids=["bright-on-dark", "dark-on-bright"])
def test_local_threshold_finds_the_discs(bright):
    result = threshold_image(bimodal(bright), ThresholdParams(method="local", local_block_px=51))
    assert (result.mask == DISCS).mean() > 0.95


def test_constant_image_warns_and_finds_nothing_bright():
    result = threshold_image(np.full(SHAPE, 0.4, np.float32), ThresholdParams(polarity="bright"))
    assert len(result.warnings) == 1 and "bimodal" in result.warnings[0]
    assert not result.mask.any()


@pytest.mark.parametrize("kind", ["gaussian", "uniform"])
def test_unimodal_noise_warns(kind):
    rng = np.random.default_rng(5)
    if kind == "gaussian":
        image = np.clip(rng.normal(0.5, 0.1, SHAPE), 0, 1).astype(np.float32)
    else:
        image = rng.uniform(0.3, 0.7, SHAPE).astype(np.float32)
    result = threshold_image(image, ThresholdParams())
    assert any("bimodal" in w for w in result.warnings)


def test_analysis_rows_clears_the_rows_below():
    image = bimodal(bright_particles=True)
    image[100:] = 1.0  # a bright strip that would be all foreground
    result = threshold_image(image, ThresholdParams(polarity="bright"), analysis_rows=100)
    assert result.mask.shape == SHAPE
    assert not result.mask[100:].any()
    assert (result.mask[:100] == DISCS[:100]).mean() > 0.999
    # The threshold is computed from the analysed rows only.
    assert result.value == pytest.approx(threshold_image(image[:100], ThresholdParams(polarity="bright")).value)


def test_global_threshold_known_values():
    two_spikes = np.r_[np.full(50, 0.2), np.full(50, 0.8)]
    for method in ("otsu", "li", "yen"):
        assert 0.2 <= global_threshold(two_spikes, method) < 0.8
    assert global_threshold(np.full(10, 0.3), "otsu") == pytest.approx(0.3)
    with pytest.raises(ValueError):
        global_threshold(two_spikes, "magic")
