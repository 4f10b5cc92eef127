"""Size distributions as ISO 9276-1/-2 defines them, with what a metrologist needs beside them.

- Weighted cumulative distributions: by number (Q0), projected area (Q2, weight d²) and volume
  (Q3, weight d³), and their D10/D50/D90 (ISO 9276-2 moments notation: ``x10,0`` etc.).
- Moment-ratio means: D[3,2] (Sauter mean, Σd³/Σd²) and D[4,3] (De Brouckere mean, Σd⁴/Σd³).
- Edge correction: a particle of bounding box w x h is seen whole only if it lies inside the
  frame shrunk by its size, so large particles are under-counted; Miles-Lantuéjoul weights
  ``(W H) / ((W - w)(H - h))`` undo that in every weighted statistic.
- The number fraction below 100 nm (the EU nanomaterial definition) with a Wilson interval.
- How many particles a ±5 % D50 needs for the observed spread (log-normal approximation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The EU definition of a nanomaterial counts particles under this size (nm).
NANO_LIMIT_NM = 100.0


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantiles of ``values`` under ``weights``.

    A quantile is the value where the weighted cumulative distribution reaches ``q`` (linear between
    the midpoints of each value's weight).

    >>> float(weighted_quantile(np.array([1.0, 2.0, 3.0]), np.ones(3), 0.5))
    2.0
    >>> float(weighted_quantile(np.array([1.0, 2.0]), np.array([1.0, 3.0]), 0.5))
    1.75
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cumulative = np.cumsum(w) - 0.5 * w
    cumulative /= w.sum()
    return np.interp(q, cumulative, v)


@dataclass(frozen=True)
class WeightedSizes:
    """D10/D50/D90 of one weighting (number, area or volume), in the summary's unit."""

    d10: float
    d50: float
    d90: float


@dataclass(frozen=True)
class IsoDistribution:
    """The ISO 9276-2 view of a size distribution (lengths in the summary's unit).

    ``edge_corrected`` says whether Miles-Lantuéjoul weights were applied (bounding boxes given).
    """

    number: WeightedSizes
    area: WeightedSizes
    volume: WeightedSizes
    sauter_mean: float  # D[3,2]
    de_brouckere_mean: float  # D[4,3]
    edge_corrected: bool
    nano_fraction: float | None = None  # number fraction under 100 nm (calibrated images only)
    nano_fraction_ci95: tuple[float, float] | None = None
    particles_for_5_percent_d50: int | None = None


def miles_lantuejoul_weights(widths: np.ndarray, heights: np.ndarray, frame: tuple[float, float]) -> np.ndarray:
    """Weights that undo the edge effect for particles seen whole in a ``frame`` (height, width).

    >>> miles_lantuejoul_weights(np.array([10.0, 50.0]), np.array([10.0, 50.0]), (100.0, 100.0)).round(3).tolist()
    [1.235, 4.0]
    """
    height, width = frame
    inside = np.clip((width - np.asarray(widths, float)) * (height - np.asarray(heights, float)), 1.0, None)
    return (width * height) / inside


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a binomial proportion.

    >>> [round(v, 3) for v in wilson_interval(10, 100)]
    [0.055, 0.174]
    """
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def particles_for_d50_precision(diameters: np.ndarray, relative: float = 0.05) -> int | None:
    """Particles needed for a 95 % D50 interval of +-``relative``, for the observed spread.

    The sample median of a log-normal sample has variance ``(pi / 2) sigma^2 / n`` in ln d, so
    ``n = (1.96 sqrt(pi / 2) sigma / ln(1 + relative))^2``.

    >>> particles_for_d50_precision(np.exp(np.random.default_rng(0).normal(0, 0.3, 5000)))
    227
    """
    d = np.asarray(diameters, dtype=np.float64)
    d = d[np.isfinite(d) & (d > 0)]
    if d.size < 3:
        return None
    sigma = float(np.std(np.log(d), ddof=1))
    return int(math.ceil((1.959964 * math.sqrt(math.pi / 2) * sigma / math.log1p(relative)) ** 2))


def iso_distribution(diameters: np.ndarray, *, edge_weights: np.ndarray | None = None,
                     nm_per_unit: float | None = None) -> IsoDistribution | None:
    """The ISO 9276-2 view of ``diameters`` (see the module text); None without particles.

    Parameters
    ----------
    diameters : ndarray
        Equivalent diameters, in the summary's unit.
    edge_weights : ndarray, optional
        :func:`miles_lantuejoul_weights` of the particles (edge correction).
    nm_per_unit : float, optional
        Nanometres per unit of ``diameters`` (1 for nm); gives the fraction under 100 nm.

    Examples
    --------
    >>> iso = iso_distribution(np.array([10.0, 20.0, 30.0]))
    >>> round(iso.number.d50, 1), round(iso.sauter_mean, 2), round(iso.de_brouckere_mean, 2)
    (20.0, 25.71, 27.22)
    """
    d = np.asarray(diameters, dtype=np.float64)
    valid = np.isfinite(d) & (d > 0)
    if not valid.any():
        return None
    d = d[valid]
    corrected = edge_weights is not None
    base = np.asarray(edge_weights, dtype=np.float64)[valid] if corrected else np.ones(d.size)

    def sizes(power: int) -> WeightedSizes:
        q = weighted_quantile(d, base * d**power, [0.1, 0.5, 0.9])
        return WeightedSizes(*(float(v) for v in q))

    nano, interval = None, None
    if nm_per_unit is not None:
        below = d * nm_per_unit < NANO_LIMIT_NM
        nano = float(np.sum(base[below]) / np.sum(base))
        interval = wilson_interval(int(np.count_nonzero(below)), d.size)
    return IsoDistribution(
        number=sizes(0), area=sizes(2), volume=sizes(3),
        sauter_mean=float(np.sum(base * d**3) / np.sum(base * d**2)),
        de_brouckere_mean=float(np.sum(base * d**4) / np.sum(base * d**3)),
        edge_corrected=corrected, nano_fraction=nano, nano_fraction_ci95=interval,
        particles_for_5_percent_d50=particles_for_d50_precision(d),
    )
