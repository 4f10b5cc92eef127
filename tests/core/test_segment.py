"""Known-answer tests for particle_gui.core.analysis.segment: clean-up, splitting, edges."""

import numpy as np
import pytest

from particle_gui.core.params import CleanParams, SplitParams
from particle_gui.core.analysis.clean import clean_mask
from particle_gui.core.analysis.segment import (
    distance_map,
    fill_holes,
    remove_labels,
    remove_small,
    split_particles,
    touching_edge_ids,
)
from tests.core.synthetic import disc_mask, grid_centres

SPLIT_MODES = ["distance_peaks", "h_maxima", "sure_foreground"]


def squares(shape, boxes):
    mask = np.zeros(shape, bool)
    for r0, r1, c0, c1 in boxes:
        mask[r0:r1, c0:c1] = True
    return mask


# ---------------------------------------------------------------- clean-up


def test_fill_holes_fills_a_ring_but_not_the_outside():
    ring = disc_mask((40, 40), [(20, 20)], 12) & ~disc_mask((40, 40), [(20, 20)], 5)
    filled = fill_holes(ring)
    np.testing.assert_array_equal(filled, disc_mask((40, 40), [(20, 20)], 12))
    assert not filled[0, 0]


def test_fill_holes_leaves_a_notch_open_to_the_border():
    mask = squares((20, 20), [(0, 10, 0, 10)])
    mask[0:5, 4:6] = False  # a slot reaching the image edge is not a hole
    np.testing.assert_array_equal(fill_holes(mask), mask)


def test_remove_small_keeps_exactly_objects_at_or_above_the_minimum():
    # Areas 24, 25, 26 px and a 2-px diagonal (8-connected) pair.
    mask = squares((40, 40), [(1, 5, 1, 7), (10, 15, 10, 15), (20, 22, 20, 33)])
    mask[30, 30] = mask[31, 31] = True
    out = remove_small(mask, min_area_px=25)
    np.testing.assert_array_equal(out, squares((40, 40), [(10, 15, 10, 15), (20, 22, 20, 33)]))
    assert remove_small(mask, min_area_px=2)[31, 31]  # diagonal neighbours are one object


def test_remove_small_with_minimum_one_keeps_everything():
    mask = squares((10, 10), [(2, 3, 2, 3)])
    np.testing.assert_array_equal(remove_small(mask, min_area_px=1), mask)


def test_remove_small_relative_to_the_typical_object():
    # Objects of 4, 100 and 120 px: half of 100-120 px is the limit, so only the speck goes.
    mask = squares((40, 40), [(1, 3, 1, 3), (10, 20, 10, 20), (25, 35, 25, 37)])
    out = remove_small(mask, min_area_px=0, min_area_fraction=0.5)
    np.testing.assert_array_equal(out, squares((40, 40), [(10, 20, 10, 20), (25, 35, 25, 37)]))
    np.testing.assert_array_equal(remove_small(mask, min_area_px=0, min_area_fraction=0.0), mask)


def test_clean_mask_converts_nm2_to_px():
    # 10x10 = 100 px and 5x5 = 25 px squares; at 2 nm/px they are 400 and 100 nm².
    mask = squares((40, 40), [(2, 12, 2, 12), (20, 25, 20, 25)])
    params = CleanParams(min_area_px=0.0, min_area_nm2=200.0, opening_radius_px=0, fill_holes=False)
    np.testing.assert_array_equal(clean_mask(mask, params, pixel_size_nm=2.0), squares((40, 40), [(2, 12, 2, 12)]))
    # Without a pixel size the calibrated minimum is not used.
    np.testing.assert_array_equal(clean_mask(mask, params, pixel_size_nm=None), mask)


def test_clean_mask_uses_px_minimum_when_nm2_is_zero():
    mask = squares((40, 40), [(2, 12, 2, 12), (20, 25, 20, 25)])
    params = CleanParams(min_area_px=50.0, min_area_nm2=0.0, opening_radius_px=0)
    np.testing.assert_array_equal(clean_mask(mask, params, pixel_size_nm=2.0), squares((40, 40), [(2, 12, 2, 12)]))


def test_clean_mask_opening_removes_one_pixel_spurs_and_fills_holes():
    disc = disc_mask((50, 50), [(25, 25)], 12)
    noisy = disc.copy()
    noisy[25, 25] = False  # a pinhole
    noisy[5, 5:45] = True  # a one-pixel line
    out = clean_mask(noisy, CleanParams(min_area_px=10.0, opening_radius_px=1, fill_holes=True))
    assert out.dtype == bool
    assert out[25, 25] and not out[5].any()
    assert abs(int(out.sum()) - int(disc.sum())) < 0.03 * disc.sum()


# ---------------------------------------------------------------- splitting

PAIR_SHAPE = (60, 80)
PAIR = disc_mask(PAIR_SHAPE, [(30, 27), (30, 53)], 15)  # radius 15, centres 26 px apart


@pytest.mark.parametrize("mode", SPLIT_MODES)
def test_overlapping_pair_splits_in_two(mode):
    labels = split_particles(PAIR, SplitParams(mode=mode))
    assert labels.dtype == np.int32
    assert labels.max() == 2
    assert labels[30, 27] != labels[30, 53]
    np.testing.assert_array_equal(labels > 0, PAIR)


def test_sure_foreground_splits_a_less_overlapping_pair():
    pair = disc_mask((60, 90), [(30, 27), (30, 55)], 15)  # centres 28 px apart
    labels = split_particles(pair, SplitParams(mode="sure_foreground"))
    assert labels.max() == 2 and labels[30, 27] != labels[30, 55]


def test_mode_none_keeps_the_pair_whole():
    labels = split_particles(PAIR, SplitParams(mode="none"))
    assert labels.max() == 1
    np.testing.assert_array_equal(labels > 0, PAIR)


@pytest.mark.parametrize("mode", ["none", *SPLIT_MODES])
def test_twenty_separated_discs_are_twenty(mode):
    mask = disc_mask((200, 220), grid_centres(20, spacing=40, origin=25, columns=5), 12)
    labels = split_particles(mask, SplitParams(mode=mode))
    assert labels.max() == 20
    assert len(np.unique(labels[labels > 0])) == 20
    np.testing.assert_array_equal(labels > 0, mask)


def test_sure_foreground_splits_small_and_large_pairs_in_one_image():
    # A touching pair of r=8 discs and a touching pair of r=30 discs, both overlapping 1.85 r apart.
    mask = disc_mask((120, 200), [(30, 30), (30, 45), (70, 60), (70, 115)], [8, 8, 30, 30])
    labels = split_particles(mask, SplitParams(mode="sure_foreground"))
    assert labels.max() == 4
    centres = [labels[30, 30], labels[30, 45], labels[70, 60], labels[70, 115]]
    assert sorted(centres) == [1, 2, 3, 4]


def test_empty_mask_gives_no_labels():
    for mode in ["none", *SPLIT_MODES]:
        labels = split_particles(np.zeros((20, 20), bool), SplitParams(mode=mode))
        assert labels.shape == (20, 20) and not labels.any()


@pytest.mark.parametrize("mode", SPLIT_MODES)
def test_split_keeps_every_foreground_pixel(mode):
    mask = np.zeros((70, 100), bool)
    mask[:60, :90] = disc_mask((60, 90), [(30, 25), (30, 53)], 15)  # overlapping, 28 px apart
    # The left disc's bottom-right pixel is (44, 30); attach a 3x3 block at its corner only.
    assert mask[44, 30] and not mask[45, 30] and not mask[44, 31]
    mask[45:48, 31:34] = True
    labels = split_particles(mask, SplitParams(mode=mode))
    assert labels.max() == 2
    np.testing.assert_array_equal(labels > 0, mask)


def test_distance_map_of_a_square():
    mask = squares((11, 11), [(1, 10, 1, 10)])  # 9x9 square
    distance = distance_map(mask)
    assert distance.dtype == np.float32
    assert distance[5, 5] == pytest.approx(5.0)  # 5 px to the nearest background pixel centre
    assert distance[1, 5] == pytest.approx(1.0)
    assert distance[0, 0] == 0.0


# ---------------------------------------------------------------- edges and removal


def test_touching_edge_ids():
    labels = np.zeros((20, 20), np.int32)
    labels[0:3, 5:8] = 1  # top edge
    labels[8:11, 8:11] = 2  # interior
    labels[10:13, 17:20] = 3  # right edge
    labels[17:20, 2:4] = 4  # bottom edge
    labels[12:14, 0:2] = 5  # left edge
    np.testing.assert_array_equal(touching_edge_ids(labels), [1, 3, 4, 5])


def test_touching_edge_ids_with_analysis_rows():
    labels = np.zeros((20, 20), np.int32)
    labels[8:11, 8:11] = 2
    labels[12:15, 8:11] = 6  # touches row 14, the last analysed row
    np.testing.assert_array_equal(touching_edge_ids(labels, analysis_rows=15), [6])
    np.testing.assert_array_equal(touching_edge_ids(labels, analysis_rows=11), [2])
    assert touching_edge_ids(labels).size == 0


def test_remove_labels_renumbers_in_order():
    labels = np.array([[0, 1, 2], [3, 4, 5], [5, 4, 0]], np.int32)
    out = remove_labels(labels, np.array([2, 4]))
    np.testing.assert_array_equal(out, [[0, 1, 0], [2, 0, 3], [3, 0, 0]])
    assert out.dtype == np.int32


def test_remove_no_labels_is_identity_for_compact_ids():
    labels = np.array([[0, 1], [2, 3]], np.int32)
    np.testing.assert_array_equal(remove_labels(labels, np.array([], dtype=np.int64)), labels)


def test_a_mask_without_background_is_measured_to_the_image_edge():
    # OpenCV gives ~1.8e19 everywhere for it; the split's peaks in that changed between runs.
    mask = np.ones((3, 34), bool)
    np.testing.assert_array_equal(distance_map(mask)[1, :4], [1.0, 2.0, 2.0, 2.0])
    assert distance_map(mask).max() == 2.0
    params = SplitParams(mode="distance_peaks", min_distance_px=1)
    first = split_particles(mask, params)
    np.testing.assert_array_equal(first, split_particles(mask.copy(), params))
