"""Random sequences of mixed label edits, some grouped into gestures: undo-all restores the labels
exactly, redo-all restores the edited labels exactly, and a new edit after undo drops the redo stack."""

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

KINDS = ["delete", "merge", "line", "seeds", "polygon", "fill", "paint", "erase", "stroke"]

operation = st.tuples(
    st.sampled_from(KINDS),
    st.lists(st.integers(0, 7), min_size=1, max_size=3),
    st.tuples(*[st.floats(-2, 33, allow_nan=False)] * 4),
    st.floats(0.5, 4),
)


def make_deltas(labels, kind, ids, coords, radius):
    """The delta(s) of one operation; a "stroke" is a brush drag of several dabs (one gesture)."""
    x0, y0, x1, y1 = coords
    if kind == "delete":
        return [delete_particles(labels, ids)]
    if kind == "merge":
        return [merge_particles(labels, ids)]
    if kind == "line":
        return [split_particle_by_line(labels, ids[0], (x0, y0), (x1, y1))]
    if kind == "seeds":
        return [split_particle_by_seeds(labels, ids[0], [(x0, y0), (x1, y1)])]
    if kind == "polygon":
        return [add_particle(labels, polygon_mask(labels.shape, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))]
    if kind == "fill":
        x, y = int(np.clip(x0, 0, labels.shape[1] - 1)), int(np.clip(y0, 0, labels.shape[0] - 1))
        return [add_particle(labels, flood_fill_mask(labels == 0, x, y))]
    if kind in ("paint", "erase"):
        return [paint(labels, x0, y0, radius=radius, value=ids[0] if kind == "paint" else 0)]
    return [(x0 + t * (x1 - x0), y0 + t * (y1 - y0)) for t in np.linspace(0, 1, 4)]  # stroke: dab positions


@settings(max_examples=60, deadline=None)
@given(
    labels=arrays(np.int32, st.tuples(st.integers(2, 32), st.integers(2, 32)), elements=st.integers(0, 6)),
    operations=st.lists(operation, min_size=1, max_size=10),
    new_edit=operation,
)
def test_undo_all_and_redo_all_round_trip(labels, operations, new_edit):
    original = labels.copy()
    history = EditHistory(labels)
    states = [labels.copy()]  # the labels after each undo step
    for kind, ids, coords, radius in operations:
        if kind == "stroke":
            history.begin_gesture()
            for x, y in make_deltas(labels, kind, ids, coords, radius):
                history.apply(paint(labels, x, y, radius=radius, value=ids[0]))
            step = history.end_gesture()
        else:
            (delta,) = make_deltas(labels, kind, ids, coords, radius)
            step = None if history.apply(delta).empty else True
        if step is not None:
            states.append(labels.copy())
        else:
            np.testing.assert_array_equal(labels, states[-1])  # an edit that changes nothing is no step
    edited = labels.copy()

    undone = 0
    while history.can_undo:
        history.undo()
        undone += 1
        np.testing.assert_array_equal(labels, states[-1 - undone])
    np.testing.assert_array_equal(labels, original)
    assert undone == len(states) - 1

    while history.can_redo:
        history.redo()
    np.testing.assert_array_equal(labels, edited)

    if undone:  # undo one step, then a new edit: the undone step can no longer be redone
        history.undo()
        kind, ids, coords, radius = new_edit
        delta = paint(labels, coords[0], coords[1], radius=radius, value=ids[0] + 1)
        if not history.apply(delta).empty:
            assert not history.can_redo
            history.undo()
            np.testing.assert_array_equal(labels, states[-2])
