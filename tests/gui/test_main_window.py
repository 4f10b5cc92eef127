"""The real main window, offscreen: the flows a microscopist uses, driven like a user."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from particle_gui.gui.main_window import MainWindow
from tests.gui.conftest import disc_grey


@pytest.fixture
def disc_tiff(tmp_path):
    path = tmp_path / "discs.tif"
    tifffile.imwrite(path, (disc_grey(width=300) * 255).astype(np.uint8))
    return path


def open_and_wait(qtbot, win, path):
    with qtbot.waitSignal(win.controller.resultChanged, timeout=10_000):
        assert win.controller.open_image(path)


def test_moving_a_slider_changes_the_particle_count(qtbot, window, disc_tiff):
    open_and_wait(qtbot, window, disc_tiff)
    assert window.count_label.text() == "5 particles"
    slider = window.params_panel.control("clean", "min_area_px")
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000) as blocker:
        slider.setValue(500.0)  # as a drag of the slider would
    assert blocker.args[0].count == 3
    assert window.count_label.text() == "3 particles"
    assert window.particle_table.row_count() == 3
    assert window.size_histogram.bin_counts.sum() == 3


def test_scale_bar_line_with_typed_length_calibrates(qtbot, window, disc_tiff):
    open_and_wait(qtbot, window, disc_tiff)
    assert "uncalibrated" in window.calibration_label.text()
    assert "px" in window.size_histogram.x_label
    window.scale_bar_action.trigger()
    assert window.canvas.scale_bar_tool_active
    window.canvas.set_scale_bar_line((50.0, 240.0), (150.0, 240.0))
    assert window.canvas.scale_bar_length_px() == pytest.approx(100.0, abs=0.01)
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        window.apply_scale_bar(window.canvas.scale_bar_length_px(), 200.0)  # the dialog's typed "200 nm"
    assert "2 nm/px" in window.calibration_label.text()
    assert "scale bar" in window.calibration_label.text()
    assert window.size_histogram.x_label == "ECD (nm)"
    assert window.controller.current.result.summary.d50 == pytest.approx(2 * 30.3, rel=0.02)
    assert not window.canvas.scale_bar_tool_active


def test_selecting_a_table_row_selects_the_particle_everywhere(qtbot, window, disc_tiff):
    open_and_wait(qtbot, window, disc_tiff)
    view = window.particle_table.view()
    rect = view.visualRect(view.model().index(2, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    selected = window.controller.selection
    assert len(selected) == 1
    assert window.canvas.selection == selected
    assert window.shape_plot.highlighted_ids == selected
    overlay = window.canvas.overlay_rgba()
    labels = window.controller.current.result.labels
    assert (overlay[labels == selected[0]][:, 2] == 255).all()  # drawn in the selection colour


def test_clicking_a_particle_on_the_canvas_selects_its_table_row(qtbot, window, disc_tiff):
    open_and_wait(qtbot, window, disc_tiff)
    result = window.controller.current.result
    row = result.particles.iloc[0]
    qtbot.wait(50)
    point = window.canvas.image_to_widget(row["centroid_x"] + 0.5, row["centroid_y"] + 0.5)
    viewport = window.canvas._view.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    assert window.controller.selection == (int(row["id"]),)
    assert window.particle_table.selected_ids() == (int(row["id"]),)


def test_export_writes_the_cli_files_and_plots(qtbot, window, disc_tiff, tmp_path):
    open_and_wait(qtbot, window, disc_tiff)
    written = window.output_menu.export_to(tmp_path / "export")
    names = {p.name for p in written}
    for expected in ("discs_labels.tif", "discs_particles.csv", "discs_overlay.png", "discs_summary.json",
                     "discs_particles.xlsx", "discs_histogram.png", "discs_histogram.svg", "discs_shape.svg"):
        assert expected in names
    assert all(p.stat().st_size > 0 for p in written)
    assert len(np.unique(tifffile.imread(tmp_path / "export" / "discs_labels.tif"))) == 6


def test_corrupt_file_shows_an_error_and_keeps_the_work(qtbot, window, disc_tiff, tmp_path):
    open_and_wait(qtbot, window, disc_tiff)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    assert not window.controller.open_image(bad)
    assert window.message_bar.is_error()
    assert "broken.png" in window.message_bar.message_text()
    assert window.controller.current.path == disc_tiff
    assert window.count_label.text() == "5 particles"


def test_settings_remember_parameters_and_recent_files(qtbot, disc_tiff, isolated_settings):
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")
    first = MainWindow()
    qtbot.addWidget(first)
    open_and_wait(qtbot, first, disc_tiff)
    first.params_panel.control("split", "mode").setCurrentText("none")
    first.controller.runner.wait(5000)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.controller.params.split.mode == "none"
    assert second.params_panel.shown_params.split.mode == "none"
    assert second.settings.recent_files[0] == str(disc_tiff)
    assert (isolated_settings / "settings.json").exists()


def test_dragging_the_threshold_line_sets_a_manual_threshold(qtbot, window, disc_tiff):
    open_and_wait(qtbot, window, disc_tiff)
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000) as blocker:
        window.intensity_histogram.thresholdDragged.emit(0.9)  # above every disc (0.8): nothing left
    assert window.controller.params.threshold.method == "manual"
    assert window.params_panel.control("threshold", "method").currentText() == "manual"
    assert blocker.args[0].count == 0


def test_presets_round_trip_through_the_cli_json(qtbot, window, disc_tiff, tmp_path):
    open_and_wait(qtbot, window, disc_tiff)
    window.params_panel.control("clean", "min_area_px").setValue(500.0)
    window.controller.runner.wait(5000)
    preset = tmp_path / "preset.json"
    assert window.controller.save_preset(preset)
    from particle_gui.core.params import PipelineParams

    assert PipelineParams.load(preset).clean.min_area_px == 500.0
    window.params_panel.control("clean", "min_area_px").setValue(30.0)
    window.controller.runner.wait(5000)
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000) as blocker:
        assert window.controller.load_preset(preset)
    assert window.controller.params.clean.min_area_px == 500.0
    assert window.params_panel.control("clean", "min_area_px").value() == 500.0
    assert blocker.args[0].count == 3


def test_dropping_a_folder_lists_its_images(qtbot, window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    for name in ("one.tif", "two.tif"):
        tifffile.imwrite(tmp_path / name, (disc_grey(width=300) * 255).astype(np.uint8))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        window.dropEvent(event)
    assert [p.name for p in window.file_list.paths()] == ["one.tif", "two.tif"]
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        window.next_action.trigger()
    assert window.controller.current.path.name == "two.tif"


def test_sixteen_bit_image_is_displayed_with_stretched_levels(qtbot, window, tmp_path):
    grey = disc_grey(width=300)
    path = tmp_path / "sixteen.tif"
    tifffile.imwrite(path, (1000 + grey * 3000).astype(np.uint16))  # uses a small part of 0..65535
    open_and_wait(qtbot, window, path)
    shown = window.canvas._image_item.image
    assert shown.dtype == np.uint8 and shown.max() >= 250 and shown.min() <= 5
    assert window.controller.current.result.count == 5


def test_the_controller_owns_the_parameters_and_the_panel_shows_them(qtbot, window, disc_tiff):
    open_and_wait(qtbot, window, disc_tiff)
    control = window.params_panel.control("clean", "min_area_px")
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        control.setValue(500.0)
    assert window.controller.params.clean.min_area_px == 500.0
    assert window.controller.current.params is window.controller.params
    assert window.params_panel.shown_params is window.controller.params
    # a value the parameter refuses: reported, nothing changes, the control shows the value in force
    with qtbot.waitSignal(window.controller.errorOccurred) as blocker:
        assert not window.controller.set_value("clean", "min_area_px", -4.0)
    assert "outside" in blocker.args[0] and "unchanged" in blocker.args[0]
    assert window.controller.params.clean.min_area_px == 500.0 and control.value() == 500.0
    assert not window.controller.set_method("watershed")
    assert window.params_panel.findChild(QComboBox, "method").currentText() == "classical"


def test_a_panel_alone_reports_changes_and_keeps_showing_what_it_was_given(qtbot):
    from particle_gui.gui.widgets.params_panel import ParamsPanel

    panel = ParamsPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.valueEdited) as blocker:
        panel.control("split", "mode").setCurrentText("none")
    assert blocker.args == ["split", "mode", "none"]
    assert panel.shown_params.split.mode != "none"  # nobody put it in force
