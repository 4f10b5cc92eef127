"""Hot and cold pixels: isolated detector outliers replaced by their neighbourhood's median.

Dead or hot camera pixels and cosmic-ray hits on TEM cameras are single pixels (or pairs) far
brighter or darker than everything around them. They are found as pixels that differ from the
median of their 3 x 3 neighbourhood, and from all their neighbours but one, by more than
:data:`THRESHOLD_SIGMA` times the image's robust noise level (and by at least :data:`MIN_STEP` of the
range). Particle edges, thin rims and textures move whole runs of pixels together and are left
alone.
"""

from __future__ import annotations

import cv2
import numpy as np

#: How far (in robust noise standard deviations) an outlier lies from its neighbourhood's median.
THRESHOLD_SIGMA = 6.0
#: ... and at least this far, as a fraction of the [0, 1] range.
MIN_STEP = 0.12
#: An image where more pixels than this fraction stand out is noise, not outliers: left as it is.
MAX_FRACTION = 0.05
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def replace_outlier_pixels(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """``grey`` with its isolated outlier pixels set to their 3 x 3 median, and how many there were.

    Parameters
    ----------
    grey : ndarray of float32, shape (H, W), values in [0, 1]

    Returns
    -------
    cleaned : ndarray of float32, shape (H, W)
        ``grey`` itself when nothing was replaced.
    count : int

    Examples
    --------
    >>> image = np.full((20, 20), 0.3, np.float32) + np.random.default_rng(0).normal(0, 0.01, (20, 20)).astype(np.float32)
    >>> image[5, 7] = 1.0; image[12, 3] = 0.0
    >>> cleaned, count = replace_outlier_pixels(image)
    >>> count, round(float(cleaned[5, 7]), 1), round(float(cleaned[12, 3]), 1)
    (2, 0.3, 0.3)
    """
    grey = np.ascontiguousarray(grey, dtype=np.float32)
    if grey.ndim != 2 or min(grey.shape) < 3:
        return grey, 0
    median = cv2.medianBlur(grey, 3)
    diff = grey - median
    sample = diff[:: max(1, grey.shape[0] // 256), :: max(1, grey.shape[1] // 256)]
    noise = 1.4826 * float(np.median(np.abs(sample)))
    step = max(THRESHOLD_SIGMA * noise, MIN_STEP)
    ys, xs = np.nonzero(np.abs(diff) > step)
    outliers = np.zeros(grey.shape, dtype=bool)
    if ys.size == 0 or ys.size > MAX_FRACTION * grey.size:
        return grey, 0
    padded = np.pad(grey, 1, mode="reflect")  # a border pixel's neighbours, never itself
    around = np.stack([padded[ys + 1 + dy, xs + 1 + dx] for dy, dx in _NEIGHBOURS], axis=1)
    values = grey[ys, xs]
    ordered = np.sort(around, axis=1)
    # A spike stands out from all its neighbours (a single pixel), or from all but one that is a
    # spike too (a pair); the end of a thin line, whose one bright neighbour continues the line, does not.
    for sign in (1.0, -1.0):
        lead = ordered[:, -1] if sign > 0 else ordered[:, 0]
        second = ordered[:, -2] if sign > 0 else ordered[:, 1]
        candidate = sign * (values - second) > step
        single = candidate & (sign * (values - lead) > step)
        marked = np.zeros(grey.shape, dtype=bool)
        marked[ys[candidate], xs[candidate]] = True
        partner = np.argmax(sign * around, axis=1)
        py = ys + np.array([d[0] for d in _NEIGHBOURS])[partner]
        px = xs + np.array([d[1] for d in _NEIGHBOURS])[partner]
        inside = (py >= 0) & (py < grey.shape[0]) & (px >= 0) & (px < grey.shape[1])
        paired = candidate & ~single & inside & marked[np.clip(py, 0, grey.shape[0] - 1), np.clip(px, 0, grey.shape[1] - 1)]
        keep = single | paired
        outliers[ys[keep], xs[keep]] = True
    count = int(np.count_nonzero(outliers))
    if count == 0:
        return grey, 0
    cleaned = grey.copy()
    cleaned[outliers] = median[outliers]
    return cleaned, count
