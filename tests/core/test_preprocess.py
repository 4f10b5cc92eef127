"""Known-answer tests for particle_gui.core.analysis.preprocess."""

import numpy as np
import pytest

from particle_gui.core.params import PreprocessParams
from particle_gui.core.analysis.preprocess import clahe, denoise, flatten_background, preprocess
from tests.core.synthetic import disc_image, disc_mask, grid_centres

METHODS = ["gaussian", "median", "bilateral", "nlm"]


@pytest.fixture(scope="module")
def noisy_flat():
    rng = np.random.default_rng(0)
    return np.clip(0.5 + rng.normal(0.0, 0.1, (96, 96)), 0.0, 1.0).astype(np.float32)


@pytest.fixture(scope="module")
def ramp_with_discs():
    """A linear ramp (0.1 -> 0.6 across) with nine discs 0.3 above it; returns (image, disc mask)."""
    _, xx = np.mgrid[:256, :256]
    ramp = 0.1 + 0.5 * xx / 255.0
    discs = disc_mask((256, 256), grid_centres(9, spacing=80, origin=48, columns=3), 10)
    return np.where(discs, ramp + 0.3, ramp).astype(np.float32), discs


@pytest.mark.parametrize("method", METHODS)
def test_denoise_reduces_noise_and_keeps_shape(noisy_flat, method):
    out = denoise(noisy_flat, PreprocessParams(denoise=method))
    assert out.dtype == np.float32 and out.shape == noisy_flat.shape
    assert out.std() < 0.7 * noisy_flat.std()
    assert abs(float(out.mean()) - float(noisy_flat.mean())) < 0.02


@pytest.mark.parametrize("method", METHODS)
def test_preprocess_output_in_unit_range(noisy_flat, method):
    out = preprocess(noisy_flat, PreprocessParams(denoise=method))
    assert out.dtype == np.float32 and out.shape == noisy_flat.shape
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_large_median_window_uses_the_slow_path(noisy_flat):
    out = denoise(noisy_flat, PreprocessParams(denoise="median", median_size_px=9))
    assert out.dtype == np.float32 and out.shape == noisy_flat.shape
    assert out.std() < denoise(noisy_flat, PreprocessParams(denoise="median", median_size_px=3)).std()


def test_none_is_identity(noisy_flat):
    out = preprocess(noisy_flat, PreprocessParams(denoise="none"))
    np.testing.assert_array_equal(out, noisy_flat)
    assert out.dtype == np.float32


def test_preprocess_accepts_float64_and_returns_float32(noisy_flat):
    out = preprocess(noisy_flat.astype(np.float64), PreprocessParams(denoise="none"))
    assert out.dtype == np.float32


def test_gaussian_spreads_a_point():
    image = np.zeros((33, 33), np.float32)
    image[16, 16] = 1.0
    out = denoise(image, PreprocessParams(denoise="gaussian", gaussian_sigma_px=2.0))
    assert out.sum() == pytest.approx(1.0, rel=1e-3)
    assert out[16, 16] == pytest.approx(1 / (2 * np.pi * 4.0), rel=0.05)  # peak of a 2-D Gaussian


def test_clahe_output_in_unit_range_and_raises_contrast():
    centres = grid_centres(16, spacing=60, origin=30, columns=4)
    discs = disc_mask((256, 256), centres, 12)
    low_contrast = disc_image((256, 256), centres, 12, background=0.45, foreground=0.5, noise=0.005)
    out = clahe(low_contrast, clip_limit=2.0)
    assert out.dtype == np.float32 and out.shape == low_contrast.shape
    assert out.min() >= 0.0 and out.max() <= 1.0

    def contrast(x):
        return x[discs].mean() - x[~discs].mean()

    assert contrast(out) > 2 * contrast(low_contrast)


def test_clahe_via_params(noisy_flat):
    out = preprocess(noisy_flat, PreprocessParams(denoise="none", clahe=True))
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_flatten_background_removes_a_ramp(ramp_with_discs):
    image, discs = ramp_with_discs
    out = flatten_background(image, radius_px=40.0)
    assert out.dtype == np.float32 and out.shape == image.shape
    assert out.min() == pytest.approx(0.0, abs=1e-6) and out.max() == pytest.approx(1.0, abs=1e-6)

    def background_noise_over_contrast(x):
        return x[~discs].std() / (x[discs].mean() - x[~discs].mean())

    before = background_noise_over_contrast(image)
    after = background_noise_over_contrast(out)
    assert before > 0.4
    assert after < 0.1 and after < before / 5


def test_flatten_background_of_constant_is_zero():
    out = flatten_background(np.full((64, 64), 0.3, np.float32), radius_px=20.0)
    assert out.dtype == np.float32 and not out.any()


def test_flatten_via_params_keeps_discs_separable(ramp_with_discs):
    image, discs = ramp_with_discs
    out = preprocess(image, PreprocessParams(denoise="none", flatten_background=True, background_radius_px=40.0))
    # After flattening one global threshold separates every disc pixel from the background.
    assert out[discs].min() > out[~discs].max()


def test_preprocess_returns_a_new_array_not_its_input(noisy_flat):
    image = noisy_flat.copy()
    out = preprocess(image, PreprocessParams(denoise="none"))
    assert out is not image and not np.shares_memory(out, image)


def test_output_stays_in_the_unit_range_after_rounding() -> None:
    # Found by hypothesis: a wide Gaussian of a flat image of ones gave 1.0000001.
    out = preprocess(np.ones((2, 2), np.float32), PreprocessParams(denoise="gaussian", gaussian_sigma_px=19.5))
    assert out.max() <= 1.0 and out.min() >= 0.0
    np.testing.assert_allclose(out, 1.0, atol=1e-6)
