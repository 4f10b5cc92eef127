"""The plot and summary widgets, offscreen, with real pipeline results and real mouse input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline, PipelineResult
from particle_gui.gui.widgets.intensity_histogram import IntensityHistogramWidget
from particle_gui.gui.widgets.shape_plot import ShapePlotWidget
from particle_gui.gui.widgets.size_histogram import SizeHistogramWidget
from particle_gui.gui.widgets.summary_panel import SummaryPanel
from tests.gui.conftest import disc_grey, shown as _shown, view_to_widget as _view_to_widget

WIDGETS = (SizeHistogramWidget, ShapePlotWidget, SummaryPanel, IntensityHistogramWidget)


@pytest.fixture(autouse=True, scope="module")
def _pg_options():
    """The options the application sets once at start-up."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


def _run(grey: np.ndarray) -> PipelineResult:
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    return Pipeline(image).run(PipelineParams())


@pytest.fixture
def empty_result() -> PipelineResult:
    """A real result with no particles: a constant image."""
    result = _run(np.full((128, 128), 0.4, dtype=np.float32))
    assert result.count == 0
    return result


@pytest.fixture
def single_result() -> PipelineResult:
    result = _run(disc_grey(diameters=(30,)))
    assert result.count == 1
    return result


# --- size histogram -------------------------------------------------------------------------------


def test_histogram_counts_every_particle_in_pixels(qtbot, disc_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(disc_result)
    assert widget.bin_counts.sum() == 5
    assert widget.x_label == "ECD (px)"
    assert widget.plot_item.getAxis("bottom").labelText == "ECD (px)"


def test_histogram_percentile_lines_at_summary(qtbot, disc_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(disc_result)
    s = disc_result.summary
    assert widget.percentile_values == pytest.approx((s.d10, s.d50, s.d90))


def _scene_rect(item):
    return item.mapRectToScene(item.boundingRect())


def test_histogram_legend_sits_below_the_plot_and_clear_of_it(qtbot, disc_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    classes = np.array(["round", "square", "round", "triangle", "hexagon"])
    widget.set_result(dataclasses.replace(
        disc_result, particles=disc_result.particles.assign(shape_class=classes[: disc_result.count])))
    for by_class in (False, True):  # by class: three more entries, a second row
        widget.by_class_check.setChecked(by_class)
        QApplication.processEvents()
        legend, view = _scene_rect(widget._legend), _scene_rect(widget.plot_item.vb)
        assert widget._legend.isVisible()
        assert legend.top() >= view.bottom()  # under the x axis, never over bars or D labels
        assert _scene_rect(widget.plot_item.getAxis("right")).right() <= widget.width()  # nothing pushed out


def test_histogram_bins_spin_sets_number_of_bars(qtbot, disc_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(disc_result)
    widget.bins_spin.setValue(10)
    assert widget.bin_counts.size == 10
    assert widget.bin_counts.sum() == 5
    widget.bins_spin.setValue(37)
    assert widget.bin_counts.size == 37


def test_histogram_bins_spin_jumps_between_auto_and_five(qtbot, disc_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(disc_result)
    spin = widget.bins_spin
    assert spin.value() == 0 and spin.text() == "auto"
    spin.stepBy(1)
    assert spin.value() == 5 and widget.bin_counts.size == 5
    spin.stepBy(-1)
    assert spin.value() == 0


def test_histogram_calibrated_in_nm(qtbot, many_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(many_result)
    assert widget.x_label == "ECD (nm)"
    assert widget.bin_counts.sum() == 5000
    assert widget.bin_counts.size <= 100
    assert widget.percentile_values[1] == pytest.approx(many_result.summary.d50)


def test_histogram_selection_marks_selected_diameters(qtbot, disc_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(disc_result)
    widget.set_selection([1, 4])
    x, _ = widget._selected.getData()
    table = disc_result.particles.set_index("id")
    assert sorted(x) == pytest.approx(sorted(table.loc[[1, 4], "ecd"]))
    widget.set_selection([])
    assert len(widget._selected.getData()[0]) == 0


@pytest.mark.parametrize("widget_class", [SizeHistogramWidget, ShapePlotWidget])
def test_export_png_and_svg(qtbot, disc_result, tmp_path, widget_class):
    widget = _shown(qtbot, widget_class())
    widget.set_result(disc_result)
    png, svg = tmp_path / "plot.png", tmp_path / "plot.svg"
    widget.export_image(png)
    widget.export_image(svg)
    assert png.stat().st_size > 0 and svg.stat().st_size > 0
    with Image.open(png) as image:
        assert image.width > 100
    assert "<svg" in svg.read_text(encoding="utf-8")


def test_export_of_a_never_shown_plot_has_its_axes(qtbot, disc_result, tmp_path):
    widget = ShapePlotWidget()
    qtbot.addWidget(widget)
    widget.set_result(disc_result)
    widget.export_image(tmp_path / "hidden.png")
    left_axis = widget.plot_item.getAxis("left")
    assert left_axis.width() > 45  # widened to fit its tick labels (35 px before the first paint)
    with Image.open(tmp_path / "hidden.png") as image:
        assert image.width > 100


def test_export_to_missing_folder_raises_oserror(qtbot, disc_result, tmp_path):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(disc_result)
    with pytest.raises(OSError):
        widget.export_image(tmp_path / "missing" / "plot.png")
    with pytest.raises(OSError):
        widget.export_image(tmp_path / "missing" / "plot.svg")


# --- shape plot -----------------------------------------------------------------------------------


def test_shape_plot_click_emits_particle_id(qtbot, disc_result):
    widget = _shown(qtbot, ShapePlotWidget())
    widget.set_result(disc_result)
    table = disc_result.particles
    largest = table.loc[table["ecd"].idxmax()]
    pos = _view_to_widget(widget.plot_widget, largest["ecd"], largest["circularity"])
    with qtbot.waitSignal(widget.particlesClicked) as blocker:
        qtbot.mouseClick(widget.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [(int(largest["id"]),), False]


def test_shape_plot_shift_click_is_additive_and_ties_give_every_id(qtbot, disc_result):
    widget = _shown(qtbot, ShapePlotWidget())
    widget.set_result(disc_result)
    table = disc_result.particles
    smallest = table[table["ecd"] == table["ecd"].min()]  # two identical 20 px discs, one point
    assert len(smallest) == 2
    pos = _view_to_widget(widget.plot_widget, smallest["ecd"].iloc[0], smallest["circularity"].iloc[0])
    with qtbot.waitSignal(widget.particlesClicked) as blocker:
        qtbot.mouseClick(widget.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.ShiftModifier, pos)
    assert blocker.args == [tuple(sorted(int(i) for i in smallest["id"])), True]


def test_shape_plot_click_on_selected_point_finds_unselected_twin(qtbot, disc_result):
    widget = _shown(qtbot, ShapePlotWidget())
    widget.set_result(disc_result)
    table = disc_result.particles
    smallest = table[table["ecd"] == table["ecd"].min()]
    ids = tuple(sorted(int(i) for i in smallest["id"]))
    widget.set_selection(ids[:1])
    pos = _view_to_widget(widget.plot_widget, smallest["ecd"].iloc[0], smallest["circularity"].iloc[0])
    with qtbot.waitSignal(widget.particlesClicked) as blocker:
        qtbot.mouseClick(widget.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.ControlModifier, pos)
    assert blocker.args == [ids, True]


def test_shape_plot_click_on_empty_space_emits_nothing(qtbot, disc_result):
    widget = _shown(qtbot, ShapePlotWidget())
    widget.set_result(disc_result)
    QApplication.processEvents()  # let the view box apply its auto-range
    (x0, x1), (y0, y1) = widget.plot_item.vb.viewRange()
    pos = _view_to_widget(widget.plot_widget, x0 + 0.5 * (x1 - x0), y0 + 0.3 * (y1 - y0))
    with qtbot.assertNotEmitted(widget.particlesClicked):
        qtbot.mouseClick(widget.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_shape_plot_selection_highlights_exactly_those_ids(qtbot, disc_result):
    widget = _shown(qtbot, ShapePlotWidget())
    widget.set_result(disc_result)
    widget.set_selection([2, 5, 999])
    assert widget.highlighted_ids == (2, 5)
    x, y = widget._highlight.getData()
    table = disc_result.particles.set_index("id")
    assert x == pytest.approx(table.loc[[2, 5], "ecd"].to_numpy())
    assert y == pytest.approx(table.loc[[2, 5], "circularity"].to_numpy())
    widget.set_result(disc_result)  # a new result keeps the selection of the ids still there
    assert widget.highlighted_ids == (2, 5)
    widget.set_selection(())
    assert widget.highlighted_ids == ()


def test_shape_plot_feret_ratio(qtbot, disc_result):
    widget = _shown(qtbot, ShapePlotWidget())
    widget.set_result(disc_result)
    widget.set_selection([1])
    assert widget.y_quantity == "circularity"
    widget.quantity_combo.setCurrentIndex(widget.quantity_combo.findText("Feret ratio"))
    assert widget.y_quantity == "feret_ratio"
    _, y, ids = widget.points
    expected = disc_result.particles.set_index("id").loc[ids, "feret_ratio"].to_numpy()
    assert y == pytest.approx(expected)
    assert widget._highlight.getData()[1] == pytest.approx(expected[ids == 1])
    assert widget.plot_item.getAxis("left").labelText == "Feret ratio"


# --- summary panel --------------------------------------------------------------------------------


def test_summary_text(qtbot, disc_result):
    panel = _shown(qtbot, SummaryPanel())
    panel.set_result(disc_result)
    text = panel.text()
    assert "Particles: 5" in text
    assert "D50: 30.26 px" in text
    assert "Lilliefors" in text and "no evidence against it" in text
    assert "uncalibrated" in text
    panel.set_result(None)
    assert panel.text() == ""


def test_summary_text_calibrated_with_families(qtbot, many_result):
    panel = _shown(qtbot, SummaryPanel())
    panel.set_result(many_result)
    text = panel.text()
    assert "Particles: 5000" in text
    assert "nm/px from manual" in text
    assert "by number" in text
    assert " px" not in text


def test_summary_empty_shows_warning(qtbot, empty_result):
    panel = _shown(qtbot, SummaryPanel())
    panel.set_result(empty_result)
    assert "Particles: 0" in panel.text()
    assert "No particles were found" in panel.text()


# --- intensity histogram --------------------------------------------------------------------------


# --- every widget ---------------------------------------------------------------------------------


@pytest.mark.parametrize("widget_class", WIDGETS)
def test_none_empty_and_single_results(qtbot, widget_class, disc_result, empty_result, single_result):
    widget = _shown(qtbot, widget_class())
    for result in (disc_result, None, empty_result, single_result, empty_result, None):
        widget.set_result(result)
        if hasattr(widget, "set_selection"):
            widget.set_selection([1])
        qtbot.wait(1)  # paint once


def test_empty_and_cleared_widgets_show_nothing(qtbot, disc_result, empty_result):
    histogram = _shown(qtbot, SizeHistogramWidget())
    shape = _shown(qtbot, ShapePlotWidget())
    for result in (empty_result, None):
        histogram.set_result(disc_result)
        shape.set_result(disc_result)
        shape.set_selection([1])
        histogram.set_result(result)
        shape.set_result(result)
        assert histogram.bin_counts.size == 0
        assert histogram.percentile_values == ()
        assert shape.points[2].size == 0
        assert shape.highlighted_ids == ()


def test_single_particle(qtbot, single_result):
    histogram = _shown(qtbot, SizeHistogramWidget())
    histogram.set_result(single_result)
    assert histogram.bin_counts.sum() == 1
    histogram.bins_spin.setValue(20)
    assert histogram.bin_counts.sum() == 1
    panel = _shown(qtbot, SummaryPanel())
    panel.set_result(single_result)
    assert "needs at least" in panel.text()


def _shown_state(widget):
    """What a plot widget shows, comparable between updates."""
    if isinstance(widget, SummaryPanel):
        return widget.text()
    if isinstance(widget, ShapePlotWidget):
        return tuple(a.tolist() for a in widget.points)
    if isinstance(widget, SizeHistogramWidget):
        return widget.bin_counts.tolist()
    return widget.counts().tolist() if callable(widget.counts) else widget.counts.tolist()


@pytest.mark.parametrize("widget_class", WIDGETS)
def test_update_with_5000_particles_shows_them_all_again(qtbot, widget_class, many_result, disc_result):
    # How fast this is belongs to benchmarks/bench_gui.py (slider -> display), not to a test.
    widget = _shown(qtbot, widget_class())
    widget.set_result(many_result)
    shown = _shown_state(widget)
    for _ in range(3):
        widget.set_result(disc_result)
        if not isinstance(widget, IntensityHistogramWidget):  # the two results share one image
            assert _shown_state(widget) != shown
        widget.set_result(many_result)
        if hasattr(widget, "set_selection"):
            widget.set_selection(range(1, 2500))
        assert _shown_state(widget) == shown
    if isinstance(widget, ShapePlotWidget):
        assert len(widget.points[2]) == 5000


def test_plot_export_replaces_the_file_atomically(qtbot, disc_result, tmp_path):
    widget = SizeHistogramWidget()
    qtbot.addWidget(widget)
    widget.set_result(disc_result)
    target = tmp_path / "histogram.png"
    target.write_bytes(b"previous export")
    widget.export_image(target)
    with Image.open(target) as image:
        assert image.size[0] > 0  # a real PNG replaced the old file
    assert [p.name for p in tmp_path.iterdir()] == ["histogram.png"]  # no partial file left behind
    with pytest.raises(OSError):
        widget.export_image(tmp_path / "missing folder" / "histogram.svg")
    assert not (tmp_path / "missing folder").exists()


def test_histogram_shows_feret_length_and_width_with_their_own_percentiles(qtbot, disc_result):
    widget = _shown(qtbot, SizeHistogramWidget())
    widget.set_result(disc_result)
    widget.quantity_combo.setCurrentText("Feret length (max)")
    feret = disc_result.particles["feret_max"].to_numpy()
    assert widget.x_label == "Feret length (max) (px)" and widget.bin_counts.sum() == 5
    assert widget.percentile_values == pytest.approx(tuple(np.percentile(feret, (10, 50, 90))))
    widget.quantity_combo.setCurrentText("ECD")
    assert widget.percentile_values == pytest.approx((disc_result.summary.d10, disc_result.summary.d50,
                                                      disc_result.summary.d90))


def test_axes_show_values_as_they_are(qtbot, disc_result):
    plot = _shown(qtbot, ShapePlotWidget())
    plot.set_result(disc_result)
    axis = plot.plot_item.getAxis("left")
    assert not axis.autoSIPrefix and "x0.001" not in axis.labelString()
    assert axis.tickStrings([0.5, 0.6], 1.0, 0.1) == ["0.5", "0.6"]
