"""Thresholding: a number from an image, a polarity, and the foreground mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage import filters

from particle_gui.core.params import ThresholdParams
from particle_gui.core.analysis.polarity import detect_polarity

#: A histogram whose deepest valley between the two class peaks is above this fraction of the
#: smaller peak is not bimodal (pure noise: ~1.0; 88 % of EMPS training images are below).
BIMODAL_VALLEY_RATIO = 0.7

#: Images whose values span less than this are flat: a blurred constant image varies by float32
#: rounding only (~1e-7), too little for a 256-bin histogram, and has nothing to threshold.
FLAT_RANGE = 1e-4

_GLOBAL_METHODS = {
    "otsu": filters.threshold_otsu,
    "li": filters.threshold_li,
    "triangle": filters.threshold_triangle,
    "yen": filters.threshold_yen,
}


@dataclass(frozen=True, eq=False)
class ThresholdResult:
    """The foreground mask and how it was obtained.

    Attributes
    ----------
    mask : ndarray of bool, shape (H, W)
        True on particles (whatever their polarity); False in the excluded data bar.
    value : float
        The global threshold in [0, 1] (for ``local``, the mean local threshold).
    polarity : str
        ``"bright"`` (bright particles on dark) or ``"dark"``.
    warnings : tuple of str
    certainty : ndarray of float32, shape (H, W), or None
        How sure each pixel's side of the threshold is, 0-1: the distance to the threshold in units
        of three noise standard deviations (classical), or ``|2 P(particle) - 1|`` (network). The
        ``confidence`` column of the particle table is its mean over each particle.
    """

    mask: np.ndarray
    value: float
    polarity: str
    warnings: tuple[str, ...] = ()
    certainty: np.ndarray | None = None


#: The histogram is taken on every (rows // this)-th row and (columns // this)-th column.
HISTOGRAM_SIDE = 512


def global_threshold(values: np.ndarray, method: str) -> float:
    """Return the threshold of a 1-D or 2-D array of [0, 1] values by a named global method.

    >>> global_threshold(np.r_[np.zeros(50), np.ones(50)], "otsu") < 1.0
    True
    """
    if method not in _GLOBAL_METHODS:
        raise ValueError(f"unknown threshold method {method!r}")
    values = np.asarray(values, dtype=np.float32).ravel()
    low, high = float(values.min()), float(values.max())
    if high - low < FLAT_RANGE:  # constant, or only rounding noise: nothing to separate
        return high
    return float(_GLOBAL_METHODS[method](values))


def histogram_valley_ratio(values: np.ndarray, threshold: float, *, bins: int = 64) -> float:
    """Depth of the histogram valley between the classes split at ``threshold``.

    Returns the lowest (3-bin smoothed) histogram count between the peak below and the peak
    above ``threshold``, divided by the smaller peak: near 0 for two well separated modes, 1 when
    there is no valley at all.

    >>> histogram_valley_ratio(np.r_[np.zeros(50), np.ones(50)], 0.5)
    0.0
    """
    counts, _ = np.histogram(np.asarray(values, dtype=np.float32).ravel(), bins=bins, range=(0.0, 1.0))
    counts = np.convolve(counts, np.ones(3) / 3, mode="same")
    split = int(np.clip(threshold * bins, 1, bins - 1))
    low_peak = int(np.argmax(counts[:split]))
    high_peak = split + int(np.argmax(counts[split:]))
    smaller = min(counts[low_peak], counts[high_peak])
    if smaller <= 0:
        return 1.0
    return float(counts[low_peak : high_peak + 1].min() / smaller)


def local_mean(image: np.ndarray, *, block_px: int) -> np.ndarray:
    """Gaussian-weighted local mean over a window of about ``block_px``."""
    return cv2.GaussianBlur(image, (0, 0), (int(block_px) | 1) / 6.0, borderType=cv2.BORDER_REFLECT)


@dataclass(frozen=True, eq=False)
class HistogramAnalysis:
    """What a threshold change does not alter: Otsu's value, the bimodality check, the polarity.

    Computed once per preprocessed image, so that dragging a manual threshold stays fast.
    """

    otsu: float
    valley_ratio: float
    detected_polarity: str
    sample: np.ndarray


def analyse_histogram(image: np.ndarray, *, analysis_rows: int | None = None, analysis_top: int = 0) -> HistogramAnalysis:
    """Otsu threshold, histogram valley depth and detected polarity of the analysed rows."""
    height = image.shape[0] if analysis_rows is None else analysis_rows
    region = image[analysis_top:height]
    sample = region[:: max(1, region.shape[0] // HISTOGRAM_SIDE), :: max(1, region.shape[1] // HISTOGRAM_SIDE)]
    otsu = global_threshold(sample, "otsu")
    return HistogramAnalysis(
        otsu=otsu,
        valley_ratio=histogram_valley_ratio(sample, otsu),
        detected_polarity=detect_polarity(region, otsu),
        sample=sample,
    )


def threshold_image(
    image: np.ndarray,
    params: ThresholdParams,
    *,
    analysis_rows: int | None = None,
    analysis_top: int = 0,
    analysis: HistogramAnalysis | None = None,
) -> ThresholdResult:
    """Separate particles from background.

    Parameters
    ----------
    image : ndarray of float32, shape (H, W), values in [0, 1]
        The preprocessed image.
    params : ThresholdParams
    analysis_rows : int, optional
        Only rows above this index are analysed (the rest is the data bar); default all.
    analysis_top : int
        Nor are the rows above this one (a data bar at the top of the image).
    analysis : HistogramAnalysis, optional
        The result of :func:`analyse_histogram` for the same image and rows, if already known.

    Returns
    -------
    ThresholdResult
    """
    height = image.shape[0] if analysis_rows is None else analysis_rows
    region = image[analysis_top:height]
    if analysis is None:
        analysis = analyse_histogram(image, analysis_rows=height, analysis_top=analysis_top)
    warnings: list[str] = []
    sample, otsu, valley = analysis.sample, analysis.otsu, analysis.valley_ratio
    if params.method == "manual":
        value = float(params.manual_value)
    elif params.method == "local":
        value = otsu
    else:
        value = global_threshold(sample, params.method)
    if valley > BIMODAL_VALLEY_RATIO:
        warnings.append(
            f"The intensity histogram is not clearly bimodal (valley at {valley:.0%} of the smaller peak); "
            "the threshold may be unreliable: try denoising, background flattening or a manual threshold."
        )
    polarity = params.polarity
    if polarity == "auto":
        polarity = analysis.detected_polarity
    if params.method == "local":
        mean = local_mean(region, block_px=params.local_block_px)
        offset = np.float32(params.local_offset)
        mask_region = region > mean + offset if polarity == "bright" else region < mean - offset
        value = float(mean.mean())
    else:
        mask_region = region > value if polarity == "bright" else region <= value
    mask = np.zeros(image.shape, dtype=bool)
    mask[analysis_top:height] = mask_region
    if params.method == "local":
        level = mean + offset if polarity == "bright" else mean - offset
    else:
        level = np.float32(value)
    certainty = np.ones(image.shape, dtype=np.float32)  # the data bar: nothing to doubt
    certainty[analysis_top:height] = _certainty(region, level, background_spread(region, mask_region))
    return ThresholdResult(mask=mask, value=value, polarity=polarity, warnings=tuple(warnings), certainty=certainty)


def background_spread(region: np.ndarray, particles: np.ndarray) -> float:
    """Robust standard deviation of the background's grey levels.

    The background is the side of the threshold that is not particle; the spread says how far noise
    and unevenness reach, at the scale the threshold sees them.

    >>> rng = np.random.default_rng(0)
    >>> image = rng.normal(0.3, 0.05, (200, 200)).astype(np.float32)
    >>> round(background_spread(image, image > 0.5), 2)
    0.05
    """
    step = max(1, int(np.sqrt(region.size / 250_000)))
    values = region[::step, ::step][~particles[::step, ::step]]
    if values.size < 16:
        return 0.01
    return max(1.4826 * float(np.median(np.abs(values - np.median(values)))), 1e-3)


def _certainty(region: np.ndarray, level, sigma: float) -> np.ndarray:
    """|region - level| / (3 sigma), clipped to 1 (float32); ``level`` a number or a map like ``region``."""
    certainty = np.abs(region - level).astype(np.float32, copy=False)
    certainty *= np.float32(1.0 / (3.0 * sigma))
    np.minimum(certainty, 1.0, out=certainty)
    return certainty
