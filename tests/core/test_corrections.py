"""Corrections: incremental re-measurement equals a full measurement; edits survive a recompute."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from particle_gui.core.editing.corrections import Corrections, remeasure
from particle_gui.core.labels import particle_boxes
from particle_gui.core.editing.edits import (
    add_particle,
    delete_particles,
    merge_particles,
    paint,
    polygon_mask,
    split_particle_by_line,
)
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.editing.reconcile import apply_manual_layer, manual_layer, measure_result, reconcile
from tests.core.synthetic import disc_image


CENTRES = [(40, 40), (40, 100), (40, 160), (110, 40), (110, 100), (110, 160), (180, 70), (180, 150)]


@pytest.fixture
def pipeline_and_result():
    grey = disc_image((230, 220), CENTRES, radius=14)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    pipeline = Pipeline(image)
    return pipeline, pipeline.run(PipelineParams())


def _same_tables(a: pd.DataFrame, b: pd.DataFrame) -> None:
    columns = [c for c in a.columns if c in b.columns]
    pd.testing.assert_frame_equal(a[columns].reset_index(drop=True), b[columns].reset_index(drop=True),
                                  check_dtype=False, atol=1e-9, rtol=1e-9)


def test_incremental_measure_equals_full_measure_after_each_edit(pipeline_and_result):
    pipeline, result = pipeline_and_result
    grey = pipeline.image.grey
    assert result.count == 8
    corrections = Corrections(result.labels)
    ids = [int(result.labels[cy, cx]) for cy, cx in CENTRES]
    edits = [
        lambda L: delete_particles(L, [ids[0]]),
        lambda L: merge_particles(L, [ids[1], ids[2]]),
        lambda L: split_particle_by_line(L, ids[3], (40, 110 - 30), (40, 110 + 30)),
        lambda L: add_particle(L, polygon_mask(L.shape, [(5, 200), (30, 200), (30, 225), (5, 225)])),
        lambda L: paint(L, 100, 180, radius=6, value=ids[6]),
    ]
    for edit in edits:
        touched = corrections.apply(edit(corrections.labels))
        assert touched.size
        result = remeasure(result, corrections, touched, grey)
        full = measure_result(result, corrections.labels.copy(), grey)
        _same_tables(result.particles, full.particles)
        assert result.summary.count == full.summary.count
        assert result.summary.d50 == pytest.approx(full.summary.d50)
        assert particle_boxes(corrections.labels) == corrections.boxes
    # 8 discs: one deleted, two merged into one, one split in two, one added -> 8
    assert result.count == 8
    counts = corrections.counts
    assert (counts["delete"], counts["merge"], counts["split"], counts["add"], counts["paint"]) == (1, 2, 1, 1, 1)
    # Undo everything: the automatic table again, exactly.
    while (undone := corrections.undo()) is not None:
        result = remeasure(result, corrections, undone[1], grey)
    _same_tables(result.particles, pipeline_and_result[1].particles)
    assert np.array_equal(corrections.labels, pipeline_and_result[1].labels)
    assert corrections.counts["delete"] == 0


def test_the_added_particle_touching_the_border_is_flagged(pipeline_and_result):
    pipeline, result = pipeline_and_result
    corrections = Corrections(result.labels)
    touched = corrections.apply(add_particle(corrections.labels, polygon_mask(result.labels.shape,
                                                                             [(0, 0), (10, 0), (10, 10), (0, 10)])))
    result = remeasure(result, corrections, touched, pipeline.image.grey)
    row = result.particles[result.particles["id"] == int(touched[0])]
    assert bool(row["touches_edge"].iloc[0]) and int(row["area"].iloc[0]) == 121
    assert int(touched[0]) in result.edge_ids


def test_manual_layer_and_reconcile_keep_deletions_merges_and_additions(pipeline_and_result):
    pipeline, result = pipeline_and_result
    grey = pipeline.image.grey
    corrections = Corrections(result.labels)
    ids = [int(result.labels[cy, cx]) for cy, cx in CENTRES]
    corrections.apply(delete_particles(corrections.labels, [ids[0]]))
    corrections.apply(merge_particles(corrections.labels, [ids[1], ids[2]]))
    square = polygon_mask(result.labels.shape, [(5, 200), (30, 200), (30, 225), (5, 225)])
    corrections.apply(add_particle(corrections.labels, square))
    layer = manual_layer(corrections.labels, corrections.base)
    merged = corrections.labels == ids[1]
    assert np.array_equal(layer.locked > 0, merged | square)
    assert layer.erased.sum() == (result.labels == ids[0]).sum()

    # A slider move: a much lower minimum area and another threshold give a new automatic result.
    params = PipelineParams()
    params = dataclasses.replace(params, clean=dataclasses.replace(params.clean, min_area_px=5))
    auto = pipeline.run(params)
    again = apply_manual_layer(auto, layer, grey)
    labels = again.labels
    assert labels[result.labels == ids[0]].max() == 0                      # still deleted
    merged_ids = np.unique(labels[merged])
    assert merged_ids.size == 1 and merged_ids[0] > 0                      # still one particle
    assert np.array_equal(labels == merged_ids[0], merged)
    added = np.unique(labels[square])
    assert added.size == 1 and added[0] > 0 and np.array_equal(labels == added[0], square)
    assert again.count == 8 - 1 - 1 + 1
    # Re-deriving the layer from the reconciled labels and the new automatic labels finds it again.
    layer2 = manual_layer(np.array(labels), auto.labels, layer.erased)
    assert np.array_equal(layer2.locked > 0, layer.locked > 0)
    assert np.array_equal(reconcile(auto.labels, layer2) > 0, labels > 0)


def test_reconcile_clips_automatic_particles_mostly_outside_the_manual_layer():
    auto = np.zeros((10, 10), np.int32)
    auto[2:8, 2:8] = 4
    locked = np.zeros_like(auto)
    locked[2:4, 2:8] = 9  # a third of particle 4 is under a hand-drawn particle
    from particle_gui.core.editing.reconcile import ManualLayer
    final = reconcile(auto, ManualLayer(locked, np.zeros(auto.shape, bool)))
    assert (final == 4).sum() == 24 and (final == 5).sum() == 12


def test_corrections_without_edits_have_none(pipeline_and_result):
    corrections = Corrections(pipeline_and_result[1].labels)
    assert not corrections.has_edits
    corrections.apply(delete_particles(corrections.labels, [1]))
    assert corrections.has_edits
    corrections.undo()
    assert not corrections.has_edits
