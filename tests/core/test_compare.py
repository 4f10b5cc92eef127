"""Comparing samples: known medians give known verdicts; Holm on known p-values; stability warnings."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.stats import norm

from particle_gui.core.statistics.compare import (
    comparisons_for, compare_samples, d50_ci_halfwidth_percent, format_length, format_p, holm, json_safe,
    stability_warning, unit_groups,
)
from particle_gui.core.params import SummaryParams
from particle_gui.core.statistics.stats import summarise


def lognormal(median: float, n: int, *, sigma: float = 0.25, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(np.log(median), sigma, n)


def test_known_medians_give_the_right_verdicts() -> None:
    result = compare_samples(
        {"A": lognormal(20, 400, seed=1), "B": lognormal(20, 400, seed=2), "C": lognormal(30, 400, seed=3)}, unit="nm"
    )
    assert result.samples == ("A", "B", "C")
    assert result.medians["A"] == pytest.approx(20, rel=0.05) and result.medians["C"] == pytest.approx(30, rel=0.05)
    assert result.kruskal_pvalue < 0.001 and result.anova_pvalue < 0.001
    pairs = {(p.first, p.second): p for p in result.pairs}
    assert pairs["A", "B"].larger is None and pairs["A", "B"].tukey_pvalue > 0.05
    assert pairs["A", "B"].verdict.startswith("A and B do not differ detectably (p = ")
    for other in ("A", "B"):
        pair = pairs[other, "C"]
        assert pair.larger == "C" and pair.tukey_pvalue < 0.001
        assert pair.change_percent == pytest.approx(50, abs=8)
        assert re.fullmatch(
            rf"C is larger than {other} \(median \d\d\.\d nm vs \d\d\.\d nm, \+\d\d %, p < 0\.001\)", pair.verdict
        ), pair.verdict
    assert result.verdicts[0].startswith("Kruskal-Wallis over A, B, C: the size distributions differ (H = ")
    assert result.verdicts[1:] == tuple(p.verdict for p in result.pairs)


def test_direction_is_by_median_and_smaller_first_sample_reads_naturally() -> None:
    result = compare_samples({"big": lognormal(40, 200, seed=4), "small": lognormal(20, 200, seed=5)}, unit="px")
    (pair,) = result.pairs
    assert pair.larger == "big"
    assert pair.verdict.startswith("big is larger than small (median ") and " px vs " in pair.verdict
    assert pair.change_percent == pytest.approx(-50, abs=6)  # second relative to first


def test_same_median_different_shape_is_reported_by_ks() -> None:
    quantiles = norm.ppf((np.arange(600) + 0.5) / 600)  # exact log-normal quantiles: equal medians and log means
    narrow, wide = 20 * np.exp(0.08 * quantiles), 20 * np.exp(0.5 * quantiles)
    (pair,) = compare_samples({"narrow": narrow, "wide": wide}, unit="nm").pairs
    assert pair.larger is None and pair.tukey_pvalue > 0.9 and pair.ks_pvalue_holm < 0.001
    assert "differently shaped distributions (KS D = " in pair.verdict


def test_holm_on_known_pvalues() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]).tolist() == [1.0, 1.0]  # capped at 1, monotone
    assert holm([0.2]).tolist() == [0.2]
    assert holm([]).size == 0


def test_pairwise_ks_pvalues_are_holm_corrected() -> None:
    result = compare_samples({k: lognormal(20 + 2 * i, 150, seed=10 + i) for i, k in enumerate("ABCD")}, unit="nm")
    assert len(result.pairs) == 6
    raw = [p.ks_pvalue for p in result.pairs]
    assert [p.ks_pvalue_holm for p in result.pairs] == pytest.approx(holm(raw).tolist())


@pytest.mark.parametrize(("p", "text"), [
    (0.0, "p < 0.001"), (0.000999, "p < 0.001"), (0.001, "p = 0.001"), (0.0412, "p = 0.041"), (0.41, "p = 0.41"),
    (1.0, "p = 1"), (float("nan"), "p = n/a"),
])
def test_format_p(p: float, text: str) -> None:
    assert format_p(p) == text


def test_format_length() -> None:
    assert [format_length(v, "nm") for v in (31.234, 5.0, 0.5, 999.6, 12345.6)] == \
        ["31.2 nm", "5.00 nm", "0.500 nm", "1000 nm", "12346 nm"]


def test_stability_warning_fires_for_20_particles_not_for_2000() -> None:
    few = summarise(lognormal(20, 20, seed=20), SummaryParams())
    many = summarise(lognormal(20, 2000, seed=21), SummaryParams())
    warning = stability_warning("X", few)
    half = d50_ci_halfwidth_percent(few)
    assert warning == (
        f"Sample X: only 20 particles; D50 95 % CI is ±{half:.0f} % — measure more images for a stable D50"
    )
    assert stability_warning("Y", many) is None
    assert d50_ci_halfwidth_percent(many) < 5
    wide = summarise(lognormal(20, 150, sigma=1.2, seed=22), SummaryParams())  # enough particles, wide interval
    assert 2 * d50_ci_halfwidth_percent(wide) > 10 and "W: 150 particles; D50" in stability_warning("W", wide)
    assert "no particles" in stability_warning("Z", summarise(np.zeros(0)))
    assert "too few for a D50 confidence interval" in stability_warning("V", summarise(np.array([3.0, 4.0])))


def test_units_are_never_mixed() -> None:
    groups, warnings = unit_groups({"A": "nm", "B": "px", "C": "nm", "D": None, "E": "px"})
    assert groups == {"nm": ["A", "C"], "px": ["B", "E"]}
    assert len(warnings) == 1 and "B, E" in warnings[0] and "not compared" in warnings[0]
    data = {k: lognormal(20, 50, seed=30 + i) for i, k in enumerate("ABCE")}
    comparisons, _ = comparisons_for(data, {"A": "nm", "B": "px", "C": "nm", "E": "px"})
    assert [(c.unit, c.samples) for c in comparisons] == [("nm", ("A", "C")), ("px", ("B", "E"))]
    assert comparisons_for({"A": data["A"], "B": data["B"]}, {"A": "nm", "B": "px"})[0] == []


def test_degenerate_inputs_give_answers_not_warnings() -> None:
    same = compare_samples({"A": [10.0] * 5, "B": [10.0] * 5}, unit="px")
    assert same.kruskal_pvalue == 1.0 and same.pairs[0].larger is None
    apart = compare_samples({"A": [10.0] * 5, "B": [20.0] * 5}, unit="px")
    assert apart.pairs[0].larger == "B"
    too_few = compare_samples({"A": [10.0, 11.0], "B": lognormal(20, 30, seed=40), "C": [0.0, -1.0, np.nan]}, unit="nm")
    assert too_few.samples == ("B",) and not too_few.pairs
    assert too_few.verdicts == ("Fewer than two samples have enough particles; nothing to compare.",)
    assert len(too_few.notes) == 2 and "Sample A has 2 particle(s)" in too_few.notes[0]


def test_comparison_serialises_to_json() -> None:
    result = compare_samples({"A": [10.0] * 5, "B": [10.0] * 5}, unit="px")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["anova_f"] is None  # NaN becomes null
    assert data["pairs"][0]["change_percent"] == 0.0 and data["unit"] == "px"
    assert json_safe({"x": (np.int64(2), np.float32(np.inf))}) == {"x": [2, None]}
