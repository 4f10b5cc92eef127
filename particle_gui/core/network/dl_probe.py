"""The scale the network runs at: particle sizes found by quick passes, and the scale they call for.

The network is trained on typical particles of 7-80 px (its "model pixels"). An image's
particles may be 3 px or 3,000 px wide, and one image may hold particles that differ tenfold,
so the image is rescaled before the network sees it. The sizes come from the network itself:

1. **A first pass** with the image's long side at :data:`FIRST_PASS_PX` model pixels (a middle
   scale, where particles from a few to a few hundred image pixels are all visible; a coarse
   probe first took textures for large particles). If it finds nothing, the network looks 4 and
   16 times finer, then coarser.
2. **Refinement**: every pass gives the sizes it found (D10, D50, D90 in image pixels);
   :func:`choose_scale` turns them into the scale to run at (the median at the target size,
   raised so that the smallest particles stay at least :data:`SMALL_PX` wide as long as the
   largest stay under :data:`LARGE_PX`). When that differs from the pass's own scale by more
   than :data:`SCALE_TOLERANCE`, the network runs again there, :data:`MAX_PASSES` passes at most:
   a coarse pass sees only the large particles of a wide distribution, a finer one the small
   ones too.

Pure NumPy/SciPy; the network runs through the ``measure`` callable given by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi
from skimage.segmentation import watershed

#: Resampling factors allowed (image -> model pixels).
MIN_SCALE, MAX_SCALE = 1.0 / 32.0, 4.0
#: The first pass puts the image's long side at this many model pixels.
FIRST_PASS_PX = 512
#: Largest pass (model pixels).
PROBE_MAX_PIXELS = 4_000_000
#: The smallest particles (D10) are kept at least this wide when the largest (D90) allow it ...
SMALL_PX = 9.0
#: ... that is, while the D90 particle stays under this width (model pixels).
LARGE_PX = 110.0
#: A pass whose scale is within this factor of the scale its sizes call for is the final one.
SCALE_TOLERANCE = 1.4
MAX_PASSES = 3
#: Instances smaller than this (model pixels, area) are not counted as particles when sizing.
MIN_AREA_PX = 6


@dataclass(frozen=True)
class Sizes:
    """Particle diameters (image pixels) a pass found: D10, D50, D90 and how many."""

    d10: float
    d50: float
    d90: float
    count: int

    @classmethod
    def of(cls, diameters: np.ndarray) -> Sizes:
        if diameters.size == 0:
            return NO_SIZES
        d10, d50, d90 = np.percentile(diameters, (10, 50, 90))
        return cls(float(d10), float(d50), float(d90), int(diameters.size))

    def scaled(self, factor: float) -> Sizes:
        return Sizes(self.d10 * factor, self.d50 * factor, self.d90 * factor, self.count)


NO_SIZES = Sizes(math.nan, math.nan, math.nan, 0)


def instance_diameters(foreground: np.ndarray, seeds_map: np.ndarray, *, seed_level: float = 0.5) -> np.ndarray:
    """Equivalent diameters (px) of the particles in one pass's output, for sizing only.

    Parameters
    ----------
    foreground : ndarray, shape (H, W)
        P(particle).
    seeds_map : ndarray, shape (H, W)
        P(core) (or, for a model without cores, P(interior)); its cores above
        ``seed_level`` seed a watershed over the foreground.

    Particles touching the border are left out when enough others remain (they are cut).
    """
    mask = foreground > 0.5
    seeds, count = ndi.label((seeds_map > seed_level) & mask)
    if count == 0:
        return np.zeros(0)
    labels = watershed(-seeds_map, markers=seeds, mask=mask)
    areas = np.bincount(labels.ravel(), minlength=count + 1).astype(np.float64)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inner = np.ones(count + 1, dtype=bool)
    inner[border] = False
    inner[0] = False
    keep = areas >= MIN_AREA_PX
    keep[0] = False
    if np.count_nonzero(keep & inner) >= 3:
        keep &= inner
    return np.sqrt(4.0 * areas[keep] / np.pi)


def choose_scale(sizes: Sizes, *, target_px: float) -> float:
    """The scale (model px per image px) for particles of these sizes (see the module text).

    >>> round(choose_scale(Sizes(20, 40, 60, 50), target_px=24.0), 3)   # narrow: median to target
    0.6
    >>> round(choose_scale(Sizes(10, 40, 120, 50), target_px=24.0), 3)  # wide: small ones kept at 9 px
    0.9
    """
    scale = target_px / sizes.d50
    if sizes.count >= 5 and math.isfinite(sizes.d10) and sizes.d10 * scale < SMALL_PX:
        scale = max(scale, min(SMALL_PX / sizes.d10, LARGE_PX / sizes.d90))
    return float(min(MAX_SCALE, max(MIN_SCALE, scale)))


def first_scale(shape: tuple[int, int]) -> float:
    """The first pass's scale: the image's long side at :data:`FIRST_PASS_PX` (never enlarged)."""
    return float(min(1.0, max(MIN_SCALE, FIRST_PASS_PX / max(shape))))


def _fits(shape: tuple[int, int], scale: float) -> bool:
    return MIN_SCALE <= scale <= MAX_SCALE and shape[0] * shape[1] * scale**2 <= PROBE_MAX_PIXELS


def _largest(shape: tuple[int, int]) -> float:
    return float(min(MAX_SCALE, math.sqrt(PROBE_MAX_PIXELS / (shape[0] * shape[1]))))


def estimate_scale(
    measure: Callable[[float], tuple[np.ndarray, Any]], shape: tuple[int, int], *, target_px: float
) -> tuple[Sizes, float, Any]:
    """Find the sizes and refine the scale (see the module text).

    ``measure(scale)`` runs the network at ``scale`` and returns (diameters found, in model
    pixels; its output).

    Returns
    -------
    sizes, scale, output
        The sizes (image pixels) of the last pass, its scale and its output. ``sizes.count`` is 0
        when no pass found particles (``output`` is then the last pass's).
    """
    scale = first_scale(shape)
    tried: list[float] = []
    last: tuple[Sizes, float, Any] = (NO_SIZES, scale, None)
    for _ in range(MAX_PASSES):
        diameters, output = measure(scale)
        tried.append(scale)
        sizes = Sizes.of(diameters)
        last = (sizes.scaled(1.0 / scale), scale, output)
        if sizes.count == 0:  # nothing at this scale: look finer, then coarser
            untried = [s for s in (scale * 4.0, scale / 4.0, scale * 16.0, scale / 16.0)
                       if _fits(shape, s) and all(abs(math.log(s / t)) > 0.1 for t in tried)]
            if not untried:
                break
            scale = untried[0]
            continue
        wanted = choose_scale(last[0], target_px=target_px)
        if not _fits(shape, wanted):
            wanted = min(wanted, _largest(shape))
        if abs(math.log(wanted / scale)) <= math.log(SCALE_TOLERANCE) or any(
                abs(math.log(wanted / t)) <= 0.01 for t in tried):
            break
        scale = wanted
    if last[0].count == 0:
        return NO_SIZES, last[1], last[2]
    return last
