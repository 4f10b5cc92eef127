"""Comparing size distributions of samples: tests, pairwise comparisons and plain-language verdicts.

For two or more samples in one unit:

- Kruskal-Wallis on the diameters (do the samples differ at all?);
- one-way ANOVA on ln(diameter) (sizes are close to log-normal, so logs are close to normal);
- Tukey's HSD on ln(diameter) for each pair: the p-value of the pairwise verdict;
- two-sample Kolmogorov-Smirnov for each pair (any difference in shape), Holm-corrected.

The direction of a difference is taken from the medians. Samples in nm and samples in px are
never compared with each other (:func:`unit_groups`).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings as warnings_module
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as scipy_stats

from particle_gui.core.statistics.image_level import compare_images
from particle_gui.core.statistics.stats import Summary

#: Significance level of the verdicts.
ALPHA = 0.05
#: Fewest particles for a sample to take part in the tests.
MIN_FOR_TEST = 3
#: Below this count, or with a D50 95 % interval wider than this fraction of D50, the D50 is unstable.
STABLE_MIN_COUNT = 100
STABLE_MAX_CI_WIDTH = 0.10


@dataclass(frozen=True)
class PairComparison:
    """Two samples compared; ``larger`` names the one with the larger median when they differ."""

    first: str
    second: str
    median_first: float
    median_second: float
    tukey_pvalue: float
    ks_statistic: float
    ks_pvalue: float
    ks_pvalue_holm: float
    larger: str | None
    verdict: str

    @property
    def change_percent(self) -> float:
        """Median of ``second`` relative to ``first``, in percent."""
        return 100.0 * (self.median_second / self.median_first - 1.0) if self.median_first > 0 else math.nan


@dataclass(frozen=True)
class GroupComparison:
    """All samples of one unit compared.

    Attributes
    ----------
    unit : str
    samples : tuple of str
        The samples that took part in the tests (enough particles), in input order.
    counts, medians : dict
        Particle count and median diameter per sample in ``samples``.
    kruskal_h, kruskal_pvalue : float
        Kruskal-Wallis on the diameters (NaN with fewer than two samples).
    anova_f, anova_pvalue : float
        One-way ANOVA on ln(diameter).
    pairs : tuple of PairComparison
    verdicts : tuple of str
        The overall line, then one line per pair.
    notes : tuple of str
        Samples left out and why.
    """

    unit: str
    samples: tuple[str, ...]
    counts: dict[str, int]
    medians: dict[str, float]
    kruskal_h: float = math.nan
    kruskal_pvalue: float = math.nan
    anova_f: float = math.nan
    anova_pvalue: float = math.nan
    pairs: tuple[PairComparison, ...] = ()
    verdicts: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (NaN becomes None), pairs with their change in percent."""
        data = asdict(self)
        data["pairs"] = [{**asdict(pair), "change_percent": pair.change_percent} for pair in self.pairs]
        return json_safe(data)


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, at most 1), in input order.

    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def format_p(p: float) -> str:
    """``"p < 0.001"`` below 0.001, else ``"p = "`` and two significant digits.

    >>> format_p(0.0004), format_p(0.4123), format_p(0.04)
    ('p < 0.001', 'p = 0.41', 'p = 0.04')
    """
    if p is None or not math.isfinite(p):
        return "p = n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def format_length(value: float | None, unit: str) -> str:
    """A length with three significant digits (all digits from 1000 on) and its unit.

    >>> format_length(31.234, "nm"), format_length(23.0, "nm"), format_length(1234.5, "nm")
    ('31.2 nm', '23.0 nm', '1234 nm')
    >>> format_length(None, "px")
    'n/a'
    """
    return "n/a" if value is None or not math.isfinite(value) else f"{format_number(value)} {unit}"


def format_number(value: float) -> str:
    """Three significant digits, trailing zeros kept; whole numbers from 1000 on.

    >>> format_number(0.1234), format_number(100.0), format_number(12345.6)
    ('0.123', '100', '12346')
    """
    if abs(float(f"{value:.3g}")) >= 1000:
        return f"{value:.0f}"
    return f"{value:#.3g}".rstrip(".")


def format_change(percent: float) -> str:
    """A change in percent with its sign: one decimal below 10, none from 10 on.

    >>> format_change(55.4), format_change(-0.4), format_change(3.0)
    ('+55', '-0.4', '+3.0')
    """
    if not math.isfinite(percent):
        return "n/a"
    return f"{percent:+.1f}" if abs(percent) < 9.95 else f"{percent:+.0f}"


def d50_ci_halfwidth_percent(summary: Summary) -> float | None:
    """Half the width of the D50 95 % interval relative to D50, in percent (None without one)."""
    if summary.d50_ci95 is None or not summary.d50:
        return None
    low, high = summary.d50_ci95
    return 50.0 * (high - low) / summary.d50


def stability_warning(name: str, summary: Summary) -> str | None:
    """A warning when a sample's D50 is not stable: fewer than 100 particles or a wide interval.

    Parameters
    ----------
    name : str
        The sample's name.
    summary : Summary
        Its pooled summary (with the bootstrap interval of D50).

    Returns
    -------
    str or None
        e.g. ``"Sample A: only 20 particles; D50 95 % CI is ±12 % — measure more images for a
        stable D50"`` ("only" when under 100 particles); None when the D50 is stable.
    """
    if summary.count == 0:
        return f"Sample {name}: no particles; there is no D50 to report."
    half = d50_ci_halfwidth_percent(summary)
    if summary.count >= STABLE_MIN_COUNT and half is not None and 2 * half <= 100 * STABLE_MAX_CI_WIDTH:
        return None
    spread = f"D50 95 % CI is ±{half:.0f} %" if half is not None else "too few for a D50 confidence interval"
    count = f"only {summary.count}" if summary.count < STABLE_MIN_COUNT else f"{summary.count}"
    return f"Sample {name}: {count} particles; {spread} — measure more images for a stable D50"


def unit_groups(units: Mapping[str, str | None]) -> tuple[dict[str, list[str]], list[str]]:
    """Group samples by unit: only samples in the same unit are compared.

    Parameters
    ----------
    units : mapping of str to str or None
        ``{sample: "nm" | "px" | None}`` (None: nothing was analysed).

    Returns
    -------
    groups : dict of str to list of str
        ``{"nm": [...], "px": [...]}``, units in order of first appearance.
    warnings : list of str
        Why some samples are not compared with others.

    Examples
    --------
    >>> unit_groups({"A": "nm", "B": "px", "C": "nm"})[0]
    {'nm': ['A', 'C'], 'px': ['B']}
    """
    groups: dict[str, list[str]] = {}
    for name, unit in units.items():
        if unit is not None:
            groups.setdefault(unit, []).append(name)
    warnings = []
    if "nm" in groups and "px" in groups:
        warnings.append(
            f"Uncalibrated sample(s) {', '.join(groups['px'])} (sizes in px) are not compared with calibrated "
            f"sample(s) {', '.join(groups['nm'])} (nm); calibrate them (--pixel-size or --scale-bar) to compare all."
        )
    return groups, warnings


def compare_samples(diameters: Mapping[str, ArrayLike], *, unit: str, alpha: float = ALPHA,
                    levels: Mapping[str, Any] | None = None) -> GroupComparison:
    """Compare the size distributions of samples measured in one unit.

    Parameters
    ----------
    diameters : mapping of str to array_like of float
        ``{sample name: diameters}``, in the order the samples should be listed; all positive.
    unit : str
        Their unit (``"nm"`` or ``"px"``), used in the verdicts.
    alpha : float
        Significance level.
    levels : mapping of str to ImageLevel, optional
        Each sample image by image (:mod:`particle_gui.core.statistics.image_level`): pairs whose samples
        both have enough images are judged by a Welch test on their images' log-medians (the
        images are the independent units), the others by Tukey's HSD on the particles.

    Returns
    -------
    GroupComparison
        Samples with fewer than :data:`MIN_FOR_TEST` particles are left out (see ``notes``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> result = compare_samples({"A": rng.lognormal(np.log(20), 0.2, 300),
    ...                           "B": rng.lognormal(np.log(30), 0.2, 300)}, unit="nm")
    >>> result.pairs[0].larger
    'B'
    """
    data = {}
    notes = []
    for name, values in diameters.items():
        d = np.asarray(values, dtype=np.float64)
        d = d[np.isfinite(d) & (d > 0)]
        if d.size < MIN_FOR_TEST:
            notes.append(f"Sample {name} has {d.size} particle(s) and is left out of the tests (needs {MIN_FOR_TEST}).")
        else:
            data[name] = d
    names = tuple(data)
    counts = {name: int(d.size) for name, d in data.items()}
    medians = {name: float(np.median(d)) for name, d in data.items()}
    if len(names) < 2:
        verdict = "Fewer than two samples have enough particles; nothing to compare."
        return GroupComparison(unit, names, counts, medians, verdicts=(verdict,), notes=tuple(notes))
    groups = [data[name] for name in names]
    logs = [np.log(d) for d in groups]
    with _quiet():
        if np.ptp(np.concatenate(groups)) == 0:  # every particle the same size: nothing differs
            kruskal_h, kruskal_p = 0.0, 1.0
        else:
            kruskal_h, kruskal_p = (float(v) for v in scipy_stats.kruskal(*groups))
        anova_f, anova_p = (float(v) for v in scipy_stats.f_oneway(*logs))
        tukey = np.asarray(scipy_stats.tukey_hsd(*logs).pvalue, dtype=np.float64)
        index_pairs = list(itertools.combinations(range(len(names)), 2))
        ks = [scipy_stats.ks_2samp(groups[i], groups[j]) for i, j in index_pairs]
    ks_holm = holm([float(r.pvalue) for r in ks])
    pairs = []
    for (i, j), ks_result, ks_adjusted in zip(index_pairs, ks, ks_holm):
        p_tukey = float(tukey[i, j])
        if not math.isfinite(p_tukey):  # no spread within the groups: equal medians or clearly apart
            p_tukey = 1.0 if medians[names[i]] == medians[names[j]] else 0.0
        by_image = compare_images(*(levels.get(names[k]) for k in (i, j))) if levels else None
        if by_image is not None:
            p_tukey = by_image
        pairs.append(
            _pair(names[i], names[j], data, medians, p_tukey, float(ks_result.statistic), float(ks_result.pvalue),
                  float(ks_adjusted), unit=unit, alpha=alpha)
        )
    listed = ", ".join(names)
    finding = "the size distributions differ" if kruskal_p < alpha else "no detectable difference"
    overall = f"Kruskal-Wallis over {listed}: {finding} (H = {kruskal_h:.3g}, {format_p(kruskal_p)})."
    return GroupComparison(
        unit=unit, samples=names, counts=counts, medians=medians,
        kruskal_h=kruskal_h, kruskal_pvalue=kruskal_p, anova_f=anova_f, anova_pvalue=anova_p,
        pairs=tuple(pairs), verdicts=(overall, *(pair.verdict for pair in pairs)), notes=tuple(notes),
    )


def _pair(
    first: str, second: str, data: Mapping[str, np.ndarray], medians: Mapping[str, float],
    p_tukey: float, ks_d: float, ks_p: float, ks_p_holm: float, *, unit: str, alpha: float,
) -> PairComparison:
    """One pair's numbers and its verdict line (direction by median, geometric mean on a tie)."""
    m1, m2 = medians[first], medians[second]
    if m1 == m2:
        m1, m2 = float(np.exp(np.log(data[first]).mean())), float(np.exp(np.log(data[second]).mean()))
    big, small = (second, first) if m2 > m1 else (first, second)
    larger = big if p_tukey < alpha and m1 != m2 else None
    if larger is not None:
        change = 100.0 * (medians[big] / medians[small] - 1.0)
        verdict = (
            f"{big} is larger than {small} (median {format_length(medians[big], unit)} vs "
            f"{format_length(medians[small], unit)}, {format_change(change)} %, {format_p(p_tukey)})"
        )
    elif ks_p_holm < alpha:
        verdict = (
            f"{first} and {second} have similar sizes ({format_p(p_tukey)}) but differently shaped distributions "
            f"(KS D = {ks_d:.2f}, {format_p(ks_p_holm)})"
        )
    else:
        verdict = f"{first} and {second} do not differ detectably ({format_p(p_tukey)})"
    return PairComparison(
        first=first, second=second, median_first=medians[first], median_second=medians[second],
        tukey_pvalue=p_tukey, ks_statistic=ks_d, ks_pvalue=ks_p, ks_pvalue_holm=ks_p_holm,
        larger=larger, verdict=verdict,
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the divide-by-zero warnings of tests on groups without spread (results are inf/NaN)."""
    with warnings_module.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings_module.simplefilter("ignore", RuntimeWarning)
        warnings_module.simplefilter("ignore", getattr(scipy_stats, "ConstantInputWarning", RuntimeWarning))
        yield


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None and numpy scalars as Python ones (for JSON).

    >>> json_safe({"p": float("nan"), "n": np.int64(3)})
    {'p': None, 'n': 3}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def comparisons_for(
    diameters: Mapping[str, ArrayLike], units: Mapping[str, str | None], *, alpha: float = ALPHA,
    levels: Mapping[str, Any] | None = None,
) -> tuple[list[GroupComparison], list[str]]:
    """Compare samples within each unit group (groups of one sample are skipped).

    Returns
    -------
    comparisons : list of GroupComparison
    warnings : list of str
        From :func:`unit_groups`.
    """
    groups, warnings = unit_groups(units)
    comparisons = [
        compare_samples({name: diameters[name] for name in names}, unit=unit, alpha=alpha, levels=levels)
        for unit, names in groups.items()
        if len(names) >= 2
    ]
    return comparisons, warnings
