"""Quitting with unsaved corrections asks; Save writes sessions, Discard forgets; neither leaves recovery files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from particle_gui.core.editing.session import load_session
from particle_gui.desktop.autosave import Autosaver, pending_recoveries
from tests.gui.conftest import disc_grey


@pytest.fixture
def edited_window(qtbot, tmp_path, isolated_settings):
    import pyqtgraph as pg

    from particle_gui.gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major")
    image = tmp_path / "discs.tif"
    tifffile.imwrite(image, (disc_grey(width=300) * 255).astype(np.uint8))
    window = MainWindow(autosaver=Autosaver(tmp_path / "recovery"))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        window.controller.open_image(image)
    labels = window.controller.current.result.labels
    window.editor.delete([int(labels[128, 50])])
    window.editor.wait_idle()
    assert window.controller.current.unsaved_edits
    return window, image, tmp_path / "recovery"


def _answer(button: QMessageBox.StandardButton, seen: list) -> None:
    def click() -> None:
        box = QApplication.activeModalWidget()
        seen.append(box.text() if isinstance(box, QMessageBox) else None)
        box.button(button).click()
    QTimer.singleShot(50, click)


@pytest.mark.parametrize("button", [QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Discard])
def test_quit_asks_and_leaves_no_recovery_behind(qtbot, edited_window, button):
    window, image, recovery = edited_window
    seen: list = []
    _answer(button, seen)
    assert window.quit_asking()
    assert seen == ["The corrections of 1 image(s) are not saved: discs.tif."]
    assert not window.isVisible() and pending_recoveries(recovery) == []
    session = image.with_suffix(".pgsession")
    if button == QMessageBox.StandardButton.Save:
        state, _ = load_session(session)
        assert int(state.labels[128, 50]) == 0  # the deleted particle stays deleted
    else:
        assert not session.exists()


def test_cancel_keeps_the_window_and_the_corrections(qtbot, edited_window):
    window, image, recovery = edited_window
    _answer(QMessageBox.StandardButton.Cancel, [])
    assert not window.quit_asking()
    assert window.isVisible() and window.controller.current.unsaved_edits
    assert len(pending_recoveries(recovery)) == 1
    window.controller.current.unsaved_edits = False  # let the fixture close it without asking
