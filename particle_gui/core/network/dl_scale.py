"""Intensity normalisation, resampling and training targets for the deep-learning segmentation.

Pure NumPy/OpenCV, shared by the engine (:mod:`particle_gui.core.network.dl`) and the training code
(``training/``), so that the network sees at run time exactly what it saw in training.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi

#: Class order of the network's output channels.
CLASSES: tuple[str, ...] = ("background", "interior", "border")

#: Percentiles mapped to 0 and 1 by :func:`normalise_intensity`.
NORMALISE_PERCENTILES: tuple[float, float] = (0.5, 99.5)


def normalise_intensity(grey: np.ndarray, *, percentiles: tuple[float, float] = NORMALISE_PERCENTILES) -> np.ndarray:
    """Map the given percentiles of ``grey`` to 0 and 1 (not clipped), as float32.

    Parameters
    ----------
    grey : ndarray, shape (H, W)

    Returns
    -------
    ndarray of float32, shape (H, W)

    Examples
    --------
    >>> out = normalise_intensity(np.linspace(0, 10, 1001).reshape(7, 143), percentiles=(0, 100))
    >>> float(out.min()), float(out.max())
    (0.0, 1.0)
    """
    grey = np.asarray(grey, dtype=np.float32)
    low, high = intensity_range(grey[:: max(1, grey.shape[0] // 512), :: max(1, grey.shape[1] // 512)],
                                percentiles=percentiles)
    return (grey - np.float32(low)) * np.float32(1.0 / (high - low))


def intensity_range(sample: np.ndarray, *, percentiles: tuple[float, float] = NORMALISE_PERCENTILES) -> tuple[float, float]:
    """The values :func:`normalise_intensity` maps to 0 and 1, from a sample of the image's pixels.

    The sample is every ``H // 512``-th row and ``W // 512``-th column (a montage gathers the same
    pixels from its tiles, so that each tile is normalised as the whole image would be).
    """
    low, high = (float(v) for v in np.percentile(sample, percentiles))
    return (low, low + 1.0) if high - low < 1e-6 else (low, high)


def resize(array: np.ndarray, shape: tuple[int, int], *, nearest: bool = False) -> np.ndarray:
    """Resample a 2-D (or 2-D x channels) array to ``shape`` = (rows, cols).

    Area averaging when shrinking, bilinear when enlarging; ``nearest`` for label images.
    """
    rows, cols = int(shape[0]), int(shape[1])
    if array.shape[:2] == (rows, cols):
        return array
    if nearest:
        interpolation = cv2.INTER_NEAREST
    elif rows * cols < array.shape[0] * array.shape[1]:
        interpolation = cv2.INTER_AREA
    else:
        interpolation = cv2.INTER_LINEAR
    src = array.astype(np.float32) if array.dtype not in (np.uint8, np.uint16, np.float32) else array
    if nearest and array.dtype.kind in "iu" and array.dtype not in (np.uint8, np.uint16):
        src = array.astype(np.float32)  # OpenCV has no int32 nearest for every build; exact up to 2**24 labels
    out = cv2.resize(src, (cols, rows), interpolation=interpolation)
    return out.astype(array.dtype) if nearest else out


def scaled_shape(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    """Shape of an image of ``shape`` resampled by ``scale`` (at least 1 x 1)."""
    return max(1, int(round(shape[0] * scale))), max(1, int(round(shape[1] * scale)))


def typical_diameter(labels: np.ndarray) -> float:
    """Median equivalent circular diameter (px) of the labelled objects; NaN when there are none.

    Examples
    --------
    >>> labels = np.zeros((40, 40), int); labels[5:15, 5:15] = 1; labels[20:30, 20:30] = 2
    >>> round(typical_diameter(labels), 2)
    11.28
    """
    areas = np.bincount(np.asarray(labels).ravel().astype(np.int64))[1:]
    areas = areas[areas > 0]
    if areas.size == 0:
        return float("nan")
    return float(np.median(np.sqrt(4.0 * areas / np.pi)))


def area_weighted_diameter(areas: np.ndarray) -> float:
    """Area-weighted median equivalent diameter (px) of objects with these areas; NaN for none.

    Weighting by area keeps a few fragments or specks from pulling the typical size down.

    >>> round(area_weighted_diameter(np.array([1.0, 1.0, 1.0, 400.0])), 2)
    22.57
    """
    areas = np.sort(np.asarray(areas, dtype=np.float64))
    areas = areas[areas > 0]
    if areas.size == 0:
        return float("nan")
    cumulative = np.cumsum(areas)
    area = areas[int(np.searchsorted(cumulative, cumulative[-1] / 2.0))]
    return float(np.sqrt(4.0 * area / np.pi))


def three_class_target(labels: np.ndarray, *, border_px: int = 2) -> np.ndarray:
    """Background (0) / interior (1) / border (2) classes from an instance label image.

    A pixel of a particle is border when a pixel within ``border_px`` (chessboard distance)
    belongs to another label or the background, so touching particles are separated by a
    border band ``2 * border_px`` wide.

    Returns
    -------
    ndarray of uint8, shape (H, W)
    """
    labels = np.asarray(labels)
    size = 2 * border_px + 1
    low = ndi.minimum_filter(labels, size=size, mode="nearest")
    high = ndi.maximum_filter(labels, size=size, mode="nearest")
    target = np.zeros(labels.shape, dtype=np.uint8)
    particle = labels > 0
    target[particle] = 1
    target[particle & ((low != labels) | (high != labels))] = 2
    return target


def centre_target(labels: np.ndarray) -> np.ndarray:
    """Distance to each particle's outline divided by that particle's largest such distance.

    1 at a particle's deepest point, falling to about 0 at its outline and along every contact
    with a neighbour, 0 on the background: touching particles have separate peaks whatever
    their size, which is what seeds the split of a cluster.

    Returns
    -------
    ndarray of float32, shape (H, W)

    Examples
    --------
    >>> labels = np.zeros((9, 16), int); labels[2:7, 1:6] = 1; labels[2:7, 6:15] = 2
    >>> target = centre_target(labels)
    >>> [round(float(target[y, x]), 2) for y, x in ((4, 3), (4, 5), (0, 0))]
    [1.0, 0.2, 0.0]
    """
    labels = np.asarray(labels)
    particle = labels > 0
    padded = np.pad(labels, 1, mode="edge")
    same = np.ones(labels.shape, dtype=bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        same &= padded[dy : dy + labels.shape[0], dx : dx + labels.shape[1]] == labels
    distance = ndi.distance_transform_edt(particle & same).astype(np.float32) + np.float32(0.5) * particle
    ids = np.unique(labels[particle])
    if ids.size == 0:
        return np.zeros(labels.shape, dtype=np.float32)
    peak = np.zeros(int(ids.max()) + 1, dtype=np.float32)
    peak[ids] = ndi.maximum(distance, labels, ids)
    out = np.zeros(labels.shape, dtype=np.float32)
    out[particle] = distance[particle] / peak[labels[particle]]
    return out
