"""The scale the network runs at: particle sizes found by quick passes, and the scale they call for.

The network is trained on typical particles of 7-80 px (its "model pixels"). An image's
particles may be 3 px or 3,000 px wide, and one image may hold particles that differ tenfold,
so the image is rescaled before the network sees it. The sizes come from the network itself:

1. **Probes**, coarse to fine (the image's long side at 64, 128, 256, ... model pixels): a probe
   is believed when its particles are at least :data:`BELIEVE_PX` wide; one whose particles are
   smaller, but at least :data:`HINT_PX`, sends the next pass straight to the scale where they
   would be the target size.
2. **Refinement**: every pass gives the sizes it found (D10, D50, D90 in image pixels);
   :func:`choose_scale` turns them into the scale to run at (the median at the target size,
   raised so that the smallest particles stay at least :data:`SMALL_PX` wide as long as the
   largest stay under :data:`LARGE_PX`). When that differs from the pass's own scale by more
   than :data:`SCALE_TOLERANCE`, the network runs again there, at most :data:`MAX_REFINEMENTS`
   times: a coarse pass sees only the large particles of a wide distribution, a finer one the
   small ones too.

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
#: The first probe puts the image's long side at this many model pixels; each next one doubles it.
PROBE_START_PX = 64
#: Largest probe or pass (model pixels).
PROBE_MAX_PIXELS = 4_000_000
#: A probe is believed when its median particle is at least this wide (model pixels).
BELIEVE_PX = 14.0
#: A probe whose median particle is at least this wide (but under BELIEVE_PX) points at the next scale.
HINT_PX = 6.0
#: The smallest particles (D10) are kept at least this wide when the largest (D90) allow it ...
SMALL_PX = 9.0
#: ... that is, while the D90 particle stays under this width (model pixels).
LARGE_PX = 110.0
#: A pass whose scale is within this factor of the scale its sizes call for is the final one.
SCALE_TOLERANCE = 1.25
MAX_REFINEMENTS = 2
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


def probe_scales(shape: tuple[int, int]) -> list[float]:
    """Scales of the size probes, coarse to fine (at least one)."""
    scales, scale = [], max(MIN_SCALE, PROBE_START_PX / max(shape))
    while scale <= MAX_SCALE and shape[0] * shape[1] * scale**2 <= PROBE_MAX_PIXELS:
        scales.append(scale)
        scale *= 2.0
    return scales or [max(MIN_SCALE, min(MAX_SCALE, math.sqrt(PROBE_MAX_PIXELS / (shape[0] * shape[1]))))]


def _fits(shape: tuple[int, int], scale: float) -> bool:
    return MIN_SCALE <= scale <= MAX_SCALE and shape[0] * shape[1] * scale**2 <= PROBE_MAX_PIXELS


def estimate_scale(
    measure: Callable[[float], tuple[np.ndarray, Any]], shape: tuple[int, int], *, target_px: float
) -> tuple[Sizes, float, Any]:
    """Probe and refine (see the module text).

    ``measure(scale)`` runs the network at ``scale`` and returns (diameters found, in model
    pixels; its output).

    Returns
    -------
    sizes, scale, output
        The sizes (image pixels) of the last pass, its scale and its output. ``sizes.count`` is 0
        when no pass found particles (``output`` is then the last probe's).
    """
    found: tuple[Sizes, float, Any] | None = None
    last: tuple[Sizes, float, Any] = (NO_SIZES, 0.0, None)
    for scale in probe_scales(shape):
        diameters, output = measure(scale)
        sizes = Sizes.of(diameters)
        last = (sizes.scaled(1.0 / scale), scale, output)
        if sizes.count == 0:
            continue
        if sizes.d50 >= BELIEVE_PX:
            found = last
            break
        if sizes.d50 >= HINT_PX:
            hinted = scale * target_px / sizes.d50
            if _fits(shape, hinted):
                diameters, output = measure(hinted)
                sizes = Sizes.of(diameters)
                if sizes.count:
                    last = (sizes.scaled(1.0 / hinted), hinted, output)
                    if sizes.d50 >= BELIEVE_PX:
                        found = last
                        break
    if found is None:
        return last if last[0].count else (NO_SIZES, last[1], last[2])
    sizes, scale, output = found
    tried = {round(scale, 6)}
    for _ in range(MAX_REFINEMENTS):
        wanted = choose_scale(sizes, target_px=target_px)
        if abs(math.log(wanted / scale)) <= math.log(SCALE_TOLERANCE) or round(wanted, 6) in tried:
            break
        if not _fits(shape, wanted):
            wanted = min(wanted, math.sqrt(PROBE_MAX_PIXELS / (shape[0] * shape[1])))
            if abs(math.log(wanted / scale)) <= math.log(SCALE_TOLERANCE):
                break
        diameters, new_output = measure(wanted)
        tried.add(round(wanted, 6))
        new_sizes = Sizes.of(diameters)
        if new_sizes.count == 0:
            break
        sizes, scale, output = new_sizes.scaled(1.0 / wanted), wanted, new_output
    return sizes, scale, output
