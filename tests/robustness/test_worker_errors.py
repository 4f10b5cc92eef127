"""An error in a worker thread reaches the user in the real window (message bar, Details, Copy
details) and the rotating log file with its traceback, fed by real failing inputs."""

from __future__ import annotations

import logging

import pytest
import tifffile
from PySide6.QtWidgets import QApplication, QDialog, QPushButton

from synthetic.bad_inputs import as_uint8, scene
from particle_gui.core.params import PipelineParams
from particle_gui.desktop import logs as gui_errors
from particle_gui.desktop.logs import configure_logging, describe_exception, log_file
from tests.gui import conftest as gui_conftest
from tests.robustness.conftest import EXCEPTION_NAME

#: The shared main-window fixture of the GUI tests, requested by name below.
window = gui_conftest.window


@pytest.fixture
def sem_image(tmp_path):
    path = tmp_path / "Probe 7.tif"
    tifffile.imwrite(path, as_uint8(scene()))
    return path


def copy_details(qtbot, window) -> str:
    """Press Details…, then Copy details, like a user; returns the clipboard."""
    bar = window.message_bar
    details = bar.findChild(QPushButton, "detailsButton")
    assert details.isVisible()
    details.click()
    dialog = bar.findChild(QDialog)
    assert dialog is not None and dialog.isVisible()
    QApplication.clipboard().clear()
    dialog.findChild(QPushButton, "copyDetailsButton").click()
    dialog.close()
    return QApplication.clipboard().text()


def test_a_pipeline_worker_error_reaches_the_bar_the_clipboard_and_the_log(qtbot, window, sem_image, isolated_settings):
    """A pixel size of 2 mm instead of 2 µm that reached the document without the controller's
    check (e.g. from an older session file): the engine refuses it in the worker thread (1e300 nm
    made the summary overflow there before), and the refusal reaches the user and the log."""
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        assert window.controller.open_image(sem_image)
    with qtbot.waitSignal(window.controller.errorOccurred, timeout=10_000):
        window.controller.current.manual_pixel_size_nm = 2e6
        window.controller.request_run()
    bar = window.message_bar
    assert bar.is_error()
    message = bar.message_text()
    assert message.startswith("Probe 7.tif: The pixel size 2e+06 nm (manual) is not plausible")
    assert not EXCEPTION_NAME.search(message)
    clipboard = copy_details(qtbot, window)
    assert clipboard.startswith(message)
    assert "Traceback (most recent call last)" in clipboard and "CalibrationError" in clipboard
    assert f"This report is also in the log: {log_file()}" in clipboard

    assert log_file().parent == isolated_settings / "logs"
    logged = log_file().read_text(encoding="utf-8")
    assert "ERROR particle_gui: Probe 7.tif: The pixel size 2e+06 nm" in logged
    assert "Traceback (most recent call last)" in logged and "in run" in logged  # raised in Pipeline.run


def test_a_report_worker_error_reaches_the_bar_and_the_log(qtbot, window, sem_image, tmp_path):
    """The report's output folder cannot be created (its parent is a file): the worker fails."""
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the folder should be")
    with qtbot.waitSignal(window.output_menu.report_runner.failed, timeout=20_000):
        assert window.output_menu.report_runner.start(sem_image.parent, blocker / "study", PipelineParams())
    message = window.message_bar.message_text()
    assert window.message_bar.is_error()
    assert message.startswith(f"Cannot create the folder {blocker / 'study'}")
    clipboard = copy_details(qtbot, window)
    assert "Traceback (most recent call last)" in clipboard and "ExportError" in clipboard
    logged = log_file().read_text(encoding="utf-8")
    assert f"ERROR particle_gui: Cannot create the folder {blocker / 'study'}" in logged
    assert "Traceback (most recent call last)" in logged


def test_an_unexpected_exception_reads_as_words_and_is_logged():
    try:
        int("12 nm")
    except ValueError as exc:
        message, details = describe_exception(exc, context="The analysis failed", subject="a.tif")
    assert message == (
        "a.tif: The analysis failed because of an unexpected problem (invalid literal for int() with base 10: "
        "'12 nm'). Details > Copy details gives the technical report for a bug report."
    )
    assert details.startswith("Traceback (most recent call last)") and "ValueError" in details
    assert "ValueError: invalid literal" in log_file().read_text(encoding="utf-8")


def test_the_log_follows_the_config_folder_and_rotates(tmp_path, monkeypatch):
    first = configure_logging()
    monkeypatch.setenv("PARTICLE_GUI_CONFIG_DIR", str(tmp_path / "other"))
    second = configure_logging()
    assert second == tmp_path / "other" / "logs" / "particle_gui.log" != first
    assert configure_logging() == second  # idempotent: one handler
    handlers = [h for h in logging.getLogger("particle_gui").handlers if isinstance(h, logging.FileHandler)]
    assert [h.baseFilename for h in handlers] == [str(second)]
    log = logging.getLogger("particle_gui.test")
    for _ in range(gui_errors.LOG_MAX_BYTES // 1000 + 50):
        log.info("x" * 1000)
    assert second.with_name("particle_gui.log.1").is_file()
    assert second.stat().st_size <= gui_errors.LOG_MAX_BYTES
