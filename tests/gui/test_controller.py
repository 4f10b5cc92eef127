"""The controller and the runner, without a window: real files, real pipeline, real threads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import tifffile

from particle_gui.core.editing.corrections import Corrections
from particle_gui.core.editing.edits import delete_particles
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN, PENDING
from tests.gui.conftest import disc_grey


@pytest.fixture
def disc_tiff(tmp_path):
    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, (disc_grey(width=300) * 255).astype(np.uint8))
    return path


def _wait_result(qtbot, controller):
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000) as blocker:
        pass
    return blocker.args[0]


def test_open_image_runs_the_pipeline_in_the_background(qtbot, disc_tiff, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000) as blocker:
        assert controller.open_image(disc_tiff)
    result = blocker.args[0]
    assert result.count == 5
    assert controller.current.result is result
    assert controller.current.layers.outlines.shape == result.labels.shape


def test_parameter_change_reruns_only_later_stages(qtbot, disc_tiff, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    params = controller.current.params
    raised = dataclasses.replace(params, clean=dataclasses.replace(params.clean, min_area_px=500.0))
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000) as blocker:
        controller.set_params(raised)
    result = blocker.args[0]
    assert result.count == 3  # the two 20 px discs (area ~314 px²) are gone
    assert result.stages_run[0] == "clean"


def test_rapid_changes_deliver_only_the_newest_result(qtbot, disc_tiff, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    received = []
    controller.resultChanged.connect(lambda r: received.append(r))
    base = controller.current.params
    for area in (100.0, 200.0, 400.0, 800.0, 1000.0):
        controller.set_params(dataclasses.replace(base, clean=dataclasses.replace(base.clean, min_area_px=area)))
    assert controller.runner.wait(10_000)
    qtbot.wait(50)
    assert received, "no result arrived"
    assert received[-1].params.clean.min_area_px == 1000.0
    assert received[-1].count == 1  # only the 40 px disc (area ~1257 px²)
    assert all(r.params.clean.min_area_px == 1000.0 for r in received)


def test_scale_bar_calibration_changes_units(qtbot, disc_tiff, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    with qtbot.waitSignal(controller.calibrationChanged) as calibration_signal:
        with qtbot.waitSignal(controller.resultChanged, timeout=10_000) as blocker:
            controller.set_scale_bar(100.0, 250.0)
    assert calibration_signal.args[0].pixel_size_nm == pytest.approx(2.5)
    result = blocker.args[0]
    assert result.summary.unit == "nm"
    assert result.summary.d50 == pytest.approx(2.5 * 30.3, rel=0.02)


def test_corrupt_file_reports_an_error_and_keeps_the_current_image(qtbot, disc_tiff, tmp_path, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 20)
    with qtbot.waitSignal(controller.errorOccurred) as blocker:
        assert not controller.open_image(bad)
    assert "bad.tif" in blocker.args[0]
    assert controller.current.path == disc_tiff


def test_each_image_of_a_folder_keeps_its_own_parameters(qtbot, tmp_path, new_controller):
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(tmp_path / name, (disc_grey(width=300) * 255).astype(np.uint8))
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        assert controller.open_folder(tmp_path)
    first = controller.current
    changed = dataclasses.replace(first.params, clean=dataclasses.replace(first.params.clean, min_area_px=500.0))
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.set_params(changed)
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        assert controller.step_image(1)
    second = controller.current
    assert second is not first
    second.params = PipelineParams()
    with qtbot.waitSignal(controller.paramsChanged) as blocker:
        controller.step_image(-1)
    assert blocker.args[0].clean.min_area_px == 500.0


def test_export_writes_the_cli_files_and_excel(qtbot, disc_tiff, tmp_path, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    written = controller.export_results(tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == sorted(
        ["discs_labels.tif", "discs_particles.csv", "discs_overlay.png", "discs_summary.json", "discs_particles.xlsx"]
    )
    labels = tifffile.imread(tmp_path / "out" / "discs_labels.tif")
    assert len(np.unique(labels)) - 1 == 5


def test_result_is_shown_first_and_its_shape_classes_follow(qtbot, disc_tiff, new_controller):
    controller = new_controller()
    received = []
    controller.resultChanged.connect(received.append)
    controller.open_image(disc_tiff)
    assert controller.runner.wait(10_000)
    qtbot.wait(20)
    assert len(received) == 2
    shown, classified = received
    assert shown.shapes_pending and set(shown.particles[CLASS_COLUMN]) == {PENDING}
    assert not classified.shapes_pending and set(classified.particles[CLASS_COLUMN]) == {"round"}
    assert classified.labels is shown.labels and controller.current.result is classified
    assert [(c.shape_class, c.count) for c in classified.summary.shape_classes] == [("round", 5)]


def test_a_new_request_drops_the_classification_of_the_shown_result(qtbot, disc_tiff, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    base = controller.current.params
    received = []
    controller.resultChanged.connect(received.append)
    classified = []
    controller.runner.shapesReady.connect(lambda output, generation: classified.append(output.result))
    for area in (100.0, 1000.0):  # each new value arrives before the previous one's classes
        with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
            controller.set_params(dataclasses.replace(base, clean=dataclasses.replace(base.clean, min_area_px=area)))
    assert controller.runner.wait(10_000)
    qtbot.wait(20)
    assert [r.params.clean.min_area_px for r in classified] == [1000.0]
    assert received[-1] is controller.current.result and not received[-1].shapes_pending
    assert received[-1].count == 1


def test_export_while_classes_are_pending_writes_them(qtbot, disc_tiff, tmp_path, new_controller):
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        controller.open_image(disc_tiff)
    assert controller.current.result.shapes_pending
    controller.export_results(tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "discs_particles.csv")
    assert table[CLASS_COLUMN].tolist() == ["round"] * 5
    assert not controller.current.result.shapes_pending
    assert controller.runner.wait(10_000)
    qtbot.wait(20)
    assert not controller.current.result.shapes_pending


def test_the_edits_snapshot_is_copied_once_per_state_and_only_the_last_is_kept(qtbot, tmp_path, new_controller):
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(tmp_path / name, (disc_grey(width=300) * 255).astype(np.uint8))
    controller = new_controller()
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        assert controller.open_folder(tmp_path)
    first = controller.current
    first.corrections = corrections = Corrections(first.result.labels)
    corrections.apply(delete_particles(corrections.labels, [1]))
    snapshot = first.run_inputs().corrections
    assert first.run_inputs().corrections is snapshot  # a slider drag: no new label copy
    assert (snapshot.labels == 1).sum() == 0 and snapshot.labels is not corrections.labels
    corrections.apply(delete_particles(corrections.labels, [2]))
    newer = first.run_inputs().corrections
    assert newer is not snapshot and (newer.labels == 2).sum() == 0
    with qtbot.waitSignal(controller.resultChanged, timeout=10_000):
        assert controller.step_image(1)
    assert first._snapshot is None  # the first image's copy is not kept
