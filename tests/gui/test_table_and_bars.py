"""The particle table, the file list, the message bar and the scale-bar dialog, offscreen."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
)

from particle_gui.core.io.calibration import Calibration
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.gui.widgets.file_list import FileListWidget
from particle_gui.gui.widgets.message_bar import MessageBar
from particle_gui.gui.widgets.particle_table import ParticleTableWidget, format_number
from particle_gui.gui.widgets.scale_bar_dialog import ScaleBarDialog, ask_scale_bar_length
from tests.gui.conftest import disc_grey


def _table(qtbot, result=None) -> ParticleTableWidget:
    table = ParticleTableWidget()
    qtbot.addWidget(table)
    table.resize(900, 400)
    table.show()
    qtbot.waitExposed(table)
    if result is not None:
        table.set_result(result)
    return table


def _cell(table: ParticleTableWidget, row: int, key: str) -> str:
    view = table.view()
    return view.model().index(row, table.column_of(key)).data()


def _click_header(qtbot, table: ParticleTableWidget, column: int) -> None:
    header = table.view().horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


@pytest.fixture
def calibrated_result():
    """The 5 discs of ``disc_result`` with a manual pixel size of 2 nm."""
    grey = disc_grey(width=300)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    return Pipeline(image).run(PipelineParams(), Calibration(2.0, "manual"))


def _many_particles(count: int = 5000) -> SimpleNamespace:
    """A result-like object with ``count`` particles in 25 columns (22 of the engine's + 3)."""
    rng = np.random.default_rng(1)
    columns: dict[str, np.ndarray] = {"id": np.arange(1, count + 1)}
    for name in ("centroid_x", "centroid_y", "area", "perimeter", "ecd", "feret_max", "feret_min", "major_axis",
                 "minor_axis", "feret_ratio", "circularity", "solidity", "mean_intensity"):
        columns[name] = rng.uniform(0.5, 2000.0, count)
    columns["touches_edge"] = rng.random(count) < 0.1
    for name in ("ecd", "perimeter", "feret_max", "feret_min", "major_axis", "minor_axis"):
        columns[f"{name}_nm"] = columns[name] * 2.0
    columns["area_nm2"] = columns["area"] * 4.0
    for index in range(3):
        columns[f"extra_{index}"] = rng.normal(size=count)
    particles = pd.DataFrame(columns)
    assert particles.shape == (count, 25)
    return SimpleNamespace(particles=particles, calibration=Calibration(2.0, "manual"))


# -- particle table -------------------------------------------------------------------------


def test_table_shows_every_particle_with_pixel_units(qtbot, disc_result):
    table = _table(qtbot, disc_result)

    assert table.row_count() == 5
    assert table.view().model().rowCount() == 5
    headers = table.headers()
    assert "ECD (px)" in headers and "Area (px²)" in headers and "Centroid x (px)" in headers
    assert "Circularity" in headers and "Touches edge" in headers
    assert not any("nm" in header for header in headers)
    assert _cell(table, 0, "touches_edge") in ("yes", "no")
    ecd = disc_result.particles["ecd"].iloc[0]
    assert _cell(table, 0, "ecd") == format_number(ecd)


def test_numbers_have_four_significant_digits():
    assert format_number(40.291195) == "40.29"
    assert format_number(1275.0) == "1275"
    assert format_number(5100.4) == "5100"
    assert format_number(0.98088) == "0.9809"
    assert format_number(123456.0) == "123500"
    assert format_number(float("nan")) == ""


def test_clicking_a_row_emits_its_particle_id(qtbot, disc_result):
    table = _table(qtbot, disc_result)
    view = table.view()
    row = 3
    expected = int(disc_result.particles["id"].iloc[row])
    rect = view.visualRect(view.model().index(row, 1))

    with qtbot.waitSignal(table.particlesSelected, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    assert blocker.args == [(expected,)]
    assert table.selected_ids() == (expected,)


def test_set_selection_after_sorting_selects_the_row_and_emits_nothing(qtbot, disc_result):
    table = _table(qtbot, disc_result)
    view = table.view()
    ecd_column = table.column_of("ecd")
    header = view.horizontalHeader()
    for _ in range(2):  # the first click on a section may sort either way, depending on the style
        _click_header(qtbot, table, ecd_column)
        if header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder:
            break
    assert header.sortIndicatorSection() == ecd_column
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    particles = disc_result.particles
    shown_ecd = [float(_cell(table, row, "ecd")) for row in range(5)]
    assert shown_ecd == sorted(shown_ecd, reverse=True)  # numeric sort: 40 before 30 before 20
    largest = int(particles.loc[particles["ecd"].idxmax(), "id"])
    assert _cell(table, 0, "id") == str(largest)

    target = int(particles.loc[particles["ecd"].idxmin(), "id"])
    with qtbot.assertNotEmitted(table.particlesSelected):
        table.set_selection((target,))
        qtbot.wait(10)

    rows = [index.row() for index in view.selectionModel().selectedRows()]
    assert len(rows) == 1
    assert _cell(table, rows[0], "id") == str(target)
    assert table.selected_ids() == (target,)
    with qtbot.assertNotEmitted(table.particlesSelected):
        table.set_selection(())
    assert table.selected_ids() == ()


def test_selection_follows_its_particles_when_sorted(qtbot, disc_result):
    table = _table(qtbot, disc_result)
    table.set_selection((2, 4))
    table.view().sortByColumn(table.column_of("ecd"), Qt.SortOrder.AscendingOrder)
    assert table.selected_ids() == (2, 4)
    selected_rows = {index.row() for index in table.view().selectionModel().selectedRows()}
    assert {_cell(table, row, "id") for row in selected_rows} == {"2", "4"}


def test_calibrated_result_shows_nanometre_columns(qtbot, calibrated_result):
    table = _table(qtbot, calibrated_result)

    headers = table.headers()
    assert "ECD (nm)" in headers and "Area (nm²)" in headers and "Feret max (nm)" in headers
    assert "ECD (px)" not in headers and "Area (px²)" not in headers
    assert "Centroid x (px)" in headers and "ID" in headers and "Solidity" in headers
    ecd_nm = calibrated_result.particles["ecd_nm"].iloc[0]
    assert _cell(table, 0, "ecd_nm") == format_number(ecd_nm)

    table.set_result(None)
    assert table.row_count() == 0


def test_five_thousand_particles_populate_and_sort(qtbot):
    # How fast belongs to benchmarks/bench_gui.py (the table is part of slider -> display).
    table = _table(qtbot)
    result = _many_particles()

    table.set_result(result)
    QApplication.processEvents()

    assert table.row_count() == 5000
    table.view().sortByColumn(table.column_of("ecd_nm"), Qt.SortOrder.DescendingOrder)
    table.set_result(result)  # re-sorted on arrival
    table.set_selection(range(1, 5001, 2))
    QApplication.processEvents()
    assert len(table.selected_ids()) == 2500
    first = float(_cell(table, 0, "ecd_nm"))
    assert first == pytest.approx(result.particles["ecd_nm"].max(), rel=1e-3)


# -- file list --------------------------------------------------------------------------------


def test_file_list_emits_on_click_and_not_on_set_current(qtbot, tmp_path):
    files = FileListWidget()
    qtbot.addWidget(files)
    files.show()
    assert files.is_placeholder_shown()
    paths = [tmp_path / "a.tif", tmp_path / "b.png", tmp_path / "c.tif"]
    files.set_paths(paths)
    assert not files.is_placeholder_shown()
    listing = files.list_widget()
    assert [listing.item(row).text() for row in range(3)] == ["a.tif", "b.png", "c.tif"]
    assert listing.item(1).toolTip() == str(paths[1])

    with qtbot.waitSignal(files.fileActivated, timeout=1000) as blocker:
        rect = listing.visualItemRect(listing.item(1))
        qtbot.mouseClick(listing.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [paths[1]]

    with qtbot.assertNotEmitted(files.fileActivated):
        files.set_current(paths[2])
    assert files.current_path() == paths[2]

    with qtbot.waitSignal(files.fileActivated, timeout=1000) as blocker:
        qtbot.keyClick(listing, Qt.Key.Key_Return)
    assert blocker.args == [paths[2]]

    files.set_paths([])
    assert files.is_placeholder_shown()
    assert files.current_path() is None


# -- message bar ------------------------------------------------------------------------------


def test_message_bar_error_details_copy(qtbot):
    bar = MessageBar()
    qtbot.addWidget(bar)
    assert bar.isHidden() and bar.message_text() == ""

    long_message = "The image could not be read: " + "the file ends before its last strip. " * 6
    bar.show_error(long_message, details="Traceback (most recent call last):\n  ValueError: truncated")
    assert not bar.isHidden()
    assert bar.is_error()
    assert bar.message_text() == long_message
    details_button = bar.findChild(QPushButton, "detailsButton")
    assert details_button.isVisibleTo(bar)

    qtbot.mouseClick(details_button, Qt.MouseButton.LeftButton)
    dialog = bar.findChild(QDialog)  # opened without blocking
    assert dialog is not None and dialog.isVisible()
    text = dialog.findChild(QPlainTextEdit, "detailsText")
    assert text.isReadOnly() and "ValueError: truncated" in text.toPlainText()
    QApplication.clipboard().clear()
    qtbot.mouseClick(dialog.findChild(QPushButton, "copyDetailsButton"), Qt.MouseButton.LeftButton)
    copied = QApplication.clipboard().text()
    assert copied.startswith(long_message) and copied.endswith("ValueError: truncated")
    dialog.close()

    bar.show_error("Export failed.")
    assert not bar.findChild(QPushButton, "detailsButton").isVisibleTo(bar)
    assert bar.show_details() is None
    bar.clear()
    assert bar.isHidden() and not bar.is_error()


def test_message_bar_warnings_show_and_hide(qtbot):
    bar = MessageBar()
    qtbot.addWidget(bar)

    bar.show_warnings(["Threshold fell back to Otsu.", "3 particles touch the edge."])
    assert not bar.isHidden() and not bar.is_error()
    assert "Threshold fell back to Otsu." in bar.message_text()
    assert "3 particles touch the edge." in bar.message_text()
    bar.show_warnings([])
    assert bar.isHidden() and bar.message_text() == ""

    bar.show_error("Export failed.")
    bar.show_warnings([])  # an error on show stays
    assert bar.is_error() and bar.message_text() == "Export failed."
    bar.show_warnings(["Low contrast."])
    assert bar.message_text() == "Export failed."  # the error stays in front
    with qtbot.waitSignal(bar.closed, timeout=1000):
        qtbot.mouseClick(bar.findChild(QToolButton, "closeButton"), Qt.MouseButton.LeftButton)
    assert not bar.is_error() and bar.message_text() == "Low contrast."


# -- scale bar dialog -------------------------------------------------------------------------


def test_scale_bar_dialog_validates_and_parses(qtbot):
    dialog = ScaleBarDialog(200.0, suggestion="100 nm")
    qtbot.addWidget(dialog)
    dialog.show()
    edit = dialog.findChild(QLineEdit, "lengthEdit")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert "The line is 200.0 px long." in dialog.findChild(QLabel, "lengthPxLabel").text()
    assert edit.text() == "100 nm" and ok.isEnabled() and dialog.length_nm() == 100.0

    edit.clear()
    qtbot.keyClicks(edit, "200 nm")
    assert ok.isEnabled()
    assert dialog.length_nm() == 200.0
    assert dialog.findChild(QLabel, "pixelSizeLabel").text() == "= 1.000 nm per pixel"

    edit.setText("abc")
    assert not ok.isEnabled()
    assert dialog.length_nm() is None
    assert dialog.findChild(QLabel, "problemLabel").text()  # says why
    dialog.accept()  # Enter with invalid text does not close the dialog
    assert dialog.isVisible()

    edit.setText("0.5 um")
    assert ok.isEnabled() and dialog.length_nm() == 500.0
    edit.setText("2um")
    assert dialog.length_nm() == 2000.0


def test_ask_scale_bar_length_returns_nm_or_none(qtbot):
    def answer(text: str, accept: bool) -> None:
        dialog = QApplication.activeModalWidget()
        dialog.findChild(QLineEdit, "lengthEdit").setText(text)
        dialog.accept() if accept else dialog.reject()

    QTimer.singleShot(0, lambda: answer("0.5 µm", True))
    assert ask_scale_bar_length(None, 250.0, suggestion="1 um") == 500.0
    QTimer.singleShot(0, lambda: answer("200 nm", False))
    assert ask_scale_bar_length(None, 250.0) is None
