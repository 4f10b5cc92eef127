"""Denoising and contrast correction: float32 [0, 1] image in, float32 [0, 1] image out."""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from particle_gui.core.params import PreprocessParams


def _to_uint(image: np.ndarray, dtype: type) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.clip(image * top + 0.5, 0, top).astype(dtype)


def median_reflect(image: np.ndarray, size: int) -> np.ndarray:
    """Median over ``size`` x ``size`` windows, the image extended by reflection (``d c b a | a b c d``).

    SciPy's rank filters read outside their buffers when the window is more than twice as large
    as the image (wrong, changing results, or a crash); such images are padded here first.

    >>> median_reflect(np.array([[0.0, 1.0], [1.0, 1.0]], np.float32), 25).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    half = size // 2
    if min(image.shape) > half:
        return ndimage.median_filter(image, size=size, mode="reflect")
    padded = np.pad(image, half, mode="symmetric")
    return np.ascontiguousarray(ndimage.median_filter(padded, size=size, mode="reflect")[half:-half, half:-half])


def denoise(image: np.ndarray, params: PreprocessParams) -> np.ndarray:
    """Apply the chosen denoising filter.

    Parameters
    ----------
    image : ndarray of float32, shape (H, W), values in [0, 1]
    params : PreprocessParams

    Returns
    -------
    ndarray of float32, shape (H, W)
    """
    method = params.denoise
    if method == "none":
        return image
    if method == "gaussian":
        return cv2.GaussianBlur(image, (0, 0), params.gaussian_sigma_px, borderType=cv2.BORDER_REFLECT)
    if method == "median":
        size = int(params.median_size_px) | 1
        if size <= 5:
            return cv2.medianBlur(image, size)
        return median_reflect(image, size)
    if method == "bilateral":
        return cv2.bilateralFilter(image, 0, params.bilateral_sigma_intensity, params.bilateral_sigma_px)
    if method == "nlm":
        # OpenCV's non-local means works on 8-bit data; h is given as a fraction of the range.
        quantised = _to_uint(image, np.uint8)
        denoised = cv2.fastNlMeansDenoising(quantised, None, h=float(params.nlm_h) * 255.0, templateWindowSize=7, searchWindowSize=21)
        return denoised.astype(np.float32) / np.float32(255.0)
    raise ValueError(f"unknown denoise method {method!r}")


def clahe(image: np.ndarray, *, clip_limit: float) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation on a 16-bit copy, tiles of ~128 px."""
    height, width = image.shape
    tiles = (max(1, round(width / 128)), max(1, round(height / 128)))
    equaliser = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=tiles)
    return equaliser.apply(_to_uint(image, np.uint16)).astype(np.float32) / np.float32(65535.0)


def flatten_background(image: np.ndarray, *, radius_px: float) -> np.ndarray:
    """Remove slowly varying background (uneven illumination or charging).

    The background is a median over windows of ``2 * radius_px``, computed on a downsampled copy
    so that it stays fast for large radii, then subtracted; the result is rescaled to [0, 1].
    """
    height, width = image.shape
    factor = max(1, int(radius_px // 8))
    small = cv2.resize(image, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
    window = max(3, int(2 * radius_px / factor) | 1)
    background_small = median_reflect(small, window)
    background = cv2.resize(background_small, (width, height), interpolation=cv2.INTER_LINEAR)
    flattened = image - background
    low, high = float(flattened.min()), float(flattened.max())
    if high <= low:
        return np.zeros_like(image)
    return ((flattened - low) / (high - low)).astype(np.float32)


def preprocess(image: np.ndarray, params: PreprocessParams) -> np.ndarray:
    """Background flattening, then denoising, then CLAHE, as enabled in ``params``.

    Parameters
    ----------
    image : ndarray of float32, shape (H, W), values in [0, 1]
    params : PreprocessParams

    Returns
    -------
    ndarray of float32, shape (H, W), values in [0, 1]

    Examples
    --------
    >>> image = np.zeros((32, 32), np.float32); image[16, 16] = 1.0
    >>> out = preprocess(image, PreprocessParams(denoise="gaussian", gaussian_sigma_px=2.0))
    >>> bool(out[16, 16] < 0.1)
    True
    """
    result = np.array(image, dtype=np.float32, copy=True)
    if params.flatten_background:
        result = flatten_background(result, radius_px=params.background_radius_px)
    result = denoise(result, params)
    if params.clahe:
        result = clahe(result, clip_limit=params.clahe_clip_limit)
    # Filters' rounding can step outside [0, 1] by an ulp (a Gaussian of a flat image of ones: 1.0000001).
    return np.clip(result, 0.0, 1.0, out=result)
