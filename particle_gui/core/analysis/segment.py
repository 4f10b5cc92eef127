"""From a foreground mask to a label image: clean-up, splitting touching particles, edges.

Splitting uses OpenCV's distance transform and runs a watershed only inside clumps that hold
more than one marker, on the clump's bounding box, so its cost follows the touching
particles rather than the image size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

from particle_gui.core.labels import LOOKUP_BLOCK_PIXELS, lookup
from particle_gui.core.params import SplitParams


def _components(mask: np.ndarray) -> tuple[int, np.ndarray]:
    count, labels = cv2.connectedComponents(mask.view(np.uint8) if mask.dtype == bool else mask, connectivity=8, ltype=cv2.CV_32S)
    return count - 1, labels


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill background regions not connected to the image border.

    >>> ring = np.zeros((7, 7), bool); ring[1:6, 1:6] = True; ring[3, 3] = False
    >>> bool(fill_holes(ring)[3, 3])
    True
    """
    padded = np.pad(mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8), 1)
    flood = padded.copy()
    fill_mask = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(flood, fill_mask, (0, 0), 1)
    holes = flood[1:-1, 1:-1] == 0
    return mask | holes


def fill_particle_holes(labels: np.ndarray) -> np.ndarray:
    """Fill each particle's own holes.

    These are background regions not connected to the border whose every neighbour is one particle,
    and islands (surface texture, a core) that touch nothing but one particle. Holes where several
    particles meet (the gaps between touching spheres) stay background, so they can separate the
    particles first.

    >>> labels = np.zeros((7, 12), np.int32); labels[1:6, 1:6] = 1; labels[1:6, 6:11] = 2
    >>> labels[3, 3] = 0; labels[3, 5:7] = 0      # a hole in 1, and a gap where 1 and 2 meet
    >>> filled = fill_particle_holes(labels)
    >>> int(filled[3, 3]), int(filled[3, 5]), int(filled[3, 6])
    (1, 0, 0)
    """
    background = labels == 0
    holes = fill_holes(~background) & background
    count, regions = _components(holes)
    out = labels.copy()
    if count:
        slices = ndimage.find_objects(regions)
        for index, box in enumerate(slices, start=1):
            y0, y1 = max(box[0].start - 1, 0), min(box[0].stop + 1, labels.shape[0])
            x0, x1 = max(box[1].start - 1, 0), min(box[1].stop + 1, labels.shape[1])
            region = regions[y0:y1, x0:x1] == index
            ring = cv2.dilate(region.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool) & ~region
            owners = np.unique(labels[y0:y1, x0:x1][ring])
            owners = owners[owners > 0]
            if owners.size == 1:
                out[y0:y1, x0:x1][region] = owners[0]
    return merge_enclosed(out)


def merge_enclosed(labels: np.ndarray) -> np.ndarray:
    """Merge every object whose only neighbour is one other object into that object.

    Neighbours are 4-connected; the image border counts as background.

    >>> labels = np.zeros((9, 9), np.int32); labels[1:8, 1:8] = 1; labels[4, 4] = 2
    >>> int(merge_enclosed(labels)[4, 4])
    1
    """
    padded = np.pad(labels, 1)
    pairs = []
    for a, b in ((padded[:, :-1], padded[:, 1:]), (padded[:-1], padded[1:])):
        differ = a != b
        pairs.append(np.stack([a[differ], b[differ]], axis=1))
    both = np.concatenate(pairs + [p[:, ::-1] for p in pairs]).astype(np.int64)
    both = both[both[:, 0] > 0]
    if both.size == 0:
        return labels
    both = np.unique(both, axis=0)
    objects, counts = np.unique(both[:, 0], return_counts=True)
    single = objects[counts == 1]
    host = dict(both[np.isin(both[:, 0], single)].tolist())
    table = np.arange(int(labels.max()) + 1, dtype=labels.dtype)
    changed = False
    for obj, parent in host.items():
        if parent > 0:
            while host.get(parent, 0) > 0 and host[parent] != obj:  # nested islands join the outermost
                parent = host[parent]
            table[obj] = parent
            changed = True
    return lookup(table, labels) if changed else labels


def typical_area(areas: np.ndarray) -> float:
    """Area-weighted median object area: half the foreground lies in objects at least this big.

    Unlike the plain median it is not pulled down by many specks of noise.

    >>> typical_area(np.array([1, 1, 1, 1, 100, 120]))
    120.0
    """
    if areas.size == 0:
        return 0.0
    ordered = np.sort(areas.astype(np.float64))
    cumulative = np.cumsum(ordered)
    return float(ordered[np.searchsorted(cumulative, cumulative[-1] / 2)])


def remove_small(mask: np.ndarray, *, min_area_px: float, min_area_fraction: float = 0.0) -> np.ndarray:
    """Drop connected objects (8-connectivity) that are too small.

    An object is too small below ``min_area_px`` pixels or below ``min_area_fraction`` of the typical
    object area (see :func:`typical_area`).
    """
    if min_area_px <= 1 and min_area_fraction <= 0:
        return mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA]
    limit = min_area_px
    if min_area_fraction > 0:
        limit = max(limit, min_area_fraction * typical_area(areas[1:]))
    keep = areas >= limit
    keep[0] = False
    return lookup(keep, labels)


def distance_map(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of each foreground pixel to the background (float32).

    A mask without any background is measured to the image's edge: OpenCV would return ~1.8e19
    everywhere, and the split's peaks in it changed from one run to the next.

    >>> distance_map(np.ones((3, 5), bool))[1].tolist()
    [1.0, 2.0, 2.0, 2.0, 1.0]
    """
    pixels = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    if pixels.all():
        return cv2.distanceTransform(np.pad(pixels, 1), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1].copy()
    return cv2.distanceTransform(pixels, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _markers_distance_peaks(distance: np.ndarray, min_distance_px: int) -> np.ndarray:
    size = 2 * int(min_distance_px) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    local_max = cv2.dilate(distance, kernel)
    peaks = (distance >= local_max) & (distance > 0)
    return peaks


def label_maximum(values: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Largest value of each label 0..count (0 where a label is absent).

    Much faster than ``scipy.ndimage.maximum``, which sorts.

    >>> label_maximum(np.array([1.0, 5.0, 2.0]), np.array([1, 1, 2]), 2).tolist()
    [0.0, 5.0, 2.0]
    """
    peak = np.zeros(count + 1, dtype=values.dtype)  # same dtype: ufunc.at is ~20x faster without casts
    # Row blocks bound the temporary copies (~12 bytes per pixel inside particles) on large images.
    rows = labels.shape[0] if labels.ndim < 2 else max(1, 4 * LOOKUP_BLOCK_PIXELS // max(labels.shape[1], 1))
    for start in range(0, labels.shape[0], rows):
        block = labels[start : start + rows]
        inside = block > 0
        np.maximum.at(peak, block[inside], values[start : start + rows][inside])
    return peak


def neck_seeds(distance: np.ndarray, depth: float) -> np.ndarray:
    """Maxima of the distance map that rise at least ``depth`` (a fraction) above the saddle to any higher maximum.

    Two touching discs split at a neck narrower than ``1 - depth`` times the smaller one's radius,
    whatever their size; the bumps of one irregular particle do not.

    The relative depth is an absolute one on the logarithm of the distance, where h-maxima
    finds it. (ImageJ's watershed splits at any dip of half a pixel.)

    >>> yy, xx = np.mgrid[:60, :150]
    >>> big = ((yy - 30) ** 2 + (xx - 40) ** 2 < 25 ** 2) | ((yy - 30) ** 2 + (xx - 82) ** 2 < 20 ** 2)
    >>> d = distance_map(big)
    >>> int(ndimage.label(neck_seeds(d, 0.25))[1])
    2
    """
    return h_maxima(np.log1p(distance), float(-np.log1p(-depth))).astype(bool) & (distance > 0)


def _markers_sure_foreground(distance: np.ndarray, clumps: np.ndarray, count: int, fraction: float) -> np.ndarray:
    peak = label_maximum(distance, clumps, count).astype(np.float32)
    peak[0] = np.inf
    seeds = np.empty(distance.shape, dtype=bool)
    rows = max(1, LOOKUP_BLOCK_PIXELS // max(clumps.shape[1], 1))
    for start in range(0, clumps.shape[0], rows):  # row blocks: no image-sized float temporaries
        level = np.take(peak, clumps[start : start + rows])
        level *= fraction  # the same float32 products as ``fraction * level``
        np.greater(distance[start : start + rows], level, out=seeds[start : start + rows])
    return seeds


@dataclass(frozen=True, eq=False)
class SplitInputs:
    """What every split of one mask starts from: its connected clumps and distance map."""

    count: int
    clumps: np.ndarray
    distance: np.ndarray


def prepare_split(mask: np.ndarray) -> SplitInputs:
    """Connected clumps (8-connectivity) and the Euclidean distance map of a mask."""
    mask = np.ascontiguousarray(mask, dtype=bool)
    count, clumps = _components(mask)
    return SplitInputs(count=count, clumps=clumps, distance=distance_map(mask))


def split_particles(mask: np.ndarray, params: SplitParams, *, prepared: SplitInputs | None = None) -> np.ndarray:
    """Label particles, splitting touching ones by a marker-controlled watershed.

    Parameters
    ----------
    mask : ndarray of bool, shape (H, W)
    params : SplitParams
        ``mode`` picks the markers: ``distance_peaks`` (local maxima of the distance map at least
        ``min_distance_px`` apart), ``h_maxima`` (maxima deeper than ``h_maxima_px``),
        ``sure_foreground`` (distance above a fraction of each clump's own maximum), or ``none``.
    prepared : SplitInputs, optional
        :func:`prepare_split` of the same mask, reused across split-parameter changes.

    Returns
    -------
    ndarray of int32, shape (H, W)
        0 = background, particles numbered 1..N.

    Examples
    --------
    >>> yy, xx = np.mgrid[:40, :60]
    >>> pair = ((yy - 20) ** 2 + (xx - 20) ** 2 < 144) | ((yy - 20) ** 2 + (xx - 40) ** 2 < 144)
    >>> int(split_particles(pair, SplitParams(mode="distance_peaks", min_distance_px=5)).max())
    2
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    if prepared is None:
        prepared = prepare_split(mask)
    count, clumps, distance = prepared.count, prepared.clumps, prepared.distance
    if params.mode == "none" or count == 0:
        return clumps.copy()
    if params.mode == "distance_peaks":
        seeds = _markers_distance_peaks(distance, params.min_distance_px)
    elif params.mode == "h_maxima":
        seeds = h_maxima(distance, params.h_maxima_px).astype(bool)
    elif params.mode == "neck":
        seeds = neck_seeds(distance, params.neck_depth)
    elif params.mode == "sure_foreground":
        seeds = _markers_sure_foreground(distance, clumps, count, params.sure_foreground_fraction)
    else:
        raise ValueError(f"unknown split mode {params.mode!r}")
    seeds = seeds & mask
    return _watershed_in_clumps(distance, clumps, count, seeds)


def _watershed_in_clumps(distance: np.ndarray, clumps: np.ndarray, count: int, seeds: np.ndarray) -> np.ndarray:
    _, markers = _components(seeds)
    # How many distinct markers each clump holds.
    seed_pixels = markers > 0
    stride = np.int64(markers.max()) + 1
    pairs = np.unique(clumps[seed_pixels].astype(np.int64) * stride + markers[seed_pixels])
    per_clump = np.bincount(pairs // stride, minlength=count + 1)
    labels = clumps.copy()
    next_label = count + 1
    slices = ndimage.find_objects(clumps)
    for clump_id in np.flatnonzero(per_clump > 1):
        window = slices[clump_id - 1]
        inside = clumps[window] == clump_id
        local_markers = np.where(inside, markers[window], 0)
        split = watershed(-distance[window], local_markers, mask=inside, connectivity=2)
        ids = np.unique(split[split > 0])
        remap = np.zeros(split.max() + 1, dtype=np.int32)
        remap[ids[0]] = clump_id
        remap[ids[1:]] = np.arange(next_label, next_label + ids.size - 1)
        next_label += ids.size - 1
        labels[window][inside] = remap[split[inside]]
    return labels


def touching_edge_ids(labels: np.ndarray, *, analysis_rows: int | None = None, analysis_top: int = 0) -> np.ndarray:
    """Ids of particles touching the image border or the edge of the excluded data bar."""
    bottom = labels.shape[0] - 1 if analysis_rows is None else analysis_rows - 1
    top = analysis_top
    border = np.concatenate([labels[top], labels[bottom], labels[top : bottom + 1, 0], labels[top : bottom + 1, -1]])
    ids = np.unique(border)
    return ids[ids > 0]


def remove_labels(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Set the given ids to 0 and renumber the rest 1..N, keeping their order."""
    top = int(labels.max())
    keep = np.ones(top + 1, dtype=bool)
    keep[0] = False
    keep[np.asarray(ids, dtype=np.int64)] = False
    table = np.zeros(top + 1, dtype=np.int32)
    table[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return lookup(table, labels)


#: Objects with at least this fraction of pixels at pure black or white (<= 2 % or >= 98 % of the
#: range) and thin strokes are burned-in annotations: panel letters, scale bars and their text.
ANNOTATION_SATURATED_FRACTION = 0.6
#: "Thin": the largest inscribed radius is below this fraction of sqrt(area) (a disc has 0.56,
#: a letter stroke or a scale bar under 0.15), so saturated but compact particles are kept.
ANNOTATION_THINNESS = 0.25


def annotation_ids(labels: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """Ids of objects that are thin strokes of saturated pixels (burned-in text, not specimen)."""
    saturated = grey <= 0.02
    saturated |= grey >= 0.98
    flat = labels.ravel()
    area = np.bincount(flat)
    # Counting the saturated pixels' labels: exact, and no float64 weights as large as the image.
    hits = np.bincount(flat[saturated.ravel()], minlength=area.size)
    del saturated
    fraction = np.divide(hits, area, out=np.zeros(area.size), where=area > 0)
    candidates = np.flatnonzero(fraction >= ANNOTATION_SATURATED_FRACTION)
    candidates = candidates[candidates > 0]
    if candidates.size == 0:
        return candidates
    # Inscribed radius of each object: distance to anything that is not the same object.
    edges = np.zeros(labels.shape, dtype=bool)
    edges[:-1] |= labels[:-1] != labels[1:]
    edges[1:] |= labels[:-1] != labels[1:]
    edges[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edges[:, 1:] |= labels[:, :-1] != labels[:, 1:]
    inside = (labels > 0) & ~edges
    distance = distance_map(inside)
    del inside, edges
    distance += 1.0
    radius = label_maximum(distance, labels, int(labels.max()))[candidates]
    thin = radius < ANNOTATION_THINNESS * np.sqrt(area[candidates])
    return candidates[thin]


