"""Shape classes in the GUI: table column and sorting, summary rows, overlay colours, legend, stacked histogram."""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import Qt

from particle_gui.core.labels import outline_labels
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN, CONFIDENCE_COLUMN, PENDING
from particle_gui.core.output.render import SHAPE_CLASS_RGB, render_overlay_rgba, shape_legend
from particle_gui.gui.widgets.particle_table import ParticleTableWidget
from particle_gui.gui.widgets.shape_legend import ShapeLegend
from particle_gui.gui.widgets.size_histogram import SizeHistogramWidget
from particle_gui.gui.widgets.summary_panel import SummaryPanel

CLASSES = ["square", "round", "elongated", "round", "round"]  # discs of ECD 20, 20, 30, 30, 40 px


def _classified(result):
    table = result.particles.copy()
    table[CLASS_COLUMN] = CLASSES
    table[CONFIDENCE_COLUMN] = [0.9, 0.8, np.nan, 0.7, 0.95]
    return dataclasses.replace(result, particles=table)


def _cells(table: ParticleTableWidget, column: int) -> list[str]:
    model = table.view().model()
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def test_table_shows_and_sorts_the_class_column(qtbot, disc_result) -> None:
    table = ParticleTableWidget()
    qtbot.addWidget(table)
    table.set_result(_classified(disc_result))
    assert "Shape" in table.headers() and "Shape confidence" in table.headers()
    shape, confidence, ecd = table.column_of(CLASS_COLUMN), table.column_of(CONFIDENCE_COLUMN), table.column_of("ecd")
    assert _cells(table, shape) == CLASSES
    assert _cells(table, confidence)[2] == ""  # NaN is blank
    table.view().sortByColumn(shape, Qt.SortOrder.AscendingOrder)
    assert _cells(table, shape) == ["elongated", "round", "round", "round", "square"]
    table.view().sortByColumn(ecd, Qt.SortOrder.DescendingOrder)  # numbers still sort as numbers
    values = [float(v) for v in _cells(table, ecd)]
    assert values == sorted(values, reverse=True)


def test_summary_panel_lists_classes_with_counts_and_d50(qtbot, disc_result) -> None:
    panel = SummaryPanel()
    qtbot.addWidget(panel)
    panel.set_result(_classified(disc_result))
    text = panel.text()
    assert "Shape classes: round: 3 (60 %), D50" in text
    assert "elongated: 1 (20 %)" in text and "square: 1 (20 %)" in text
    assert text.index("round: 3") < text.index("elongated: 1") < text.index("square: 1")


def test_overlay_colours_particles_by_class_and_legend(qtbot, disc_result) -> None:
    result = _classified(disc_result)
    rgba = render_overlay_rgba(result, outline_labels(result.labels), mode="shape")
    for particle_id, name in zip(result.particles["id"], CLASSES):
        pixels = rgba[result.labels == particle_id]
        assert np.all(pixels[:, :3] == SHAPE_CLASS_RGB[name])
        assert pixels[:, 3].max() == 255 and pixels[:, 3].min() > 0  # opaque outline, translucent fill
    assert np.all(rgba[result.labels == 0, 3] == 0)
    assert [(name, count) for name, _, count in shape_legend(result)] == [("round", 3), ("elongated", 1),
                                                                         ("square", 1)]
    legend = ShapeLegend()
    qtbot.addWidget(legend)
    legend.set_result(result)
    assert "round&nbsp;3" in legend.text()
    legend.set_result(None)
    assert "no shape classes" in legend.text()


def test_histogram_stacks_by_class(qtbot, disc_result) -> None:
    widget = SizeHistogramWidget()
    qtbot.addWidget(widget)
    widget.set_result(_classified(disc_result))
    assert widget.class_counts == {}
    total = widget.bin_counts
    widget.by_class_check.setChecked(True)
    counts = widget.class_counts
    assert list(counts) == ["round", "elongated", "square"]
    np.testing.assert_array_equal(sum(counts.values()), total)
    assert int(counts["round"].sum()) == 3
    widget.by_class_check.setChecked(False)
    assert widget.class_counts == {}


def test_pending_classes_read_as_being_classified(qtbot, disc_result) -> None:
    table = disc_result.particles.copy()
    table[CLASS_COLUMN] = ["round", PENDING, PENDING, PENDING, PENDING]
    result = dataclasses.replace(disc_result, particles=table)
    panel, legend = SummaryPanel(), ShapeLegend()
    qtbot.addWidget(panel)
    qtbot.addWidget(legend)
    panel.set_result(result)
    legend.set_result(result)
    assert "round: 1 (20 %), D50" in panel.text() and "being classified: 4 (80 %)" in panel.text()
    assert "being classified&nbsp;4" in legend.text() and PENDING not in legend.text()
