"""Per-particle measurements from a label image, in pixels and in calibrated units.

The cost follows the particles' outlines, not their number or the image size: the label image
is read once to find its horizontal runs (maximal segments of one label in one row). From
the runs alone, with ``np.bincount`` over all particles at once, come the area, centroid,
second moments and mean intensity (``np.add.reduceat``). The run ends are the candidate
convex-hull vertices; the hulls come from ``cv2.convexHull`` and their Feret diameters, areas and
lengths are computed in batches. The perimeter is the hull's, times a concavity ratio for
particles that are not convex (:mod:`particle_gui.core.analysis.perimeter`): it does not depend
on the particle's orientation on the pixel grid.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from particle_gui.core.analysis.perimeter import concavity_ratios, hull_perimeter

#: Columns in pixels; each with a length dimension gets a calibrated twin (see ``LENGTH_COLUMNS``).
LENGTH_COLUMNS = ("ecd", "perimeter", "feret_max", "feret_min", "major_axis", "minor_axis")
AREA_COLUMNS = ("area",)

#: Hulls are padded to a common length and processed in batches of about this many
#: (hull, vertex, vertex) triples, which bounds the temporary arrays (~32 MB each).
_HULL_BATCH_ELEMENTS = 1 << 22
#: Intensity sums copy at most about this many pixels at a time as float64 (32 MB).
_INTENSITY_BLOCK_PIXELS = 1 << 22


class _Runs:
    """Horizontal runs of a label image, sorted by label, then row, then column.

    Attributes: ``label``, ``row``, ``start``, ``stop`` (inclusive columns), and ``first``
    (index of each label's first run; ``ids`` the labels in order).
    """

    def __init__(self, labels: np.ndarray) -> None:
        height, width = labels.shape
        flat = np.ascontiguousarray(labels).ravel()
        change = np.flatnonzero(flat[1:] != flat[:-1])  # flat[t] != flat[t + 1]
        starts, stops = change + 1, change
        starts, stops = starts[flat[starts] != 0], stops[flat[stops] != 0]
        # A run also starts at each row's first pixel and stops at each row's last one, which
        # the changes miss where one label goes on across the row boundary (a particle touching
        # both sides) and at the first and last pixel of the image.
        first = np.arange(1, height, dtype=np.int64) * width  # first pixels of rows 1..H-1
        last = first - 1  # last pixels of rows 0..H-2
        missed_starts = first[(flat[first] != 0) & (flat[first - 1] == flat[first])]
        missed_stops = last[(flat[last] != 0) & (flat[last + 1] == flat[last])]
        if flat.size and flat[0] != 0:
            missed_starts = np.r_[0, missed_starts]
        if flat.size and flat[-1] != 0:
            missed_stops = np.r_[missed_stops, flat.size - 1]
        if missed_starts.size:
            starts = np.sort(np.concatenate([starts, missed_starts]))
        if missed_stops.size:
            stops = np.sort(np.concatenate([stops, missed_stops]))
        label = flat[starts]
        self._raster = starts, stops
        self._order = order = np.argsort(label, kind="stable")
        self.flat_start, self.flat_stop = starts[order], stops[order]
        self.label = label[order].astype(np.int64)
        self.row, self.start = np.divmod(self.flat_start, width)
        self.stop = self.flat_stop - self.row * width
        self.first = np.flatnonzero(np.r_[True, self.label[1:] != self.label[:-1]]) if self.label.size else self.label
        self.ids = self.label[self.first]
        self.index = np.cumsum(np.r_[0, self.label[1:] != self.label[:-1]]) if self.label.size else self.label
        self.shape = (height, width)

    def intensity_sums(self, intensity: np.ndarray) -> np.ndarray:
        """Sum of ``intensity`` over each run (float64), by ``np.add.reduceat`` in raster order.

        ``reduceat`` with a float64 result first copies its whole input as float64 (8 bytes a
        pixel); it runs here on blocks of whole runs instead, each block's copy bounded by
        :data:`_INTENSITY_BLOCK_PIXELS`, which gives every run the same sum.
        """
        starts, stops = self._raster
        flat = intensity.ravel()
        sums = np.empty(starts.size, dtype=np.float64)
        first = 0
        while first < starts.size:
            # Runs from ``first`` whose starts lie within the block (at least one run).
            end = max(first + 1, int(np.searchsorted(starts, starts[first] + _INTENSITY_BLOCK_PIXELS)))
            low = starts[first]
            block = flat[low : stops[end - 1] + 1].astype(np.float64)
            # Segments [start, stop + 1) alternate with the gaps between runs; the block ends
            # where its last run does, so reduceat's last segment is that run.
            bounds = np.stack([starts[first:end] - low, stops[first:end] + 1 - low], axis=1).ravel()[:-1]
            sums[first:end] = np.add.reduceat(block, bounds)[::2]
            first = end
        sums[-1] = flat[starts[-1] : stops[-1] + 1].sum(dtype=np.float64)
        return sums[self._order]

    def sums(self, weights: np.ndarray) -> np.ndarray:
        """Per-particle sums of a per-run quantity."""
        return np.bincount(self.index, weights, minlength=self.ids.size)


def _hull_features(hulls: list[np.ndarray]) -> np.ndarray:
    """Feret max, Feret min, convex area and hull length of each integer hull (of pixel centres): (N, 4).

    Feret widths get one pixel added so that they span the pixels' outer edges (a 10-pixel
    wide square has a Feret diameter of 10, not 9); the convex area is that of the hull grown
    by half a pixel (Minkowski sum with a disc). Hulls are batched by length and padded with
    their first vertex, which changes no extent and adds only zero-length edges. Distances
    and caliper widths are computed exactly in integers, then divided once per edge.
    """
    n = len(hulls)
    result = np.zeros((n, 4), dtype=np.float64)
    if n == 0:
        return result
    lengths = np.fromiter((len(h) for h in hulls), dtype=np.int64, count=n)
    points = np.concatenate(hulls).reshape(-1, 2).astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    # Coordinates relative to each hull's first vertex: int32 holds every product exactly
    # while particles are under 16384 px across.
    points -= np.repeat(points[starts], lengths, axis=0)
    if np.abs(points).max() < 1 << 14:
        points = points.astype(np.int32)
    small = lengths < 3
    for index in np.flatnonzero(small):  # a point or a segment: no area, no edge normals
        span = np.ptp(points[starts[index] : starts[index] + lengths[index]], axis=0).astype(np.float64)
        # The pixels' centres are collinear: the particle is one pixel wide across its length.
        result[index] = np.hypot(*span) + 1.0, 1.0, np.hypot(*span) + np.pi / 4, 2 * np.hypot(*span)
    order = np.flatnonzero(~small)
    order = order[np.argsort(lengths[order], kind="stable")]
    done = 0
    while done < order.size:
        # Shortest hulls first: the batch's longest hull sets the padded width.
        width = int(lengths[order[min(done + 511, order.size - 1)]])
        chunk = order[done : done + max(1, min(512, _HULL_BATCH_ELEMENTS // width**2))]
        done += chunk.size
        width = int(lengths[chunk[-1]])
        position = np.arange(width)
        source = starts[chunk, None] + np.where(position < lengths[chunk, None], position, 0)
        following = starts[chunk, None] + np.where(position + 1 < lengths[chunk, None], position + 1, 0)
        x, y = points[source, 0], points[source, 1]  # (n, width)
        x_next, y_next = points[following, 0], points[following, 1]  # next vertex, closing the polygon
        dx, dy = x[:, :, None] - x[:, None, :], y[:, :, None] - y[:, None, :]
        feret_max = np.sqrt((dx * dx + dy * dy).max(axis=(1, 2)))
        ex, ey = x_next - x, y_next - y  # edge vectors
        edge_length = np.hypot(ex, ey)
        # Caliper width across edge e: spread of the cross products p x e, over |e|.
        cross = y[:, :, None] * ex[:, None, :] - x[:, :, None] * ey[:, None, :]  # (n, point, edge)
        spread = cross.max(axis=1) - cross.min(axis=1)
        valid = edge_length > 0
        widths = np.where(valid, spread / np.where(valid, edge_length, 1.0), np.inf)
        area = 0.5 * np.abs((x * y_next - x_next * y).sum(axis=1))
        result[chunk, 0] = feret_max + 1.0
        result[chunk, 1] = widths.min(axis=1) + 1.0
        result[chunk, 2] = area + 0.5 * edge_length.sum(axis=1) + np.pi / 4
        result[chunk, 3] = edge_length.sum(axis=1)
    return result


def _particle_features(labels: np.ndarray, intensity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids present, feature rows by id, and hull features of the particles in ``labels``.

    The rows are area, cx, cy, mxx, myy, mxy, mean intensity, bounding-box width and height.
    """
    runs = _Runs(labels)
    if runs.ids.size == 0:
        return runs.ids, np.zeros((9, 0)), np.zeros((0, 4))
    x0, x1 = runs.start.astype(np.float64), runs.stop.astype(np.float64)
    y = runs.row.astype(np.float64)
    length = x1 - x0 + 1
    sum_x_run = (x0 + x1) * length / 2
    # Sum of x^2 over x0..x1 = S(x1) - S(x0 - 1), S(m) = m (m + 1) (2m + 1) / 6; exact in float64.
    sum_xx_run = (x1 * (x1 + 1) * (2 * x1 + 1) - (x0 - 1) * x0 * (2 * x0 - 1)) / 6
    area = runs.sums(length)
    cx, cy = runs.sums(sum_x_run) / area, runs.sums(y * length) / area
    mxx = runs.sums(sum_xx_run) / area - cx**2
    myy = runs.sums(y * y * length) / area - cy**2
    mxy = runs.sums(y * sum_x_run) / area - cx * cy
    mean = runs.sums(runs.intensity_sums(intensity)) / area
    last = np.r_[runs.first[1:], runs.label.size] - 1
    box_width = (np.maximum.reduceat(runs.stop, runs.first) - np.minimum.reduceat(runs.start, runs.first) + 1).astype(np.float64)
    box_height = (runs.row[last] - runs.row[runs.first] + 1).astype(np.float64)
    values = np.stack([area, cx, cy, mxx, myy, mxy, mean, box_width, box_height])

    points = np.empty((2 * runs.label.size, 2), dtype=np.int32)  # both ends of every run, (x, y)
    points[0::2, 0], points[1::2, 0] = runs.start, runs.stop
    points[0::2, 1] = points[1::2, 1] = runs.row
    bounds = (2 * np.r_[runs.first, runs.label.size]).tolist()
    hulls = [cv2.convexHull(points[a:b], returnPoints=True) for a, b in zip(bounds[:-1], bounds[1:])]
    return runs.ids, values, _hull_features(hulls)


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
        feret_max, feret_min, major_axis, minor_axis (px), feret_ratio (Feret max / min),
        ellipse_ratio (major / minor axis of the equivalent ellipse, ImageJ's "AR"),
        bbox_width, bbox_height (px), circularity, solidity, mean_intensity, touches_edge, and
        calibrated twins when calibrated.

    Examples
    --------
    >>> labels = np.zeros((20, 20), np.int32); labels[5:9, 5:15] = 1
    >>> table = measure_particles(labels, np.zeros((20, 20), np.float32))
    >>> int(table.loc[0, "area"]), float(table.loc[0, "feret_min"])
    (40, 4.0)
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError("labels must be a 2-D label image")
    if np.shape(intensity) != labels.shape:
        raise ValueError("intensity must have the shape of labels")
    intensity = np.ascontiguousarray(intensity)
    ids, values, hull = _particle_features(labels, intensity)
    n = ids.size
    if n == 0:
        return _empty_table(pixel_size_nm)
    area_ids, cx, cy, mxx, myy, mxy, mean_grey, box_width, box_height = values
    feret_max, feret_min, convex_area, hull_length = hull.T
    solidity = np.minimum(np.divide(area_ids, convex_area, out=np.ones(n), where=convex_area > 0), 1.0)
    perimeter = hull_perimeter(hull_length) * concavity_ratios(labels, ids, solidity)
    # Second central moments -> ellipse axes (as scikit-image: 4 * sqrt(eigenvalue)).
    common = np.sqrt(((mxx - myy) / 2) ** 2 + mxy**2)
    major = 4 * np.sqrt(np.maximum((mxx + myy) / 2 + common, 0))
    minor = 4 * np.sqrt(np.maximum((mxx + myy) / 2 - common, 0))
    columns = {
        "id": ids,
        "centroid_x": cx,
        "centroid_y": cy,
        "area": area_ids,
        "perimeter": perimeter,
        "ecd": np.sqrt(4 * area_ids / np.pi),
        "feret_max": feret_max,
        "feret_min": feret_min,
        "major_axis": major,
        "minor_axis": minor,
        "feret_ratio": np.divide(feret_max, feret_min, out=np.ones(n), where=feret_min > 0),
        "ellipse_ratio": np.divide(major, minor, out=np.ones(n), where=minor > 0),
        "bbox_width": box_width,
        "bbox_height": box_height,
        "circularity": np.minimum(
            np.divide(4 * np.pi * area_ids, perimeter**2, out=np.ones(n), where=perimeter > 0), 1.0
        ),
        "solidity": solidity,
        "mean_intensity": mean_grey * intensity_scale + intensity_offset,
        "touches_edge": np.zeros(n, dtype=bool) if edge_ids is None else np.isin(ids, edge_ids),
    }
    table = pd.DataFrame({name: np.ascontiguousarray(column) for name, column in columns.items()})
    return add_calibrated_columns(table, pixel_size_nm)


#: A particle larger than this fraction of the analysed area is reported: often the background
#: taken for a particle (wrong polarity, a screenshot's frame), sometimes one giant particle.
LARGE_PARTICLE_FRACTION = 0.25


def large_particle_warning(areas: np.ndarray, analysed_pixels: int) -> str | None:
    """A warning when the largest particle covers more than :data:`LARGE_PARTICLE_FRACTION` of the image.

    >>> large_particle_warning(np.array([10.0, 600.0]), 1000)
    'One particle covers 60 % of the analysed image; check the polarity and the threshold.'
    >>> large_particle_warning(np.array([10.0]), 1000) is None
    True
    """
    if len(areas) == 0 or analysed_pixels <= 0:
        return None
    fraction = float(np.max(areas)) / analysed_pixels
    if fraction <= LARGE_PARTICLE_FRACTION:
        return None
    return f"One particle covers {fraction * 100:.0f} % of the analysed image; check the polarity and the threshold."


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
             "major_axis", "minor_axis", "feret_ratio", "ellipse_ratio", "bbox_width", "bbox_height", "circularity",
             "solidity", "mean_intensity"]
    table = pd.DataFrame({name: pd.Series(dtype=np.int64 if name == "id" else np.float64) for name in names})
    table["touches_edge"] = pd.Series(dtype=bool)
    return add_calibrated_columns(table, pixel_size_nm)


def add_confidence_column(table: pd.DataFrame, labels: np.ndarray, certainty: np.ndarray | None) -> pd.DataFrame:
    """``table`` with a ``confidence`` column: the mean per-pixel certainty (0-1) over each particle.

    The column is NaN without a certainty map (see :class:`~particle_gui.core.analysis.threshold.ThresholdResult`).

    >>> labels = np.array([[1, 1, 0, 2]]); certainty = np.array([[1.0, 0.5, 0.0, 0.2]], np.float32)
    >>> table = pd.DataFrame({"id": [1, 2]})
    >>> add_confidence_column(table, labels, certainty)["confidence"].round(2).tolist()
    [0.75, 0.2]
    """
    table = table.copy()
    if certainty is None or len(table) == 0:
        table["confidence"] = np.nan
        return table
    flat = np.asarray(labels).ravel()
    sums = np.bincount(flat, weights=np.asarray(certainty, dtype=np.float64).ravel())
    counts = np.bincount(flat)
    ids = table["id"].to_numpy(dtype=np.int64)
    inside = ids < counts.size
    values = np.full(ids.size, np.nan)
    values[inside] = sums[ids[inside]] / np.maximum(counts[ids[inside]], 1)
    table["confidence"] = values
    return table
