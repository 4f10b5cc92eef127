"""Perimeters that do not depend on how a particle lies on the pixel grid.

A pixel outline is a staircase: counting its steps (chain codes) or its crossings (Crofton, 4
directions) gives a length that changes with orientation, a square reading circularity 0.88 at
0 degrees and 0.75 at 22.5 degrees (true pi/4 = 0.785). Here the perimeter is that of the convex
hull of the pixel centres grown by half a pixel (``hull length + pi``: exact for convex shapes
up to the grid's sampling), times a concavity ratio for particles that are not convex: the
length of the outline over that of its hull, both traced through pixel centres and smoothed
along the curve the same way, so that the staircase cancels and only real concavities count.

>>> import numpy as np
>>> mask = np.zeros((40, 40), np.int32); mask[5:35, 5:35] = 1
>>> round(float(concavity_ratios(mask, np.array([1]), np.array([0.5]))[0]), 3)
1.0
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi

#: Particles at least this solid are taken as convex (ratio 1) without tracing their outline.
CONVEX_SOLIDITY = 0.97
#: Gaussian smoothing of the traced outline, in outline points (about pixels): removes the
#: staircase (period 2-3 px at most angles) while keeping real concavities a few pixels deep.
SMOOTHING_POINTS = 1.5


def hull_perimeter(hull_edge_length_sum: np.ndarray) -> np.ndarray:
    """Perimeter of the hull of pixel centres grown by half a pixel: hull length + pi."""
    return np.asarray(hull_edge_length_sum, dtype=np.float64) + np.pi


def _smoothed_length(points: np.ndarray) -> float:
    smooth = np.stack([ndi.gaussian_filter1d(points[:, k], SMOOTHING_POINTS, mode="wrap") for k in (0, 1)], axis=1)
    steps = np.diff(np.vstack([smooth, smooth[:1]]), axis=0)
    return float(np.hypot(steps[:, 0], steps[:, 1]).sum())


def _resampled(polygon: np.ndarray) -> np.ndarray:
    """Points every pixel or less along a closed polygon (its vertices included)."""
    following = np.roll(polygon, -1, axis=0)
    lengths = np.hypot(*(following - polygon).T)
    counts = np.maximum(np.ceil(lengths).astype(np.int64), 1)
    edge = np.repeat(np.arange(len(polygon)), counts)
    fraction = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / counts[edge]
    return polygon[edge] + fraction[:, None] * (following[edge] - polygon[edge])


def concavity_ratios(labels: np.ndarray, ids: np.ndarray, solidity: np.ndarray) -> np.ndarray:
    """Outline length over hull length (>= 1) of each particle in ``ids``; 1 for convex ones.

    Parameters
    ----------
    labels : ndarray of int, shape (H, W)
    ids : ndarray of int
        The particles, in the order of ``solidity``.
    solidity : ndarray of float
        Area over convex area; particles at least :data:`CONVEX_SOLIDITY` solid are not traced.

    Returns
    -------
    ndarray of float
    """
    ratios = np.ones(ids.size, dtype=np.float64)
    concave = np.flatnonzero(np.asarray(solidity) < CONVEX_SOLIDITY)
    if concave.size == 0:
        return ratios
    boxes = ndi.find_objects(labels)
    for index in concave:
        box = boxes[int(ids[index]) - 1]
        if box is None:
            continue
        crop = np.pad((labels[box] == ids[index]).astype(np.uint8), 1)
        contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        pieces = [c[:, 0, :].astype(np.float64) for c in contours if len(c) >= 5]
        if not pieces:
            continue
        outline = sum(_smoothed_length(p) for p in pieces)
        hull = cv2.convexHull(np.vstack(pieces).astype(np.float32))[:, 0, :].astype(np.float64)
        if len(hull) < 3:
            continue
        ratios[index] = max(1.0, outline / _smoothed_length(_resampled(hull)))
    return ratios
