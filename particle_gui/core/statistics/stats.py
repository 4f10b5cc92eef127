"""Size-distribution statistics: percentiles, log-normal fit, bootstrap intervals, size families."""

from __future__ import annotations

import functools
import threading
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats as scipy_stats

from particle_gui.core.statistics.distributions import IsoDistribution, iso_distribution
from particle_gui.core.statistics.fit_tests import lilliefors, silverman_unimodality
from particle_gui.core.statistics.mixture import fit_mixture_1d
from particle_gui.core.params import SummaryParams

#: Fewest particles for a log-normal fit and bootstrap intervals; per family for mixtures.
MIN_FOR_FIT = 5
MIN_PER_FAMILY = 10
MAX_MIXTURE_SAMPLE = 2000
#: More than one size family only when Silverman's test rejects a single mode at this level.
FAMILY_ALPHA = 0.05


@dataclass(frozen=True)
class LogNormalFit:
    """Log-normal fit of the diameters: ``ln d ~ N(mu, sigma)``, median = exp(mu)."""

    mu: float
    sigma: float
    median: float
    ks_statistic: float
    #: Lilliefors p-value: the KS statistic against its distribution when mu and sigma are fitted
    #: on the same data (:func:`particle_gui.core.statistics.fit_tests.lilliefors`); small = not log-normal.
    lilliefors_pvalue: float
    qq_theoretical: tuple[float, ...]
    qq_observed: tuple[float, ...]


@dataclass(frozen=True)
class SizeFamily:
    """One mode of a multi-modal size distribution (a Gaussian in ln d)."""

    weight: float
    median: float
    gsd: float


@dataclass(frozen=True)
class ClassSummary:
    """Size statistics of the particles of one shape class (lengths in the summary's unit)."""

    shape_class: str
    count: int
    fraction: float
    d10: float | None = None
    d50: float | None = None
    d90: float | None = None


@dataclass(frozen=True)
class Summary:
    """Summary of one size distribution (all lengths in ``unit``); ``shape_classes`` per class."""

    count: int
    unit: str
    mean: float | None = None
    std: float | None = None
    d10: float | None = None
    d50: float | None = None
    d90: float | None = None
    geometric_mean: float | None = None
    gsd: float | None = None
    mean_ci95: tuple[float, float] | None = None
    d50_ci95: tuple[float, float] | None = None
    lognormal: LogNormalFit | None = None
    families: tuple[SizeFamily, ...] = field(default=())
    shape_classes: tuple[ClassSummary, ...] = field(default=())
    #: The ISO 9276-2 view: number/area/volume D10-D90, D[3,2], D[4,3], edge-corrected when the
    #: particles' edge weights were given (:mod:`particle_gui.core.statistics.distributions`).
    iso: IsoDistribution | None = None

    def to_dict(self) -> dict:
        return asdict(self)


#: scipy.stats distributions keep per-call state on shared objects; two summaries computed at once
#: in two threads (the analysis worker and the editor's) crashed the process once. One at a time.
_SUMMARY_LOCK = threading.Lock()


def _one_at_a_time(function):
    """Run ``function`` under :data:`_SUMMARY_LOCK` (its signature and docstring kept)."""

    @functools.wraps(function)
    def locked(*args, **kwargs):
        with _SUMMARY_LOCK:
            return function(*args, **kwargs)

    return locked


@_one_at_a_time
def summarise(
    diameters: np.ndarray,
    params: SummaryParams = SummaryParams(),
    *,
    unit: str = "px",
    classes: np.ndarray | None = None,
    fits: bool = True,
    edge_weights: np.ndarray | None = None,
    nm_per_unit: float | None = None,
) -> Summary:
    """Summarise a size distribution.

    Parameters
    ----------
    diameters : ndarray of float, shape (N,)
        Particle diameters (for example ECD), all positive.
    params : SummaryParams
        Bootstrap resamples, largest number of families, random seed.
    unit : str
        Unit of ``diameters``, carried into the summary.
    classes : ndarray of str, shape (N,), optional
        Shape class of each particle; gives ``shape_classes`` (see :func:`class_summaries`).
    fits : bool
        False leaves out the bootstrap intervals, the log-normal fit and the families (the
        costly part), e.g. for an immediate update while the user edits.
    edge_weights : ndarray of float, shape (N,), optional
        Miles-Lantuéjoul weights of the particles: the ISO view is then edge-corrected.
    nm_per_unit : float, optional
        Nanometres per unit of ``diameters``: the ISO view then gives the fraction under 100 nm.

    Returns
    -------
    Summary
        Fields that need more particles than there are stay None.

    Examples
    --------
    >>> s = summarise(np.array([10.0, 10.0, 10.0]))
    >>> s.count, s.d50
    (3, 10.0)
    """
    d = np.asarray(diameters, dtype=np.float64)
    valid = np.isfinite(d) & (d > 0)
    d = d[valid]
    n = d.size
    if n == 0:
        return Summary(count=0, unit=unit)
    weights = np.asarray(edge_weights, dtype=np.float64)[valid] if edge_weights is not None else None
    iso = iso_distribution(d, edge_weights=weights, nm_per_unit=nm_per_unit)
    by_class = class_summaries(d, np.asarray(classes, dtype=object)[valid]) if classes is not None else ()
    d10, d50, d90 = (float(v) for v in np.percentile(d, [10, 50, 90]))
    logs = np.log(d)
    base = dict(
        count=n,
        unit=unit,
        mean=float(d.mean()),
        std=float(d.std(ddof=1)) if n > 1 else 0.0,
        d10=d10,
        d50=d50,
        d90=d90,
        geometric_mean=float(np.exp(logs.mean())),
        gsd=float(np.exp(logs.std(ddof=1))) if n > 1 else 1.0,
        shape_classes=by_class,
        iso=iso,
    )
    if n < MIN_FOR_FIT or not fits:
        return Summary(**base)
    rng = np.random.default_rng(params.seed)
    mean_ci, d50_ci = bootstrap_ci(d, resamples=params.bootstrap_samples, rng=rng)
    return Summary(
        **base,
        mean_ci95=mean_ci,
        d50_ci95=d50_ci,
        lognormal=fit_lognormal(d),
        families=size_families(d, max_families=params.max_families, seed=params.seed),
    )


def class_summaries(diameters: np.ndarray, classes: np.ndarray) -> tuple[ClassSummary, ...]:
    """Count, fraction and D10/D50/D90 per shape class.

    Classes come in the order of :data:`particle_gui.core.analysis.shape_classes.SHAPE_CLASSES`, then any
    others (such as "unclassified"); only classes with particles are listed.

    >>> [(c.shape_class, c.count, c.d50) for c in class_summaries(np.array([1.0, 2.0, 3.0]),
    ...                                                          np.array(["rod", "round", "round"]))]
    [('round', 2, 2.5), ('rod', 1, 1.0)]
    """
    from particle_gui.core.analysis.shape_classes import class_order

    d = np.asarray(diameters, dtype=np.float64)
    names = np.asarray(classes, dtype=object).astype(str)
    if d.shape != names.shape:
        raise ValueError("diameters and classes must have the same length")
    out = []
    for name in class_order(names):
        part = d[names == name]
        d10, d50, d90 = (float(v) for v in np.percentile(part, [10, 50, 90]))
        out.append(ClassSummary(name, int(part.size), part.size / max(d.size, 1), d10, d50, d90))
    return tuple(out)


def bootstrap_ci(
    d: np.ndarray, *, resamples: int, rng: np.random.Generator
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Percentile bootstrap 95 % intervals of the mean and the median.

    The medians are found by counting instead of partitioning every resample: with ``rank``
    the position of each value in sorted order, a resample's k-th smallest value is the
    sorted value at the first rank where the resample's cumulative rank count exceeds k.
    This gives exactly what ``np.median`` of the resample gives, in about half the time.
    """
    n = d.size
    chunk = max(1, min(resamples, 20_000_000 // max(n, 1)))
    order = np.argsort(d, kind="stable")
    d_sorted = d[order]
    rank = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    rank[order] = np.arange(n, dtype=rank.dtype)
    middle = (n // 2,) if n % 2 else (n // 2 - 1, n // 2)
    means, medians = [], []
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        ranks = rank[rng.integers(0, n, size=(size, n))]
        means.append(d_sorted[ranks].mean(axis=1))
        keys = ranks + (np.arange(size, dtype=np.int64) * n)[:, None]
        cumulative = np.bincount(keys.ravel(), minlength=size * n).reshape(size, n).cumsum(axis=1)
        picked = [d_sorted[(cumulative <= k).sum(axis=1)] for k in middle]
        medians.append(picked[0] if len(picked) == 1 else (picked[0] + picked[1]) / 2)
        done += size
    means_all, medians_all = np.concatenate(means), np.concatenate(medians)
    mean_ci = tuple(float(v) for v in np.percentile(means_all, [2.5, 97.5]))
    d50_ci = tuple(float(v) for v in np.percentile(medians_all, [2.5, 97.5]))
    return mean_ci, d50_ci  # type: ignore[return-value]


def fit_lognormal(d: np.ndarray, *, qq_points: int = 100) -> LogNormalFit:
    """Maximum-likelihood log-normal fit, Lilliefors goodness of fit and Q-Q data."""
    logs = np.log(d)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=0))
    if sigma == 0:
        return LogNormalFit(mu, 0.0, float(np.exp(mu)), 0.0, 1.0, (), ())
    statistic, pvalue = lilliefors(logs)
    probabilities = (np.arange(1, qq_points + 1) - 0.5) / qq_points
    theoretical = np.exp(mu + sigma * scipy_stats.norm.ppf(probabilities))
    observed = np.quantile(d, probabilities)
    return LogNormalFit(
        mu=mu,
        sigma=sigma,
        median=float(np.exp(mu)),
        ks_statistic=statistic,
        lilliefors_pvalue=pvalue,
        qq_theoretical=tuple(float(v) for v in theoretical),
        qq_observed=tuple(float(v) for v in observed),
    )


def size_families(d: np.ndarray, *, max_families: int = 3, seed: int = 0) -> tuple[SizeFamily, ...]:
    """Gaussian mixtures of 1..``max_families`` components in ln d, the one with the lowest BIC.

    Mixtures are compared only when Silverman's test finds more than one mode in ln d; else there is
    one family (a skewed single-mode sample is not several families).
    """
    logs = np.log(d).reshape(-1, 1)
    if max_families > 1 and silverman_unimodality(logs[:, 0], seed=seed) >= FAMILY_ALPHA:
        max_families = 1
    if logs.shape[0] > MAX_MIXTURE_SAMPLE:  # the mixture needs the shape, not every particle
        logs = np.random.default_rng(seed).choice(logs, MAX_MIXTURE_SAMPLE, replace=False, axis=0)
    largest = min(max_families, d.size // MIN_PER_FAMILY)
    if largest < 1 or np.ptp(logs) == 0:
        return ()
    best, best_bic = None, np.inf
    for k in range(1, largest + 1):
        weights, means, variances, bic = fit_mixture_1d(logs, k, seed=seed)
        if bic < best_bic:
            best, best_bic = (weights, means, variances), bic
    weights, means, variances = best  # type: ignore[misc]
    return tuple(
        SizeFamily(weight=float(weights[i]), median=float(np.exp(means[i])), gsd=float(np.exp(np.sqrt(variances[i]))))
        for i in np.argsort(means)
    )
