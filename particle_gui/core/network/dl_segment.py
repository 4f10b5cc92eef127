"""Particles from the network's cached probability maps: threshold, seeds, seeded watershed.

These run on every slider change (the probability maps come from the pipeline's cache), so they
are plain array functions at full resolution and take well under a second on a 1024 x 768 image.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

from particle_gui.core.network.dl import ProbabilityMaps
from particle_gui.core.params import SplitParams
from particle_gui.core.analysis.threshold import ThresholdResult

#: Foreground pieces that no seed reaches are kept as particles when at least this fraction
#: of the median seeded particle's area (smaller ones are border fragments).
LEFTOVER_FRACTION = 0.25


def probability_mask(maps: ProbabilityMaps, probability: float, *, analysis_rows: int,
                     analysis_top: int = 0) -> ThresholdResult:
    """Particle pixels: P(interior or border) above ``probability``; the data bar is excluded.

    >>> import numpy as np
    >>> p = np.array([[0.2, 0.7]], np.float32)
    >>> maps = ProbabilityMaps(p, p, 1.0, 1.0)
    >>> probability_mask(maps, 0.5, analysis_rows=1).mask.tolist()
    [[False, True]]
    """
    mask = maps.foreground > probability
    mask[analysis_rows:] = False
    mask[:analysis_top] = False
    mask.setflags(write=False)
    certainty = np.abs(maps.foreground * np.float32(2.0) - np.float32(1.0))
    return ThresholdResult(mask=mask, value=float(probability), polarity="learned (deep learning)",
                           warnings=maps.warnings, certainty=certainty)


def seeds_from_interior(interior: np.ndarray, params: SplitParams) -> np.ndarray:
    """Seed labels inside the interior mask, by the split mode.

    ``sure_foreground`` (default): each connected interior region is one seed (the network's
    interior is the sure foreground). ``distance_peaks``: maxima of the interior's distance map
    at least ``min_distance_px`` apart (and at least one per region). ``h_maxima``: maxima of
    the distance map deeper than ``h_maxima_px``. ``none``: one seed per region, as the default.
    """
    regions, count = ndi.label(interior)
    if count == 0 or params.mode in ("sure_foreground", "none"):
        return regions.astype(np.int32)
    distance = ndi.distance_transform_edt(interior)
    if params.mode == "distance_peaks":
        peaks = peak_local_max(distance, min_distance=int(params.min_distance_px), labels=regions, exclude_border=False)
        points = np.zeros(interior.shape, dtype=bool)
        points[tuple(peaks.T)] = True
    else:
        points = h_maxima(distance, params.h_maxima_px).astype(bool) & interior
    seeds, n = ndi.label(points)
    missing = np.setdiff1d(np.arange(1, count + 1), np.unique(regions[points]))
    if missing.size:  # a region without a peak keeps itself as one seed
        extra = np.isin(regions, missing)
        seeds[extra] = n + np.searchsorted(missing, regions[extra]) + 1
    return seeds.astype(np.int32)


def split_probabilities(
    mask: np.ndarray, maps: ProbabilityMaps, params: SplitParams, probability: float, *, core_level: float = 0.5
) -> np.ndarray:
    """Label particles: seed cores grown over the mask by a watershed.

    With particle cores (:attr:`ProbabilityMaps.core`) the seeds are where P(core) exceeds
    ``core_level`` and the watershed runs on it: touching particles of any size split at their
    contacts. A model without one seeds from P(interior) above ``probability``.

    Parameters
    ----------
    mask : ndarray of bool, shape (H, W)
        Cleaned particle mask (interior and border).
    maps : ProbabilityMaps
    params : SplitParams
        Seed mode and ``min_distance_px`` / ``h_maxima_px``.
    probability : float
        Level of P(interior) that makes a pixel a seed pixel (models without cores).
    core_level : float
        Level of P(core) that makes a pixel a seed pixel.

    Returns
    -------
    ndarray of int32, shape (H, W)
        Particles 1..N, consecutive; 0 = background.
    """
    level = probability if maps.core is None else core_level
    cores = (maps.seeds_map > level) & mask
    seeds = seeds_from_interior(cores, params)
    labels = np.zeros(mask.shape, dtype=np.int32)
    if seeds.max() > 0:
        labels = watershed(-maps.seeds_map, markers=seeds, mask=mask).astype(np.int32)
    leftover, n_left = ndi.label(mask & (labels == 0))
    if n_left:
        areas = np.bincount(labels.ravel())[1:]
        typical = float(np.median(areas[areas > 0])) if np.any(areas > 0) else 0.0
        sizes = np.bincount(leftover.ravel())
        keep = np.flatnonzero(sizes >= LEFTOVER_FRACTION * typical)
        keep = keep[keep > 0]
        if keep.size:
            lookup = np.zeros(n_left + 1, dtype=np.int32)
            lookup[keep] = labels.max() + np.arange(1, keep.size + 1)
            labels = np.where(leftover > 0, lookup[leftover], labels)
    ids = np.unique(labels)
    ids = ids[ids > 0]
    if ids.size and ids[-1] != ids.size:
        lookup = np.zeros(int(ids[-1]) + 1, dtype=np.int32)
        lookup[ids] = np.arange(1, ids.size + 1, dtype=np.int32)
        labels = lookup[labels]
    return labels
