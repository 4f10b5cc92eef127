"""The correction tools in the real window, driven with mouse clicks, drags and key presses."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile
from PySide6.QtCore import Qt

from particle_gui.gui.main_window import MainWindow
from tests.gui.conftest import disc_grey

# disc_grey(width=300): discs of diameter 20, 20, 30, 30, 40 px centred on row 128 at x = 50 ... 250.


@pytest.fixture
def window(qtbot, tmp_path):
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, (disc_grey(width=300) * 255).astype(np.uint8))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.controller.resultChanged, timeout=10_000):
        win.controller.open_image(path)
    yield win
    win.controller.runner.cancel()
    win.controller.runner.wait(5000)
    win.editor.wait_idle()
    win.editor.autosaver.close()


def _viewport(win):
    return win.canvas._view.viewport()


def _point(win, x, y):
    return win.canvas.image_to_widget(x, y)


def click(qtbot, win, x, y, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(_viewport(win), Qt.MouseButton.LeftButton, modifier, pos=_point(win, x, y))


def drag(qtbot, win, points, modifier=Qt.KeyboardModifier.NoModifier):
    viewport = _viewport(win)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, pos=_point(win, *points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(viewport, _point(win, x, y))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, pos=_point(win, *points[-1]))


def label_at(win, x, y=128):
    return int(win.controller.current.result.labels[y, x])


def count(win):
    return win.controller.current.result.count


def test_delete_by_click_and_by_key_then_undo_with_ctrl_z(qtbot, window):
    window.edit_menu.tool_actions["delete"].trigger()
    assert window.canvas.tools.tool == "delete"
    click(qtbot, window, 50, 128)
    assert count(window) == 4 and label_at(window, 50) == 0
    assert window.count_label.text() == "4 particles"
    assert window.particle_table.row_count() == 4
    assert window.size_histogram.bin_counts.sum() == 4
    assert "1 deleted" in window.edit_menu.counts_label.text()
    # select tool: click one, Shift+click another, then the Delete key deletes both at once
    window.edit_menu.tool_actions["select"].trigger()
    click(qtbot, window, 100, 128)
    click(qtbot, window, 150, 128, Qt.KeyboardModifier.ShiftModifier)
    assert len(window.controller.selection) == 2
    window.edit_menu.delete_action.trigger()
    assert count(window) == 2
    window.canvas._view.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert count(window) == 4
    window.edit_menu.undo_action.trigger()
    assert count(window) == 5 and not window.edit_menu.undo_action.isEnabled()
    window.edit_menu.redo_action.trigger()
    assert count(window) == 4


def test_box_select_and_merge_by_drag(qtbot, window):
    drag(qtbot, window, [(30, 90), (120, 110), (170, 170)], Qt.KeyboardModifier.ShiftModifier)
    assert set(window.controller.selection) == {label_at(window, 50), label_at(window, 100), label_at(window, 150)}
    window.controller.select([])
    window.edit_menu.tool_actions["merge"].trigger()
    drag(qtbot, window, [(200, 128), (225, 128), (250, 128)])
    assert count(window) == 4 and label_at(window, 200) == label_at(window, 250)
    window.edit_menu.merge_action.setEnabled(True)
    window.controller.select([label_at(window, 50), label_at(window, 100)])
    window.edit_menu.merge_action.trigger()
    assert count(window) == 3


def test_knife_seeds_polygon_freehand_fill_brush_and_eraser(qtbot, window):
    actions = window.edit_menu.tool_actions
    actions["knife"].trigger()
    drag(qtbot, window, [(250, 95), (250, 128), (250, 161)])
    assert count(window) == 6 and label_at(window, 240) != label_at(window, 260)
    actions["seeds"].trigger()
    click(qtbot, window, 192, 128)
    click(qtbot, window, 208, 128)
    window.canvas._view.setFocus()
    qtbot.keyClick(window.canvas._view, Qt.Key.Key_Return)
    assert count(window) == 7 and label_at(window, 192) != label_at(window, 208)
    actions["polygon"].trigger()
    for x, y in [(10, 10), (40, 10), (40, 40)]:
        click(qtbot, window, x, y)
    qtbot.mouseDClick(_viewport(window), Qt.MouseButton.LeftButton, pos=_point(window, 10, 40))
    assert label_at(window, 20, 20) > 0 and count(window) == 8
    actions["freehand"].trigger()
    drag(qtbot, window, [(60, 200), (90, 200), (90, 230), (60, 230), (60, 202)])
    assert label_at(window, 75, 215) > 0 and count(window) == 9
    actions["brush"].trigger()
    window.edit_menu.brush_size.setValue(4)
    drag(qtbot, window, [(150, 220), (170, 220), (190, 220)])
    assert label_at(window, 170, 220) > 0 and count(window) == 10
    actions["eraser"].trigger()
    drag(qtbot, window, [(150, 220), (170, 220), (190, 220)])
    assert label_at(window, 170, 220) == 0 and count(window) == 9
    # fill: delete the first disc, then click it with the fill tool: it comes back from the threshold mask
    window.editor.delete([label_at(window, 50)])
    actions["fill"].trigger()
    click(qtbot, window, 50, 128)
    assert label_at(window, 50) > 0
    steps = len(window.editor.corrections.history.steps()[0])
    assert steps == 8  # knife, seeds, polygon, freehand, brush, eraser, delete, fill: one step each
    for _ in range(steps):
        window.edit_menu.undo_action.trigger()
    assert count(window) == 5


def test_export_records_the_hand_edits(qtbot, window, tmp_path):
    window.editor.delete([label_at(window, 50)])
    window.editor.merge([label_at(window, 100), label_at(window, 150)])
    written = window.output_menu.export_to(tmp_path / "out")
    summary = json.loads(next(p for p in written if p.name.endswith("_summary.json")).read_text())
    assert summary["manual_edits"]["deleted"] == 1 and summary["manual_edits"]["merged"] == 2
    table = pd.read_csv(next(p for p in written if p.name.endswith("_particles.csv")))
    assert len(table) == 3 and table["hand_edited"].sum() == 1


def test_session_saved_from_the_window_and_reopened(qtbot, window, tmp_path):
    window.editor.delete([label_at(window, 50)])
    assert window.edit_menu.save_session(tmp_path / "a.pgsession")
    labels = window.controller.current.result.labels.copy()
    window.editor.discard()
    window.controller.runner.wait()
    assert count(window) == 5
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        assert window.editor.open_session(tmp_path / "a.pgsession")
    assert np.array_equal(window.controller.current.result.labels, labels)
    assert window.edit_menu.undo_action.isEnabled()
