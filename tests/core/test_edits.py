"""Label edits: exact expected arrays, and undo/redo round trips (property-based)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from particle_gui.core.editing.history import EditHistory
from particle_gui.core.editing.edits import (
    add_particle,
    delete_particles,
    flood_fill_mask,
    merge_particles,
    paint,
    polygon_mask,
    split_particle_by_line,
    split_particle_by_seeds,
)


def grid() -> np.ndarray:
    return np.array(
        [
            [1, 1, 0, 2, 2],
            [1, 1, 0, 2, 2],
            [0, 0, 0, 0, 0],
            [3, 3, 3, 3, 3],
        ],
        dtype=np.int32,
    )


def test_delete_gives_the_exact_array_and_a_small_delta():
    labels = grid()
    delta = delete_particles(labels, [2])
    delta.apply(labels)
    expected = grid()
    expected[expected == 2] = 0
    np.testing.assert_array_equal(labels, expected)
    assert delta.indices.size == 4 and delta.box == (0, 2, 3, 5)


def test_merge_gives_the_smallest_id():
    labels = grid()
    merge_particles(labels, [3, 2]).apply(labels)
    expected = grid()
    expected[expected == 3] = 2
    np.testing.assert_array_equal(labels, expected)


def test_merge_of_one_particle_changes_nothing():
    assert merge_particles(grid(), [2]).empty


def test_line_cut_splits_a_bar_in_two():
    labels = grid()
    delta = split_particle_by_line(labels, 3, (2, 2.5), (2, 4.5))
    delta.apply(labels)
    np.testing.assert_array_equal(labels[3], [3, 3, 0, 4, 4])
    np.testing.assert_array_equal(labels[:3], grid()[:3])


def test_line_that_misses_changes_nothing():
    assert split_particle_by_line(grid(), 3, (0, 0), (1, 0)).empty


def test_seeded_split_of_two_touching_discs():
    yy, xx = np.mgrid[:40, :70]
    labels = (((yy - 20) ** 2 + (xx - 20) ** 2 < 225) | ((yy - 20) ** 2 + (xx - 48) ** 2 < 225)).astype(np.int32)
    delta = split_particle_by_seeds(labels, 1, [(20, 20), (48, 20)])
    delta.apply(labels)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert labels[20, 20] == 1 and labels[20, 48] == 2
    assert abs((labels == 1).sum() - (labels == 2).sum()) < 30


def test_seeds_clicked_off_centre_still_cut_at_the_neck():
    """Discs of radius 16 and 14 touching at x ~ 55: wherever in each lobe the seeds are, the cut is
    at the neck (the distance map's own watershed from the clicks cut at x = 42 for seeds at 30 and 62)."""
    yy, xx = np.mgrid[:80, :140]
    two = (((yy - 40) ** 2 + (xx - 40) ** 2 < 256) | ((yy - 40) ** 2 + (xx - 68) ** 2 < 196)).astype(np.int32)
    for seeds in ([(30, 40), (62, 40)], [(48, 45), (75, 40)], [(45, 40), (60, 40)]):
        labels = two.copy()
        split_particle_by_seeds(labels, 1, seeds).apply(labels)
        first = labels[40] == labels[seeds[0][1], seeds[0][0]]
        assert 53 <= np.flatnonzero(first & (labels[40] > 0)).max() <= 56, seeds


def test_seeds_in_a_round_particle_divide_it_between_them():
    """No neck: each pixel goes to its nearest seed (the old split gave one seed a single pixel)."""
    yy, xx = np.mgrid[:80, :120]
    labels = (((yy - 40) ** 2 + (xx - 60.5) ** 2) < 225).astype(np.int32)
    split_particle_by_seeds(labels, 1, [(51.2, 40), (67.5, 40)]).apply(labels)
    first, second = (labels == 1).sum(), (labels == 2).sum()
    assert first > 300 and second > 300 and labels[40, 51] == 1 and labels[40, 68] == 2
    assert np.flatnonzero(labels[40] == 1).max() in (58, 59, 60)  # halfway between 51 and 68


def test_add_polygon_fills_only_background_with_a_new_id():
    labels = grid()
    mask = polygon_mask(labels.shape, [(0, 0), (4, 0), (4, 2), (0, 2)])
    add_particle(labels, mask).apply(labels)
    assert labels[2].tolist() == [4, 4, 4, 4, 4]
    assert labels[0].tolist() == [1, 1, 4, 2, 2]


def test_flood_fill_takes_the_connected_region():
    foreground = np.array([[1, 1, 0, 1], [0, 1, 0, 1]], bool)
    np.testing.assert_array_equal(flood_fill_mask(foreground, 0, 0), [[1, 1, 0, 0], [0, 1, 0, 0]])
    assert not flood_fill_mask(foreground, 2, 0).any()


def test_brush_and_eraser():
    labels = np.zeros((9, 9), np.int32)
    paint(labels, 4, 4, radius=2, value=5).apply(labels)
    assert (labels == 5).sum() == 13  # a digital disc of radius 2
    paint(labels, 4, 4, radius=1, value=0).apply(labels)
    assert (labels == 5).sum() == 8


def test_gesture_is_one_undo_step_and_counts_follow():
    labels = np.zeros((20, 20), np.int32)
    history = EditHistory(labels)
    history.begin_gesture()
    for x in range(2, 15):
        history.apply(paint(labels, x, 10, radius=1.5, value=7))
    history.end_gesture()
    assert (labels == 7).sum() > 30
    assert history.counts["paint"] == 1
    history.undo()
    assert not labels.any() and history.counts["paint"] == 0
    history.redo()
    assert (labels == 7).sum() > 30


def test_history_is_bounded_and_small():
    labels = np.zeros((512, 512), np.int32)
    labels[100:110, 100:110] = 1
    history = EditHistory(labels, max_steps=100)
    for index in range(150):
        history.apply(paint(labels, 50 + index, 50, radius=3, value=index + 2))
    undone = 0
    while history.undo() is not None:
        undone += 1
    assert undone == 100
    assert history.nbytes < 100 * 29 * 8 * 3  # deltas hold changed pixels only, never image copies


@settings(max_examples=60, deadline=None)
@given(
    labels=arrays(np.int32, st.tuples(st.integers(2, 24), st.integers(2, 24)), elements=st.integers(0, 5)),
    operations=st.lists(
        st.tuples(
            st.sampled_from(["delete", "merge", "line", "seeds", "add", "paint", "erase"]),
            st.lists(st.integers(0, 6), min_size=1, max_size=3),
            st.tuples(st.floats(0, 23), st.floats(0, 23), st.floats(0, 23), st.floats(0, 23)),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_any_edits_then_undo_restore_the_labels_exactly(labels, operations):
    original = labels.copy()
    history = EditHistory(labels)
    snapshots = [labels.copy()]
    for kind, ids, (x0, y0, x1, y1) in operations:
        if kind == "delete":
            delta = delete_particles(labels, ids)
        elif kind == "merge":
            delta = merge_particles(labels, ids)
        elif kind == "line":
            delta = split_particle_by_line(labels, ids[0], (x0, y0), (x1, y1))
        elif kind == "seeds":
            delta = split_particle_by_seeds(labels, ids[0], [(x0, y0), (x1, y1)])
        elif kind == "add":
            delta = add_particle(labels, polygon_mask(labels.shape, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
        else:
            delta = paint(labels, x0, y0, radius=2, value=ids[0] if kind == "paint" else 0)
        if history.apply(delta).empty:
            continue
        snapshots.append(labels.copy())
    while history.can_undo:
        history.undo()
        snapshots.pop()
        np.testing.assert_array_equal(labels, snapshots[-1])
    np.testing.assert_array_equal(labels, original)
