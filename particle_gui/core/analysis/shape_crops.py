"""Scale-normalised particle crops: the input of the shape classifier.

Training (``training/shapes``) and inference (:mod:`particle_gui.core.analysis.shape_classes`) both
call :func:`particle_crops`, so the network sees crops made exactly the same way.

Each crop is a square window centred on the particle's bounding box, ``max(h, w) / fill``
pixels wide (the particle fills ``fill`` of the crop whatever its size), resized to
``size x size``. Two channels, float32:

0. intensity, flipped so that the particle is brighter than its surroundings on average,
   then standardised (zero mean, unit standard deviation over the crop) and clipped to +-4;
1. the particle's own mask (0..1; neighbours are 0).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi

CROP_SIZE = 64
CROP_FILL = 0.8
_CLIP = 4.0


def _window(array: np.ndarray, top: int, left: int, side: int, mode: str) -> np.ndarray:
    """``array[top:top+side, left:left+side]``, padded where it leaves the image."""
    height, width = array.shape
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + side, height), min(left + side, width)
    part = array[t0:t1, l0:l1]
    pads = ((t0 - top, top + side - t1), (l0 - left, left + side - l1))
    if any(p for pair in pads for p in pair):
        if part.size == 0:
            return np.zeros((side, side), dtype=array.dtype)
        part = np.pad(part, pads, mode=mode) if mode == "edge" else np.pad(part, pads)
    return part


def _standardise(grey: np.ndarray, inside: np.ndarray) -> None:
    """Standardise all crops (N, S, S) at once, in place.

    The particle is made the brighter side (when a crop has both particle and background pixels),
    then each crop gets zero mean and unit standard deviation (or all 0 for a flat crop), clipped to
    +-:data:`_CLIP`.
    """
    pixels = grey.shape[1] * grey.shape[2]
    count_in = inside.sum(axis=(1, 2))
    sum_all = grey.sum(axis=(1, 2), dtype=np.float64)
    sum_in = np.where(inside, grey, 0.0).sum(axis=(1, 2), dtype=np.float64)
    mean_in = sum_in / np.maximum(count_in, 1)
    mean_out = (sum_all - sum_in) / np.maximum(pixels - count_in, 1)
    flip = (count_in > 0) & (count_in < pixels) & (mean_in < mean_out)
    grey[flip] *= -1
    mean = grey.mean(axis=(1, 2), dtype=np.float64, keepdims=True)
    std = grey.std(axis=(1, 2), dtype=np.float64, keepdims=True)
    flat = std <= 1e-6
    grey -= mean.astype(np.float32)
    grey /= np.where(flat, 1.0, std).astype(np.float32)
    grey[flat[:, 0, 0]] = 0.0
    np.clip(grey, -_CLIP, _CLIP, out=grey)


def object_slices(labels: np.ndarray) -> list:
    """Each label's bounding box (``scipy.ndimage.find_objects``; None for absent labels)."""
    return ndi.find_objects(np.asarray(labels).astype(np.int32, copy=False)) if np.asarray(labels).size else []


def present_ids(slices: list) -> np.ndarray:
    """The labels that ``object_slices`` found, ascending (int64)."""
    return np.array([i + 1 for i, s in enumerate(slices) if s is not None], dtype=np.int64)


def _resize(window: np.ndarray, size: int) -> np.ndarray:
    interpolation = cv2.INTER_AREA if window.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(window, (size, size), interpolation=interpolation)


def particle_crops(
    image_grey: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray | None = None,
    *,
    size: int = CROP_SIZE,
    fill: float = CROP_FILL,
    slices: list | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one normalised two-channel crop per particle.

    Parameters
    ----------
    image_grey : ndarray of float, shape (H, W)
        The grey image (any range; each crop is standardised on its own).
    labels : ndarray of int, shape (H, W)
        0 = background, particles 1..N (gaps allowed).
    ids : ndarray of int, optional
        The particles to crop, in this order; by default every label present, ascending.
    size : int
        Side of the crops in pixels.
    fill : float
        Fraction of the crop side that the particle's longer bounding-box side covers.
    slices : list, optional
        ``object_slices(labels)``, when the caller crops the same label image several times.

    Returns
    -------
    ids : ndarray of int64, shape (N,)
    crops : ndarray of float32, shape (N, size, size, 2)

    Examples
    --------
    >>> labels = np.zeros((40, 40), np.int32); labels[10:20, 5:35] = 3
    >>> ids, crops = particle_crops(labels.astype(np.float32), labels, size=32)
    >>> ids.tolist(), crops.shape
    ([3], (1, 32, 32, 2))
    """
    image_grey = np.asarray(image_grey, dtype=np.float32)
    labels = np.asarray(labels)
    if image_grey.ndim != 2 or labels.shape != image_grey.shape:
        raise ValueError("image_grey and labels must be 2-D arrays of the same shape")
    if labels.dtype.kind not in "ui":
        raise ValueError(f"labels must be integers, not {labels.dtype}")
    if not 0.1 <= fill <= 1.0 or size < 8:
        raise ValueError("fill must be in [0.1, 1] and size at least 8")
    slices = object_slices(labels) if slices is None else slices
    ids = present_ids(slices) if ids is None else np.asarray(ids, dtype=np.int64).ravel()
    crops = np.zeros((ids.size, size, size, 2), dtype=np.float32)
    for k, label in enumerate(ids):
        if label <= 0 or label > len(slices) or slices[label - 1] is None:
            continue  # an absent particle: an all-zero crop
        rows, cols = slices[label - 1]
        extent = max(rows.stop - rows.start, cols.stop - cols.start)
        side = max(int(np.ceil(extent / fill)), 4)
        top = (rows.start + rows.stop - side) // 2
        left = (cols.start + cols.stop - side) // 2
        mask = (_window(labels, top, left, side, "constant") == label).astype(np.float32)
        crops[k, :, :, 0] = _resize(_window(image_grey, top, left, side, "edge"), size)
        crops[k, :, :, 1] = _resize(mask, size)
    _standardise(crops[..., 0], crops[..., 1] > 0.5)
    return ids, crops
