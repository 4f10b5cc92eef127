"""Tests that keep the summary honest: log-normal goodness of fit, and whether there is more than one size family.

- **Goodness of fit with estimated parameters.** A Kolmogorov-Smirnov test against a normal
  whose mean and standard deviation were fitted on the same data almost never rejects (0 % at
  the 5 % level on true log-normals, and little power). The Lilliefors test compares the same
  statistic with its distribution under fitting, found here by parametric bootstrap: normal
  samples of the same size, each fitted and tested the same way (seeded, so repeatable).
- **Unimodality.** A Gaussian mixture chosen by BIC splits any skewed single-mode sample into
  two or three "families". Silverman's test asks whether the data need a kernel density with
  more than one mode: the critical bandwidth (the smallest that gives one mode) is found by
  bisection, and smoothed-bootstrap samples drawn at that bandwidth say how often one mode
  would need a bandwidth that small. Families are reported only when the test rejects one mode.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as scipy_stats

#: Parametric-bootstrap samples for the Lilliefors p-value, and bootstrap samples for Silverman's test.
LILLIEFORS_SAMPLES = 400
SILVERMAN_SAMPLES = 200
#: Larger samples are tested on a seeded subsample of this size (the tests need the shape, not every particle).
MAX_TEST_SAMPLE = 2000
_GRID = 512


def _ks_normal(x: np.ndarray) -> np.ndarray:
    """KS statistic of each row against a normal fitted to that row (ddof=0), vectorised."""
    x = np.sort(x, axis=-1)
    n = x.shape[-1]
    mean = x.mean(axis=-1, keepdims=True)
    std = x.std(axis=-1, keepdims=True)
    std = np.where(std > 0, std, 1.0)
    cdf = scipy_stats.norm.cdf((x - mean) / std)
    i = np.arange(1, n + 1)
    return np.maximum((i / n - cdf).max(axis=-1), (cdf - (i - 1) / n).max(axis=-1))


def lilliefors(values: np.ndarray, *, seed: int = 0, samples: int = LILLIEFORS_SAMPLES) -> tuple[float, float]:
    """(KS statistic, Lilliefors p-value) of normality for ``values`` (for sizes: ln d).

    >>> x = np.random.default_rng(1).normal(0, 1, 300)
    >>> round(lilliefors(x)[1], 2) > 0.05, lilliefors(np.exp(x))[1] < 0.01
    (True, True)
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size > MAX_TEST_SAMPLE:
        x = rng.choice(x, MAX_TEST_SAMPLE, replace=False)
    if x.size < 5 or np.ptp(x) == 0:
        return 0.0, 1.0
    observed = float(_ks_normal(x))
    simulated = _ks_normal(rng.standard_normal((samples, x.size)))
    return observed, float((np.count_nonzero(simulated >= observed) + 1) / (samples + 1))


def _modes(x: np.ndarray, bandwidth: float, grid: np.ndarray) -> int:
    """Number of local maxima of the Gaussian kernel density of ``x`` on ``grid``."""
    counts, edges = np.histogram(x, bins=grid.size, range=(grid[0], grid[-1]))
    step = edges[1] - edges[0]
    sigma = bandwidth / step
    half = int(np.ceil(4 * sigma)) + 1
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    density = np.convolve(counts, kernel, mode="same")
    rising = np.diff(density) > 1e-12 * density.max()
    falling = np.diff(density) < -1e-12 * density.max()
    # a mode: rising into it and falling out of it (ignoring flat steps)
    signs = np.where(rising, 1, np.where(falling, -1, 0))
    signs = signs[signs != 0]
    return int(np.count_nonzero((signs[:-1] == 1) & (signs[1:] == -1))) if signs.size > 1 else 1


def critical_bandwidth(x: np.ndarray, grid: np.ndarray) -> float:
    """The smallest kernel bandwidth (bisection) at which the density of ``x`` has one mode."""
    low, high = 1e-3 * np.std(x), 2.0 * np.ptp(x) + 1e-9
    for _ in range(30):
        middle = np.sqrt(low * high)
        if _modes(x, middle, grid) > 1:
            low = middle
        else:
            high = middle
    return high


def silverman_unimodality(values: np.ndarray, *, seed: int = 0, samples: int = SILVERMAN_SAMPLES) -> float:
    """p-value of Silverman's test of one mode (small: more than one mode).

    >>> rng = np.random.default_rng(0)
    >>> silverman_unimodality(rng.gamma(4.0, size=800)) > 0.05
    True
    >>> silverman_unimodality(np.r_[rng.normal(0, 1, 400), rng.normal(5, 1, 400)]) < 0.05
    True
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size > MAX_TEST_SAMPLE:
        x = rng.choice(x, MAX_TEST_SAMPLE, replace=False)
    if x.size < 10 or np.ptp(x) == 0:
        return 1.0
    span = np.ptp(x)
    grid = np.linspace(x.min() - 0.5 * span, x.max() + 0.5 * span, _GRID)
    h = critical_bandwidth(x, grid)
    variance = np.var(x)
    shrink = 1.0 / np.sqrt(1.0 + h * h / variance)  # keeps the bootstrap samples' variance that of x
    exceed = 0
    for _ in range(samples):
        drawn = rng.choice(x, x.size, replace=True)
        smooth = x.mean() + shrink * (drawn - x.mean() + h * rng.standard_normal(x.size))
        exceed += _modes(smooth, h, grid) > 1
    return float((exceed + 1) / (samples + 1))
