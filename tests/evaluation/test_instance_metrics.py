"""Known-answer tests for particle_gui.core.adapt.matching and evaluation.emps."""

import json
import math

import numpy as np
import pytest

from evaluation import emps
from particle_gui.core.adapt.matching import (
    MAP_THRESHOLDS,
    drop_edge_instances,
    equivalent_diameters,
    match_instances,
    relative_count_error,
    relative_d50_error,
)


def squares(shape, boxes):
    """Label image with box ``(id, r0, r1, c0, c1)`` filled with ``id``."""
    labels = np.zeros(shape, dtype=np.int32)
    for label_id, r0, r1, c0, c1 in boxes:
        labels[r0:r1, c0:c1] = label_id
    return labels


TWO = squares((40, 40), [(1, 5, 15, 5, 15), (2, 20, 30, 20, 30)])


# --- matching -------------------------------------------------------------

def test_identical_with_permuted_ids():
    pred = np.zeros_like(TWO)
    pred[TWO == 1] = 907
    pred[TWO == 2] = 13
    res = match_instances(TWO, pred)
    assert (res.n_true, res.n_pred) == (2, 2)
    np.testing.assert_array_equal(res.ious, [1.0, 1.0])
    assert sorted(zip(res.true_ids.tolist(), res.pred_ids.tolist())) == [(1, 907), (2, 13)]
    assert res.f1(0.5) == 1.0
    assert res.ap(0.95) == 1.0
    assert res.mean_ap() == 1.0
    assert (res.tp(0.5), res.fp(0.5), res.fn(0.5)) == (2, 0, 0)


def test_one_of_two_missed():
    pred = np.where(TWO == 1, 5, 0)
    res = match_instances(TWO, pred)
    assert (res.tp(0.5), res.fp(0.5), res.fn(0.5)) == (1, 0, 1)
    assert res.f1(0.5) == pytest.approx(2 / 3)
    assert res.ap(0.5) == pytest.approx(1 / 2)
    assert res.mean_ap() == pytest.approx(1 / 2)


def test_extra_prediction_is_false_positive():
    pred = TWO.copy()
    pred[33:38, 2:7] = 3
    res = match_instances(TWO, pred)
    assert (res.tp(0.5), res.fp(0.5), res.fn(0.5)) == (2, 1, 0)
    assert res.f1(0.5) == pytest.approx(4 / 5)


def test_shifted_square_iou_one_third():
    true = squares((30, 30), [(1, 5, 15, 5, 15)])
    pred = squares((30, 30), [(1, 5, 15, 10, 20)])  # overlap 5x10 = 50, union 150
    res = match_instances(true, pred)
    np.testing.assert_allclose(res.ious, [1 / 3])
    assert res.tp(0.3) == 1 and res.f1(0.3) == 1.0
    assert res.tp(0.5) == 0
    assert (res.fp(0.5), res.fn(0.5)) == (1, 1)
    assert res.f1(0.5) == 0.0
    assert res.mean_ap() == 0.0


def test_iou_exactly_at_threshold_counts():
    true = squares((30, 30), [(1, 0, 10, 0, 10)])
    pred = squares((30, 30), [(1, 0, 10, 0, 5)])  # IoU = 50 / 100
    res = match_instances(true, pred)
    assert res.ious[0] == 0.5
    assert res.tp(0.5) == 1 and res.tp(0.55) == 0
    assert res.mean_ap() == pytest.approx(0.1)


def test_mean_ap_over_thresholds():
    # IoU = 14 / 20 = 0.7 -> AP is 1 for t in 0.50..0.70 (5 thresholds), else 0.
    true = squares((30, 30), [(1, 0, 2, 0, 10)])
    pred = squares((30, 30), [(1, 0, 2, 0, 7)])
    res = match_instances(true, pred)
    assert res.ious[0] == pytest.approx(0.7)
    assert len(MAP_THRESHOLDS) == 10
    assert MAP_THRESHOLDS[0] == 0.5 and MAP_THRESHOLDS[-1] == 0.95
    assert res.mean_ap() == pytest.approx(0.5)


def test_merge_gives_at_most_one_true_positive():
    true = squares((20, 30), [(1, 5, 15, 5, 15), (2, 5, 15, 15, 25)])
    pred = squares((20, 30), [(9, 5, 15, 5, 25)])  # both merged: IoU 0.5 each
    res = match_instances(true, pred)
    assert len(res.ious) == 1
    assert res.tp(0.5) == 1
    assert (res.fp(0.5), res.fn(0.5)) == (0, 1)
    assert res.f1(0.5) == pytest.approx(2 / 3)

    # An unequal merge: the larger true particle wins the single match.
    true = squares((20, 30), [(1, 5, 15, 5, 20), (2, 5, 15, 20, 25)])
    res = match_instances(true, pred)
    assert len(res.ious) == 1
    assert res.true_ids.tolist() == [1] and res.ious[0] == pytest.approx(0.75)


def test_split_prediction_gives_at_most_one_true_positive():
    true = squares((20, 30), [(4, 5, 15, 5, 25)])
    pred = squares((20, 30), [(1, 5, 15, 5, 15), (2, 5, 15, 15, 25)])
    res = match_instances(true, pred)
    assert (res.tp(0.5), res.fp(0.5), res.fn(0.5)) == (1, 1, 0)


def test_hungarian_prefers_global_optimum():
    # Greedy matching of the highest IoU first would leave true 2 unmatched.
    true = squares((10, 40), [(1, 0, 1, 0, 10), (2, 0, 1, 10, 20)])
    pred = squares((10, 40), [(1, 0, 1, 2, 12), (2, 0, 1, 12, 22)])
    res = match_instances(true, pred)
    assert len(res.ious) == 2
    assert res.tp(0.5) == 2


def test_empty_images():
    empty = np.zeros((16, 16), dtype=np.int32)
    res = match_instances(empty, empty)
    assert (res.n_true, res.n_pred, len(res.ious)) == (0, 0, 0)
    assert res.f1(0.5) == 1.0 and res.ap(0.5) == 1.0 and res.mean_ap() == 1.0

    res = match_instances(TWO, np.zeros_like(TWO))
    assert (res.tp(0.5), res.fp(0.5), res.fn(0.5)) == (0, 0, 2)
    assert res.f1(0.5) == 0.0 and res.mean_ap() == 0.0

    res = match_instances(np.zeros_like(TWO), TWO)
    assert (res.tp(0.5), res.fp(0.5), res.fn(0.5)) == (0, 2, 0)
    assert res.f1(0.5) == 0.0


def test_result_is_frozen_and_read_only():
    res = match_instances(TWO, TWO)
    with pytest.raises(AttributeError):
        res.n_true = 5
    with pytest.raises(ValueError):
        res.ious[0] = 0.0


def test_input_validation():
    with pytest.raises(ValueError):
        match_instances(TWO, TWO[:-1])
    with pytest.raises(TypeError):
        match_instances(TWO.astype(float), TWO)
    with pytest.raises(ValueError):
        match_instances(-TWO, TWO)


def test_many_instances_against_brute_force():
    rng = np.random.default_rng(1)
    true = rng.integers(0, 6, size=(12, 12)) * 3
    pred = rng.integers(0, 5, size=(12, 12)) + 100 * (rng.random((12, 12)) > 0.3)
    res = match_instances(true, pred)
    t_ids = [i for i in np.unique(true) if i]
    p_ids = [j for j in np.unique(pred) if j]
    for ti, pj, iou in zip(res.true_ids, res.pred_ids, res.ious):
        a, b = true == ti, pred == pj
        assert iou == pytest.approx((a & b).sum() / (a | b).sum())
    assert (res.n_true, res.n_pred) == (len(t_ids), len(p_ids))
    assert len(set(res.true_ids.tolist())) == len(res.true_ids)
    assert len(set(res.pred_ids.tolist())) == len(res.pred_ids)


# --- count, diameters, edges ---------------------------------------------

def test_relative_count_error():
    four = squares((40, 40), [(i + 1, 10 * i, 10 * i + 5, 0, 5) for i in range(4)])
    three = np.where(four == 4, 0, four)
    assert relative_count_error(four, three) == pytest.approx(0.25)
    assert relative_count_error(three, four) == pytest.approx(1 / 3)
    assert relative_count_error(four, four) == 0.0
    assert math.isnan(relative_count_error(np.zeros_like(four), four))


def test_equivalent_diameters_of_known_areas():
    labels = squares((40, 40), [(7, 0, 10, 0, 10), (3, 20, 22, 20, 22)])
    # Ordered by id: id 3 (area 4) then id 7 (area 100).
    np.testing.assert_allclose(
        equivalent_diameters(labels), [math.sqrt(16 / math.pi), math.sqrt(400 / math.pi)]
    )
    assert equivalent_diameters(np.zeros((5, 5), dtype=np.int32)).shape == (0,)


def test_relative_d50_error():
    # Three 10x10 squares (median ECD of area 100) vs three 20x20 (area 400):
    # ECD scales with the side, so the relative error is exactly 1.
    small = squares((80, 80), [(i + 1, 0, 10, 20 * i, 20 * i + 10) for i in range(3)])
    large = squares((80, 80), [(i + 1, 30, 50, 25 * i, 25 * i + 20) for i in range(3)])
    assert relative_d50_error(small, large) == pytest.approx(1.0)
    assert relative_d50_error(large, small) == pytest.approx(0.5)
    assert relative_d50_error(small, small) == 0.0
    # The median ignores one outlier.
    with_outlier = small.copy()
    with_outlier[60:80, 60:80] = 9
    assert relative_d50_error(small, with_outlier) == pytest.approx(0.0)
    empty = np.zeros_like(small)
    assert math.isnan(relative_d50_error(empty, small))
    assert math.isnan(relative_d50_error(small, empty))


def test_drop_edge_instances():
    labels = squares(
        (20, 20),
        [
            (1, 0, 3, 5, 8),  # top edge
            (2, 17, 20, 5, 8),  # bottom edge
            (3, 5, 8, 0, 3),  # left edge
            (4, 5, 8, 17, 20),  # right edge
            (5, 8, 12, 8, 12),  # interior
            (6, 1, 4, 1, 4),  # interior, one pixel from the corner
            (8, 18, 20, 18, 20),  # corner
        ],
    )
    labels[14, 1] = 1  # a stray pixel of an edge particle inside the image
    out = drop_edge_instances(labels)
    assert out is not labels
    assert set(np.unique(out).tolist()) == {0, 5, 6}
    np.testing.assert_array_equal(out[labels == 5], 5)
    np.testing.assert_array_equal(out[labels == 6], 6)
    assert out[14, 1] == 0
    assert labels[0, 5] == 1  # input untouched
    no_edges = np.where(np.isin(labels, [5, 6]), labels, 0)
    np.testing.assert_array_equal(drop_edge_instances(no_edges), no_edges)
    assert out.dtype == labels.dtype


# --- EMPS split -----------------------------------------------------------

def test_split_is_deterministic_and_disjoint(tmp_path):
    (tmp_path / "images").mkdir()
    names = [f"img{i:03d}" for i in range(50)]
    for name in names:
        (tmp_path / "images" / f"{name}.png").touch()
    train, val = emps.split(data_dir=tmp_path)
    assert (train, val) == emps.split(data_dir=tmp_path)
    assert len(val) == 10 and len(train) == 40
    assert not set(train) & set(val)
    assert sorted(train + val) == names
    assert emps.split(seed=1, data_dir=tmp_path)[1] != val


@pytest.mark.skipif(not (emps.DATA_DIR / "images").is_dir(), reason="EMPS data not available")
def test_emps_split_covers_dataset_and_matches_json():
    names = emps.list_image_names()
    assert len(names) == 366
    train, val = emps.split()
    assert len(val) == round(0.2 * 366) == 73
    assert not set(train) & set(val)
    assert sorted(train + val) == names
    stored = json.loads(emps.SPLIT_PATH.read_text())
    assert stored["seed"] == 0 and stored["validation_fraction"] == 0.2
    assert (stored["train"], stored["validation"]) == (train, val)
    image, labels = emps.load_pair(val[0])
    assert labels.dtype == np.int32 and image.shape[:2] == labels.shape
