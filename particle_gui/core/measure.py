"""Per-particle measurements from a label image, in pixels and in calibrated units.

Area, centroid, intensity and moments are computed for all particles at once with
``np.bincount``; the outline features (perimeter, Feret diameters, convex hull) come from
each particle's bounding box.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.measure import perimeter_crofton

#: Columns in pixels; each with a length dimension gets a calibrated twin (see ``LENGTH_COLUMNS``).
LENGTH_COLUMNS = ("ecd", "perimeter", "feret_max", "feret_min", "major_axis", "minor_axis")
AREA_COLUMNS = ("area",)


def _hull(points_xy: np.ndarray) -> np.ndarray:
    return cv2.convexHull(points_xy.astype(np.float32))[:, 0, :]


def _feret(hull: np.ndarray) -> tuple[float, float]:
    """Largest and smallest caliper widths of the particle, from the hull of its pixel centres.

    One pixel is added to each width so that the result spans the pixels' outer edges
    (a 10-pixel-wide square has a Feret diameter of 10, not 9).
    """
    if len(hull) < 3:
        span = np.ptp(hull, axis=0) if len(hull) else np.zeros(2)
        return float(np.hypot(*span)) + 1.0, float(min(span)) + 1.0
    diffs = hull[:, None, :] - hull[None, :, :]
    feret_max = float(np.sqrt((diffs**2).sum(axis=2).max()))
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    valid = lengths > 0
    normals = np.stack([-edges[valid, 1], edges[valid, 0]], axis=1) / lengths[valid, None]
    projections = hull @ normals.T
    feret_min = float(np.min(projections.max(axis=0) - projections.min(axis=0)))
    return feret_max + 1.0, feret_min + 1.0


def _convex_area(hull: np.ndarray) -> float:
    """Area of the hull of the pixel centres grown by half a pixel (Minkowski sum with a disc)."""
    if len(hull) < 3:
        return float(np.hypot(*np.ptp(hull, axis=0))) + np.pi / 4 if len(hull) else 0.0
    closed = hull.reshape(-1, 1, 2)
    return float(cv2.contourArea(closed) + 0.5 * cv2.arcLength(closed, True) + np.pi / 4)


def _outline_features(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Perimeter, Feret max/min and convex area for each id: array of shape (N, 4)."""
    result = np.zeros((ids.size, 4), dtype=np.float64)
    slices = ndimage.find_objects(labels, max_label=int(ids.max()) if ids.size else 0)
    for row, particle_id in enumerate(ids):
        window = slices[particle_id - 1]
        if window is None:
            continue
        inside = labels[window] == particle_id
        crop = np.pad(inside, 1).view(np.uint8)
        contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        points = np.concatenate([c[:, 0, :] for c in contours]).astype(np.float32)
        hull = _hull(points)
        feret_max, feret_min = _feret(hull)
        result[row] = (perimeter_crofton(inside, directions=4), feret_max, feret_min, _convex_area(hull))
    return result


def measure_particles(
    labels: np.ndarray,
    intensity: np.ndarray,
    *,
    pixel_size_nm: float | None = None,
    edge_ids: np.ndarray | None = None,
    intensity_offset: float = 0.0,
    intensity_scale: float = 1.0,
) -> pd.DataFrame:
    """Measure every particle of a label image.

    Parameters
    ----------
    labels : ndarray of int, shape (H, W)
        0 = background, particles 1..N (gaps allowed).
    intensity : ndarray of float32, shape (H, W)
        The normalised grey image; mean intensity is reported in original units through
        ``intensity * intensity_scale + intensity_offset``.
    pixel_size_nm : float, optional
        When given, calibrated ``*_nm`` and ``area_nm2`` columns are added.
    edge_ids : ndarray of int, optional
        Particles touching the image edge or the data bar (flagged in ``touches_edge``).

    Returns
    -------
    pandas.DataFrame
        One row per particle: id, centroid_x, centroid_y, area (px²), perimeter, ecd,
        feret_max, feret_min, major_axis, minor_axis (px), aspect_ratio, circularity,
        solidity, mean_intensity, touches_edge, and calibrated twins when calibrated.

    Examples
    --------
    >>> labels = np.zeros((20, 20), np.int32); labels[5:9, 5:15] = 1
    >>> table = measure_particles(labels, np.zeros((20, 20), np.float32))
    >>> int(table.loc[0, "area"]), float(table.loc[0, "feret_min"])
    (40, 4.0)
    """
    labels = np.asarray(labels)
    flat = labels.ravel()
    count = int(flat.max()) + 1 if flat.size else 1
    area = np.bincount(flat, minlength=count).astype(np.float64)
    ids = np.flatnonzero(area)
    ids = ids[ids > 0]
    columns = _moment_features(labels, intensity, area, count)
    n = ids.size
    table = pd.DataFrame({"id": ids.astype(np.int64)})
    if n == 0:
        return _empty_table(pixel_size_nm)
    area_ids = area[ids]
    cx, cy, mxx, myy, mxy, mean_grey = (c[ids] for c in columns)
    # Second central moments -> ellipse axes (as scikit-image: 4 * sqrt(eigenvalue)).
    common = np.sqrt(((mxx - myy) / 2) ** 2 + mxy**2)
    major = 4 * np.sqrt(np.maximum((mxx + myy) / 2 + common, 0))
    minor = 4 * np.sqrt(np.maximum((mxx + myy) / 2 - common, 0))
    outline = _outline_features(labels, ids)
    perimeter, feret_max, feret_min, convex_area = outline.T
    table["centroid_x"] = cx
    table["centroid_y"] = cy
    table["area"] = area_ids
    table["perimeter"] = perimeter
    table["ecd"] = np.sqrt(4 * area_ids / np.pi)
    table["feret_max"] = feret_max
    table["feret_min"] = feret_min
    table["major_axis"] = major
    table["minor_axis"] = minor
    table["aspect_ratio"] = np.divide(feret_max, feret_min, out=np.ones(n), where=feret_min > 0)
    table["circularity"] = np.minimum(
        np.divide(4 * np.pi * area_ids, perimeter**2, out=np.ones(n), where=perimeter > 0), 1.0
    )
    table["solidity"] = np.minimum(np.divide(area_ids, convex_area, out=np.ones(n), where=convex_area > 0), 1.0)
    table["mean_intensity"] = mean_grey * intensity_scale + intensity_offset
    edge = np.zeros(n, dtype=bool) if edge_ids is None else np.isin(ids, edge_ids)
    table["touches_edge"] = edge
    return add_calibrated_columns(table, pixel_size_nm)


def _moment_features(labels: np.ndarray, intensity: np.ndarray, area: np.ndarray, count: int) -> list[np.ndarray]:
    flat = labels.ravel()
    height, width = labels.shape
    rows = np.repeat(np.arange(height, dtype=np.float64), width)
    cols = np.tile(np.arange(width, dtype=np.float64), height)
    safe = np.maximum(area, 1)
    sum_x = np.bincount(flat, cols, minlength=count)
    sum_y = np.bincount(flat, rows, minlength=count)
    cx, cy = sum_x / safe, sum_y / safe
    mxx = np.bincount(flat, cols * cols, minlength=count) / safe - cx**2
    myy = np.bincount(flat, rows * rows, minlength=count) / safe - cy**2
    mxy = np.bincount(flat, cols * rows, minlength=count) / safe - cx * cy
    mean_grey = np.bincount(flat, intensity.ravel(), minlength=count) / safe
    return [cx, cy, mxx, myy, mxy, mean_grey]


def add_calibrated_columns(table: pd.DataFrame, pixel_size_nm: float | None) -> pd.DataFrame:
    """Add ``<length>_nm`` and ``area_nm2`` columns (or replace them) for a pixel size."""
    table = table.drop(columns=[c for c in table.columns if c.endswith(("_nm", "_nm2"))])
    if pixel_size_nm is None:
        return table
    for name in LENGTH_COLUMNS:
        table[f"{name}_nm"] = table[name] * pixel_size_nm
    table["area_nm2"] = table["area"] * pixel_size_nm**2
    return table


def _empty_table(pixel_size_nm: float | None) -> pd.DataFrame:
    names = ["id", "centroid_x", "centroid_y", "area", "perimeter", "ecd", "feret_max", "feret_min",
             "major_axis", "minor_axis", "aspect_ratio", "circularity", "solidity", "mean_intensity"]
    table = pd.DataFrame({name: pd.Series(dtype=np.int64 if name == "id" else np.float64) for name in names})
    table["touches_edge"] = pd.Series(dtype=bool)
    return add_calibrated_columns(table, pixel_size_nm)
