"""The scale the network runs at: passes from coarse to fine, and the one where it is surest.

The network was trained on particles of a few tens of pixels (its "model pixels"). An image's
particles may be 3 px or 3,000 px wide, so the image is rescaled before the network sees it.
Particle sizes measured by the network itself cannot choose the scale: at too fine a scale it
breaks large, textured particles into pieces of the size it knows, and those pieces then call for
the same scale again (EMPS validation: particles of 80-460 px read as 10-25 px, F1 0.31 per image
against 0.80 with the true size). What does tell the right scale is how sure the network is:

1. **A ladder of passes**, coarse to fine: the image's long side at :data:`LADDER_START_PX` model
   pixels, then :data:`LADDER_STEP` times finer each time, up to :data:`MAX_SCALE` and
   :data:`PROBE_MAX_PIXELS`. Each pass gives the fraction of its particle pixels it is unsure
   about (top class probability under :data:`UNSURE_BELOW`).
   A pass larger than :data:`WINDOW_PIXELS` looks at a centred window of that size only.
2. The ladder stops once a pass is :data:`STOP_ABOVE` more unsure than the surest so far (finer
   passes only break particles up further).
3. **The choice**: the coarsest pass within :data:`CHOOSE_WITHIN` of the surest one (coarser
   keeps large particles whole; a finer one that is no surer only adds pieces). If it looked at a
   window, the whole image is run at its scale.

Chosen on the EMPS validation images and the synthetic sizes, wide-range and degraded scenes
(``benchmarks/bench_sources``), never on the evaluation-only sets.

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
#: The coarsest pass puts the image's long side at this many model pixels; each next one is
#: LADDER_STEP times finer.
LADDER_START_PX = 128
LADDER_STEP = math.sqrt(2.0)
#: Largest pass (model pixels).
PROBE_MAX_PIXELS = 4_000_000
#: A ladder pass looks at most at this many model pixels: a centred window of the image.
WINDOW_PIXELS = 1_000_000
#: A pixel is unsure when its most likely class has less than this probability.
UNSURE_BELOW = 0.6
#: The ladder stops at a pass this much more unsure (fraction of particle pixels) than the surest.
STOP_ABOVE = 0.05
#: The coarsest pass at most this much more unsure than the surest is chosen.
CHOOSE_WITHIN = 0.01
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


def unsure_fraction(probs: np.ndarray, background: int, classes: int) -> float:
    """Fraction of a pass's particle pixels (P(background) < 0.5) whose top class is under :data:`UNSURE_BELOW`.

    1.0 when the pass has no particle pixels.

    >>> p = np.array([[[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.3, 0.4, 0.3]]], np.float32)
    >>> unsure_fraction(p, 0, 3)
    0.5
    """
    particle = probs[..., background] < 0.5
    if not particle.any():
        return 1.0
    return float(np.mean(probs[..., :classes].max(axis=-1)[particle] < UNSURE_BELOW))


def ladder_scales(shape: tuple[int, int]) -> list[float]:
    """The ladder's scales, coarse to fine (at least one).

    >>> [round(s, 3) for s in ladder_scales((512, 512))]
    [0.25, 0.354, 0.5, 0.707, 1.0, 1.414, 2.0, 2.828, 3.906]
    """
    largest = float(min(MAX_SCALE, math.sqrt(PROBE_MAX_PIXELS / (shape[0] * shape[1]))))
    scale = max(MIN_SCALE, min(largest, LADDER_START_PX / max(shape)))
    scales = [scale]
    while scale * LADDER_STEP <= largest * 1.0001:
        scale *= LADDER_STEP
        scales.append(scale)
    if largest / scales[-1] > 1.05:
        scales.append(largest)
    return scales


def window(shape: tuple[int, int], scale: float) -> tuple[slice, slice]:
    """The centred part of an image of ``shape`` that a ladder pass at ``scale`` looks at.

    >>> window((512, 512), 1.0)
    (slice(0, 512, None), slice(0, 512, None))
    >>> window((2048, 2048), 2.0)
    (slice(774, 1274, None), slice(774, 1274, None))
    """
    fraction = min(1.0, math.sqrt(WINDOW_PIXELS / (shape[0] * shape[1] * scale**2)))
    rows, cols = (max(1, int(side * fraction)) for side in shape)
    top, left = (shape[0] - rows) // 2, (shape[1] - cols) // 2
    return slice(top, top + rows), slice(left, left + cols)


def estimate_scale(
    measure: Callable[[float, tuple[slice, slice]], tuple[np.ndarray, float, Any]],
    shape: tuple[int, int],
    run_whole: Callable[[float], Any],
) -> tuple[Sizes, float, Any]:
    """Run the ladder and choose its scale (see the module text).

    ``measure(scale, window)`` runs the network at ``scale`` on ``grey[window]`` and returns
    (diameters found, in model pixels; the fraction of its particle pixels it is unsure about;
    its output); ``run_whole(scale)`` runs it on the whole image and returns its output.

    Returns
    -------
    sizes, scale, output
        The sizes (image pixels) found by the chosen pass, its scale and the whole image's output.
        ``sizes.count`` is 0 when no pass found particles (``output`` is then the last pass's).
    """
    passes: list[_Pass] = []
    surest = math.inf
    last: tuple[Sizes, float, Any] = (NO_SIZES, 0.0, None)
    for scale in ladder_scales(shape):
        part = window(shape, scale)
        whole = (part[0].stop - part[0].start, part[1].stop - part[1].start) == tuple(shape)
        diameters, unsure, output = measure(scale, part)
        sizes = Sizes.of(diameters)
        if sizes.count == 0:  # nothing at this scale: an empty pass is never chosen
            last = (NO_SIZES, scale, output if whole else None)
            continue
        passes.append(_Pass(scale, unsure, sizes.scaled(1.0 / scale), output if whole else None))
        surest = min(surest, unsure)
        for entry in passes:
            if entry.unsure > surest + CHOOSE_WITHIN:
                entry.output = None  # keep only the outputs that may still be chosen
        if unsure > surest + STOP_ABOVE:
            break
    if not passes:
        return last[0], last[1], last[2] if last[2] is not None else run_whole(last[1])
    chosen = min((p for p in passes if p.unsure <= surest + CHOOSE_WITHIN), key=lambda p: p.scale)
    return chosen.sizes, chosen.scale, chosen.output if chosen.output is not None else run_whole(chosen.scale)


@dataclass
class _Pass:
    """One ladder pass: its scale, unsure fraction, sizes (image px), and its output when it saw the whole image."""

    scale: float
    unsure: float
    sizes: Sizes
    output: Any
