"""Statistics that do not overstate: corrected goodness of fit, families only when there are
several, the image as the unit, edge correction and ISO 9276-2 views (known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from particle_gui.core.statistics.compare import compare_samples
from particle_gui.core.statistics.distributions import iso_distribution, miles_lantuejoul_weights, weighted_quantile
from particle_gui.core.statistics.fit_tests import lilliefors, silverman_unimodality
from particle_gui.core.statistics.image_level import image_level
from particle_gui.core.statistics.stats import summarise


def test_lilliefors_keeps_log_normal_and_rejects_normal_in_d():
    rng = np.random.default_rng(3)
    assert lilliefors(rng.normal(0.0, 0.5, 400))[1] > 0.05
    assert lilliefors(np.log(rng.normal(100.0, 25.0, 400)))[1] < 0.05  # normal in d is not log-normal


def test_one_family_for_skewed_single_mode_samples_two_for_two_populations():
    rng = np.random.default_rng(4)
    for single in (rng.normal(100.0, 15.0, 1000), rng.gamma(4.0, 10.0, 1000)):
        assert len(summarise(single).families) == 1
    two = np.r_[rng.lognormal(np.log(20), 0.12, 500), rng.lognormal(np.log(60), 0.12, 500)]
    families = summarise(two).families
    assert len(families) == 2 and families[0].median == pytest.approx(20, rel=0.05)
    assert silverman_unimodality(np.log(two)) < 0.01


def _sample(rng, median: float, between: float, images: int = 10, particles: int = 100):
    return [rng.lognormal(np.log(median) + rng.normal(0.0, between), 0.4, particles) for _ in range(images)]


def test_image_level_interval_widens_with_the_images_spread_and_comparisons_use_it():
    rng = np.random.default_rng(5)
    same_a, same_b = _sample(rng, 20.0, 0.10), _sample(rng, 20.0, 0.10)
    level_a, level_b = image_level(same_a), image_level(same_b)
    pooled = summarise(np.concatenate(same_a))
    low, high = level_a.d50_ci95
    assert high - low > (pooled.d50_ci95[1] - pooled.d50_ci95[0])  # wider than counting particles as independent
    assert low < 20.0 < high and level_a.disagree  # the images disagree beyond sampling: said so
    by_particles = compare_samples({"A": np.concatenate(same_a), "B": np.concatenate(same_b)}, unit="nm")
    by_images = compare_samples({"A": np.concatenate(same_a), "B": np.concatenate(same_b)}, unit="nm",
                                levels={"A": level_a, "B": level_b})
    assert by_images.pairs[0].larger is None
    assert by_images.pairs[0].tukey_pvalue > by_particles.pairs[0].tukey_pvalue
    bigger = image_level(_sample(rng, 26.0, 0.10))
    verdict = compare_samples({"A": np.concatenate(same_a), "C": np.concatenate(_sample(rng, 26.0, 0.1))},
                              unit="nm", levels={"A": level_a, "C": bigger})
    assert verdict.pairs[0].larger == "C"


def test_edge_correction_undoes_the_loss_of_large_particles():
    rng = np.random.default_rng(6)
    naive, corrected = [], []
    for _ in range(200):
        d = 100 * np.exp(rng.normal(0, 0.5, 200))
        x, y = rng.uniform(0, 1024, 200), rng.uniform(0, 768, 200)
        whole = (x - d / 2 >= 0) & (x + d / 2 <= 1024) & (y - d / 2 >= 0) & (y + d / 2 <= 768)
        seen = d[whole]
        naive.append(np.median(seen))
        corrected.append(float(weighted_quantile(seen, miles_lantuejoul_weights(seen, seen, (768, 1024)), 0.5)))
    assert np.median(naive) / 100 - 1 < -0.04
    assert abs(np.median(corrected) / 100 - 1) < 0.02


def test_iso_views_of_a_known_distribution():
    iso = iso_distribution(np.array([10.0, 10.0, 20.0, 40.0]), nm_per_unit=9.0)  # 90, 90, 180, 360 nm
    assert iso.number.d50 == pytest.approx(15.0)
    assert iso.volume.d50 > iso.area.d50 > iso.number.d50
    assert iso.sauter_mean == pytest.approx((2 * 1e3 + 8e3 + 64e3) / (2 * 100 + 400 + 1600))
    assert iso.nano_fraction == pytest.approx(0.5) and iso.nano_fraction_ci95[0] < 0.5 < iso.nano_fraction_ci95[1]
