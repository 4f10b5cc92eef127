"""The intensity histogram: the analysed grey levels, the threshold line the user drags, its labels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from particle_gui.gui.widgets.intensity_histogram import IntensityHistogramWidget
from tests.gui.conftest import shown as _shown, view_to_widget as _view_to_widget


@pytest.fixture(autouse=True, scope="module")
def _pg_options():
    """The options the application sets once at start-up."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


def test_intensity_histogram_shows_threshold_and_polarity(qtbot, disc_result):
    widget = _shown(qtbot, IntensityHistogramWidget())
    widget.set_result(disc_result)
    assert widget.threshold_value() == pytest.approx(disc_result.threshold.value)
    assert widget.polarity_text == f"particles: {disc_result.threshold.polarity}"
    assert widget.counts.size == 256
    assert widget.counts.sum() == disc_result.preprocessed[: disc_result.analysis_rows].size


def test_intensity_histogram_hides_the_threshold_for_the_network(qtbot, disc_result):
    widget = _shown(qtbot, IntensityHistogramWidget())
    dl_result = dataclasses.replace(disc_result, params=dataclasses.replace(disc_result.params, method="dl"))
    widget.set_result(dl_result)
    assert widget.threshold_value() is None and "network" in widget.polarity_text
    assert widget.counts.sum() == disc_result.preprocessed[: disc_result.analysis_rows].size  # the grey levels stay
    widget.set_result(disc_result)
    assert widget.threshold_value() == pytest.approx(disc_result.threshold.value)


def test_intensity_histogram_user_drag_emits_threshold(qtbot, disc_result):
    widget = _shown(qtbot, IntensityHistogramWidget())
    widget.set_result(disc_result)
    plot, viewport = widget.plot_widget, widget.plot_widget.viewport()
    QApplication.processEvents()  # let the view box apply its auto-range
    y = float(np.mean(widget.plot_item.vb.viewRange()[1]))
    values: list[float] = []
    widget.thresholdDragged.connect(values.append)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=_view_to_widget(plot, widget.threshold_value(), y))
    for x in (0.42, 0.38, 0.34, 0.30):
        qtbot.mouseMove(viewport, _view_to_widget(plot, x, y))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_view_to_widget(plot, 0.30, y))
    assert len(values) >= 1
    assert values[-1] == pytest.approx(0.30, abs=0.01)
    assert widget.threshold_value() == pytest.approx(values[-1])


def test_intensity_histogram_programmatic_moves_do_not_emit(qtbot, disc_result):
    widget = _shown(qtbot, IntensityHistogramWidget())
    widget.set_result(disc_result)
    moved = dataclasses.replace(disc_result, threshold=dataclasses.replace(disc_result.threshold, value=0.6))
    with qtbot.assertNotEmitted(widget.thresholdDragged):
        widget.set_result(moved)
        widget.set_result(None)
        widget.set_result(disc_result)
    assert widget.threshold_value() == pytest.approx(disc_result.threshold.value)


def test_intensity_histogram_clears(qtbot, disc_result):
    widget = _shown(qtbot, IntensityHistogramWidget())
    widget.set_result(disc_result)
    widget.set_result(None)
    assert widget.threshold_value() is None
    assert widget.counts.size == 0
    assert widget.polarity_text == ""


def test_intensity_axis_reads_in_the_images_grey_levels(qtbot, disc_result):
    widget = _shown(qtbot, IntensityHistogramWidget())
    widget.set_result(disc_result)
    widget.set_grey_levels(100.0, 4000.0)  # a 16-bit image whose grey levels run 100 .. 4100
    axis = widget.plot_item.getAxis("bottom")
    assert axis.tickStrings([0.0, 0.5, 1.0], 1.0, 0.5) == ["100", "2100", "4100"]
    assert axis.labelText == "Grey level (after pre-processing)"
    threshold = widget.threshold_value()
    assert widget.threshold_label_text == f"threshold {100.0 + 4000.0 * threshold:.1f}"  # not the 0-1 value


def test_the_threshold_label_follows_the_grey_levels_of_each_image(qtbot, disc_result):
    widget = _shown(qtbot, IntensityHistogramWidget())
    widget.set_result(disc_result)
    widget.set_grey_levels(0.0, 255.0)
    value = widget.threshold_value()
    assert widget.threshold_label_text == f"threshold {255.0 * value:.1f}"
    widget.set_grey_levels(0.0, 1.0)  # data already in 0-1 (a float image): four digits
    assert widget.threshold_label_text == f"threshold {value:.4g}"
