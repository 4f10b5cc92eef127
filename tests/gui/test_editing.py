"""The editor without a window: edits on a real result, undo, edits kept across slider moves,
sessions saved and reopened, recovery from the autosave journal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tifffile

from particle_gui.desktop.autosave import Autosaver, journal_for, pending_recoveries
from particle_gui.gui.editor import Editor
from tests.gui.conftest import disc_grey

# disc_grey(width=300): 5 discs of diameter 20, 20, 30, 30, 40 px on row 128, at x = 50, 100, ... 250.
CENTRES_X = (50, 100, 150, 200, 250)


@pytest.fixture
def disc_tiff(tmp_path):
    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, (disc_grey(width=300) * 255).astype(np.uint8))
    return path


@pytest.fixture
def editor(qtbot, disc_tiff, tmp_path, new_controller):
    controller = new_controller()
    editor = Editor(controller, Autosaver(tmp_path / "recovery"))
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    yield editor
    controller.runner.wait()
    editor.wait_idle()
    editor.autosaver.close()


def _id_at(editor, x, y=128):
    return int(editor.app.current.result.labels[y, x])


def test_delete_merge_split_add_update_the_result_and_undo_restores_it(editor):
    app = editor.app
    automatic = app.current.result
    assert automatic.count == 5
    assert editor.delete([_id_at(editor, 50)])
    assert app.current.result.count == 4 and _id_at(editor, 50) == 0
    assert editor.merge([_id_at(editor, 100), _id_at(editor, 150)])
    assert app.current.result.count == 3 and _id_at(editor, 100) == _id_at(editor, 150)
    assert editor.split_line((250, 100), (250, 160))  # a vertical cut through the 40 px disc
    assert app.current.result.count == 4 and _id_at(editor, 240) != _id_at(editor, 260)
    assert editor.add_polygon([(10, 10), (30, 10), (30, 30), (10, 30)])
    result = app.current.result
    assert result.count == 5
    added = result.particles[result.particles["id"] == _id_at(editor, 20, 20)]
    assert int(added["area"].iloc[0]) == 21 * 21
    assert editor.counts() | {} == {"delete": 1, "merge": 2, "split": 1, "add": 1, "paint": 0, "erase": 0}
    # the displayed outlines follow the labels exactly
    from particle_gui.core.labels import outline_labels
    assert np.array_equal(app.current.layers.outlines, outline_labels(result.labels))
    for _ in range(4):
        assert editor.undo()
    assert not editor.undo()
    assert np.array_equal(app.current.result.labels, automatic.labels)
    assert app.current.result.count == 5
    assert editor.redo() and app.current.result.count == 4


def test_seeded_split_brush_eraser_and_flood_fill(editor):
    app = editor.app
    big = _id_at(editor, 250)
    assert editor.split_seeds([(240, 128), (260, 128)])
    assert app.current.result.count == 6 and _id_at(editor, 240) == big and _id_at(editor, 260) != big
    editor.brush_radius = 3
    editor.begin_stroke(20, 200)
    editor.continue_stroke(60, 200)
    editor.end_stroke()
    painted = _id_at(editor, 40, 200)
    assert painted > 0 and app.current.result.count == 7
    assert editor.corrections.history.steps()[0][-1].kind == "paint"  # the whole stroke is one step
    editor.begin_stroke(40, 200, erase=True)
    editor.end_stroke()
    assert _id_at(editor, 40, 200) == 0
    # Flood fill: a disc removed by the minimum-area rule is found again from the threshold mask.
    assert not editor.add_flood(5, 5)  # background: nothing to fill
    editor.delete([_id_at(editor, 50)])
    assert editor.add_flood(50, 128)
    assert _id_at(editor, 50) > 0


def test_edits_survive_a_parameter_change(qtbot, editor):
    app = editor.app
    editor.delete([_id_at(editor, 50)])
    editor.merge([_id_at(editor, 100), _id_at(editor, 150)])
    notices = []
    app.noticeRaised.connect(notices.append)
    params = app.current.params
    # The two 20 px discs fall under the new minimum area; the one merged by hand stays.
    changed = dataclasses.replace(params, clean=dataclasses.replace(params.clean, min_area_px=500.0))
    with qtbot.waitSignal(app.resultChanged, timeout=10_000) as blocker:
        app.set_params(changed)
    result = blocker.args[0]
    assert _id_at(editor, 50) == 0                                   # still deleted
    assert _id_at(editor, 100) == _id_at(editor, 150) > 0            # still merged
    assert result.count == 3 and "recomputed around them" in notices[-1]
    assert editor.counts()["delete"] == 1 and editor.counts()["merge"] == 2
    # Editing goes on from the recomputed result.
    assert editor.delete([_id_at(editor, 200)]) and app.current.result.count == 2


def test_a_calibration_change_keeps_the_undo_history(qtbot, editor):
    app = editor.app
    editor.delete([_id_at(editor, 50)])
    with qtbot.waitSignal(app.resultChanged, timeout=10_000) as blocker:
        app.set_manual_pixel_size(2.0)
    assert blocker.args[0].count == 4 and "ecd_nm" in blocker.args[0].particles
    assert editor.undo() and app.current.result.count == 5
    assert "ecd_nm" in app.current.result.particles


def test_session_round_trip(qtbot, editor, tmp_path, new_controller):
    app = editor.app
    editor.delete([_id_at(editor, 50)])
    editor.split_line((250, 100), (250, 160))
    app.set_manual_pixel_size(1.5)
    app.runner.wait()
    labels = app.current.result.labels.copy()
    session = tmp_path / "work.pgsession"
    assert editor.save_session(session)
    fresh = new_controller()
    other = Editor(fresh, Autosaver(tmp_path / "recovery2"))
    with qtbot.waitSignal(fresh.resultChanged, timeout=10_000) as blocker:
        assert other.open_session(session)
    result = blocker.args[0]
    assert np.array_equal(result.labels, labels)
    assert result.count == 5 and result.calibration.pixel_size_nm == 1.5
    assert other.counts()["delete"] == 1 and other.counts()["split"] == 1
    assert other.undo() and other.undo()  # the history came back too
    assert fresh.current.result.count == 5 and np.array_equal(fresh.current.result.labels,
                                                                app.current.corrections.base)
    fresh.runner.wait()
    other.autosaver.close()


def test_a_damaged_session_is_refused_with_a_message(qtbot, editor, tmp_path):
    bad = tmp_path / "bad.pgsession"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    errors = []
    editor.app.errorOccurred.connect(lambda message, details: errors.append(message))
    assert not editor.open_session(bad)
    assert "damaged" in errors[-1]
    assert editor.app.current.result.count == 5  # what was open stays


def test_recovery_replays_the_journal(qtbot, editor, tmp_path, new_controller):
    app = editor.app
    editor.delete([_id_at(editor, 50)])
    editor.merge([_id_at(editor, 100), _id_at(editor, 150)])
    editor.begin_stroke(20, 200)
    editor.continue_stroke(60, 200)
    editor.end_stroke()
    editor.undo()
    editor.autosaver.wait()
    expected = app.current.result.labels.copy()
    checkpoints = pending_recoveries(tmp_path / "recovery")
    assert len(checkpoints) == 1 and journal_for(checkpoints[0]).stat().st_size > 0
    # A new app (as after a crash) restores it.
    fresh = new_controller()
    other = Editor(fresh, Autosaver(tmp_path / "recovery"))
    with qtbot.waitSignal(fresh.resultChanged, timeout=10_000) as blocker:
        assert other.recover(checkpoints[0])
    assert np.array_equal(blocker.args[0].labels, expected)
    assert other.can_redo and other.redo()  # even the undone stroke can be redone
    fresh.runner.wait()
    other.autosaver.close()


def test_the_summary_follows_at_once_and_its_fits_a_moment_later(qtbot, editor):
    from particle_gui.core.editing.corrections import table_summary

    app = editor.app
    before = app.current.result.summary
    editor.delete([_id_at(editor, 250)])  # the largest disc: D90 and the mean drop at once
    quick = app.current.result.summary
    assert quick.count == 4 and quick.d90 < before.d90 and quick.mean < before.mean
    assert editor.wait_idle()
    full = app.current.result.summary
    expected = table_summary(app.current.result.particles, app.current.result)
    assert full.count == 4 and full.d50_ci95 == expected.d50_ci95 and full.lognormal == expected.lognormal


def test_bulk_delete_is_one_step(editor):
    app = editor.app
    app.select(app.current.result.particles["id"].tolist())
    assert editor.delete_selection()
    assert app.current.result.count == 0 and app.selection == ()
    assert editor.counts()["delete"] == 5 and len(editor.corrections.history.steps()[0]) == 1
    assert editor.undo() and app.current.result.count == 5


def test_an_absurd_typed_pixel_size_is_refused_and_nothing_changes(editor):
    app = editor.app
    errors = []
    app.errorOccurred.connect(lambda message, details: errors.append(message))
    generation = app.runner.generation
    app.set_manual_pixel_size(2e6)  # "2 mm" typed for "2 µm"
    assert "not plausible" in errors[-1]
    assert app.current.manual_pixel_size_nm is None and app.runner.generation == generation  # no new run


def test_edits_made_before_the_classes_arrive_keep_theirs_and_the_rest_get_the_runners(qtbot, disc_tiff, tmp_path, new_controller):
    controller = new_controller()
    editor = Editor(controller, Autosaver(tmp_path / "recovery"))
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    assert controller.current.result.shapes_pending
    assert editor.delete([_id_at(editor, 50)])  # before the runner classifies (it waits for a pause)
    assert editor.add_polygon([(10, 10), (40, 10), (40, 40), (10, 40)])
    result = controller.current.result
    added = int(result.labels[20, 20])
    table = result.particles.set_index("id")
    assert table.loc[added, "shape_class"] == "square"  # the edited particle is classified at once
    assert result.shapes_pending  # the others wait
    assert controller.runner.wait(10_000) and editor.wait_idle()
    qtbot.wait(300)
    assert editor.wait_idle()
    result = controller.current.result
    assert not result.shapes_pending and result.count == 5
    assert result.particles.set_index("id")["shape_class"].value_counts().to_dict() == {"round": 4, "square": 1}
    assert result.summary.lognormal is not None and result.labels[128, 50] == 0
    editor.autosaver.close()
