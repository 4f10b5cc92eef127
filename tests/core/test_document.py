"""The engine's document: a run handed out, edited meanwhile, taken back (no Qt, real pipeline)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from particle_gui.core.document import ImageDocument, RunOutcome
from particle_gui.core.editing.edits import delete_particles
from particle_gui.core.labels import outline_labels
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.editing.reconcile import CorrectedRun
from particle_gui.core.output.render import overlay_layers
from tests.gui.conftest import disc_grey


@pytest.fixture
def document():
    grey = disc_grey(width=300)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    return ImageDocument(image=image, params=PipelineParams())


def run(document, inputs=None):
    """What the runner does in its worker, on the calling thread."""
    inputs = inputs or document.run_inputs()
    result = inputs.pipeline.run(inputs.params, inputs.calibration)
    corrected = inputs.corrections(result) if inputs.corrections is not None else CorrectedRun(result)
    return inputs, corrected, overlay_layers(corrected.result)


def delete_first(document):
    corrections = document.start_corrections()
    particle = int(document.result.particles["id"].iloc[0])
    delta = delete_particles(corrections.labels, [particle])
    return particle, document.show_edit([delta], corrections.apply(delta))


def test_a_run_without_corrections_is_shown_as_it_is(document):
    accepted = document.accept_run(*run(document))
    assert accepted.outcome is RunOutcome.AUTOMATIC and not accepted.corrections_replaced
    assert document.result is accepted.result and accepted.result.count == 5
    assert np.array_equal(document.layers.outlines, outline_labels(document.result.labels))


def test_an_edit_is_measured_and_drawn_inside_the_document(document):
    document.accept_run(*run(document))
    particle, result = delete_first(document)
    assert result.count == 4 and particle not in set(result.particles["id"])
    assert document.unsaved_edits and document.result is result
    assert np.array_equal(document.layers.outlines, outline_labels(result.labels))


def test_a_calibration_change_keeps_the_corrected_labels(document):
    document.accept_run(*run(document))
    particle, _ = delete_first(document)
    document.manual_pixel_size_nm = 2.0
    accepted = document.accept_run(*run(document))
    assert accepted.outcome is RunOutcome.CORRECTED and not accepted.corrections_replaced
    assert accepted.result.count == 4 and accepted.result.calibration.pixel_size_nm == 2.0
    assert accepted.result.labels.base is document.corrections.labels or np.shares_memory(
        accepted.result.labels, document.corrections.labels)


def test_new_parameters_are_reconciled_around_the_corrections(document):
    document.accept_run(*run(document))
    particle, _ = delete_first(document)
    table = document.result.particles
    large = set(table.loc[table["area"] >= 500, "id"]) - {particle}
    before = document.corrections
    document.params = dataclasses.replace(document.params,
                                          clean=dataclasses.replace(document.params.clean, min_area_px=500.0))
    accepted = document.accept_run(*run(document))
    assert accepted.outcome is RunOutcome.RECONCILED and accepted.corrections_replaced
    assert document.corrections is not before and document.corrections.counts["delete"] == 1
    # the 20-px discs (area 314 < 500) go, the deleted one stays deleted
    assert accepted.result.count == len(large) == 2 and particle not in set(accepted.result.particles["id"])
    assert not document.corrections.history.can_undo  # undo starts again from here


def test_a_run_taken_before_an_edit_is_stale(document):
    document.accept_run(*run(document))
    delete_first(document)
    inputs, corrected, layers = run(document)
    shown = document.result
    corrections = document.corrections
    delta = delete_particles(corrections.labels, [int(shown.particles["id"].iloc[0])])
    document.show_edit([delta], corrections.apply(delta))  # the user edits while the run is on its way
    edited = document.result
    accepted = document.accept_run(inputs, corrected, layers)
    assert accepted.outcome is RunOutcome.STALE and accepted.result is None
    assert document.result is edited and edited.count == 3


def test_undoing_every_edit_returns_to_the_automatic_result(document):
    document.accept_run(*run(document))
    delete_first(document)
    step, touched = document.corrections.undo()
    document.show_edit(step.deltas, touched)
    accepted = document.accept_run(*run(document))
    assert accepted.outcome is RunOutcome.AUTOMATIC and accepted.corrections_replaced
    assert document.corrections is None and not document.unsaved_edits and accepted.result.count == 5


def test_the_corrections_copy_for_runs_is_made_once_per_state(document):
    document.accept_run(*run(document))
    delete_first(document)
    snapshot = document.run_inputs().corrections
    assert document.run_inputs().corrections is snapshot
    document.release_snapshot()
    assert document.run_inputs().corrections is not snapshot


def test_a_session_state_round_trips(document):
    document.accept_run(*run(document))
    delete_first(document)
    document.manual_pixel_size_nm = 3.5
    state = document.session_state()
    again = ImageDocument.from_session(state, document.image)
    assert np.array_equal(again.corrections.labels, document.corrections.labels)
    assert again.corrections.counts == document.corrections.counts and again.manual_pixel_size_nm == 3.5
    assert again.corrections.history.can_undo
