"""Grey-level histogram of the analysed region, with the threshold as a line the user can drag."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from particle_gui.core.analysis.pipeline import PipelineResult
from particle_gui.gui.widgets.size_histogram import AXIS_PEN, style_axes

BINS = 256
#: The histogram is computed on at most this many pixels (a regular subsample of larger images).
MAX_PIXELS = 1_000_000
CURVE_PEN = pg.mkPen((70, 130, 200), width=1.5)
CURVE_BRUSH = (70, 130, 200, 80)
LINE_PEN = pg.mkPen((220, 60, 40), width=2)
LINE_HOVER_PEN = pg.mkPen((255, 120, 0), width=3)


class GreyLevelAxis(pg.AxisItem):
    """An axis over the 0-1 normalised intensities whose ticks read in the image's grey levels."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._offset, self._scale = 0.0, 1.0

    def set_levels(self, offset: float, scale: float) -> None:
        self._offset, self._scale = float(offset), float(scale)
        self.picture = None  # redraw the tick labels
        self.update()

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        levels = [self._offset + self._scale * v for v in values]
        span = abs(self._scale * spacing)
        decimals = 0 if span >= 1 else min(4, int(np.ceil(-np.log10(span))) + 1)
        return [f"{level:.{decimals}f}" for level in levels]

    def level_text(self, value: float) -> str:
        """One 0-1 value in the image's grey levels, to a tenth of a level (or 4 digits for 0-1 data)."""
        level = self._offset + self._scale * value
        return f"{level:.1f}" if abs(self._scale) >= 100 else f"{level:.4g}"


class _ThresholdLabelFormat:
    """The threshold line's label text in the axis's grey levels (pyqtgraph calls ``format(value=)``)."""

    def __init__(self, axis: GreyLevelAxis) -> None:
        self._axis = axis

    def format(self, value: float) -> str:
        return f"threshold {self._axis.level_text(value)}"


def intensity_counts(image: np.ndarray, *, bins: int = BINS, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Counts of ``bins`` equal bins over [0, 1] of a (regularly subsampled) 2-D image.

    >>> intensity_counts(np.array([[0.0, 0.5], [1.0, 1.0]]), bins=2).tolist()
    [1, 3]
    """
    step = max(1, math.ceil(math.sqrt(image.size / max_pixels))) if image.size else 1
    sample = image[::step, ::step] if image.ndim == 2 else image.ravel()[:: step * step]
    counts, _ = np.histogram(sample, bins=bins, range=(0.0, 1.0))
    return counts


class IntensityHistogramWidget(QWidget):
    """Histogram of the preprocessed intensities (0..1) with a draggable threshold line.

    Signals
    -------
    thresholdDragged(float)
        The threshold under the user's mouse, emitted continuously while the line is dragged
        (and once more with the old value if the drag is cancelled by a right click). Never
        emitted when the line moves because a new result arrived.
    """

    thresholdDragged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts = np.zeros(0, dtype=np.int64)
        # The (preprocessed array, analysed rows) of the counts shown, held so that a result that
        # only changed the threshold re-uses them.
        self._source: tuple[np.ndarray, int] | None = None

        self._polarity_label = QLabel()
        self._axis = GreyLevelAxis(orientation="bottom")
        self._plot = pg.PlotWidget(background="w", axisItems={"bottom": self._axis})
        item = self._plot.getPlotItem()
        style_axes(item)
        item.setLabel("bottom", "Grey level (after pre-processing)")
        item.setLabel("left", "Pixels")
        item.setXRange(0.0, 1.0, padding=0.02)
        self._curve = pg.PlotDataItem(stepMode="center", fillLevel=0, pen=CURVE_PEN, brush=CURVE_BRUSH)
        item.addItem(self._curve)
        self._line = pg.InfiniteLine(
            angle=90,
            movable=True,
            bounds=(0.0, 1.0),
            pen=LINE_PEN,
            hoverPen=LINE_HOVER_PEN,
            label="threshold {value:.3f}",
            labelOpts={"position": 0.92, "color": AXIS_PEN, "fill": (255, 255, 255, 200), "movable": False},
        )
        self._line.label.format = _ThresholdLabelFormat(self._axis)
        self._line.setZValue(10)
        self._line.setToolTip("Drag to change the threshold")
        item.addItem(self._line, ignoreBounds=True)
        # sigDragged comes only from the mouse (every move of a drag, and a right-click
        # cancel), never from setValue, so programmatic moves cannot echo back as user input.
        self._line.sigDragged.connect(self._on_line_dragged)

        controls = QHBoxLayout()
        controls.addWidget(self._polarity_label)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self._plot, 1)
        self.set_result(None)

    # --- public API -----------------------------------------------------------------------------

    @property
    def threshold_line(self) -> pg.InfiniteLine:
        return self._line

    @property
    def plot_item(self) -> pg.PlotItem:
        return self._plot.getPlotItem()

    @property
    def plot_widget(self) -> pg.PlotWidget:
        return self._plot

    @property
    def counts(self) -> np.ndarray:
        """The 256 bin counts shown (empty when there is no result)."""
        return self._counts.copy()

    @property
    def polarity_text(self) -> str:
        return self._polarity_label.text()

    def threshold_value(self) -> float | None:
        """Where the threshold line is, or None when there is no result."""
        return float(self._line.value()) if self._line.isVisible() else None

    def set_grey_levels(self, offset: float, scale: float) -> None:
        """Label the axis in the image's own grey levels (``offset + scale * value`` of the 0-1 values)."""
        self._axis.set_levels(offset, scale)
        self._line.label.valueChanged()

    @property
    def threshold_label_text(self) -> str:
        return self._line.label.toPlainText()

    def set_result(self, result: PipelineResult | None) -> None:
        """Show the intensities and threshold of ``result``; None clears the plot.

        While the user is dragging the line it stays under the mouse: only the histogram
        is refreshed.
        """
        if result is None:
            self._source = None
            self._counts = np.zeros(0, dtype=np.int64)
            self._curve.setData([], [])
            self._line.setVisible(False)
            self._polarity_label.setText("")
            return
        source = (result.preprocessed, result.analysis_rows)
        if self._source is None or self._source[0] is not source[0] or self._source[1] != source[1]:
            self._source = source
            self._counts = intensity_counts(result.preprocessed[: result.analysis_rows])
            self._curve.setData(np.linspace(0.0, 1.0, BINS + 1), self._counts)
        if result.params.method == "dl":  # the network's probabilities decide, not a grey level
            self._line.setVisible(False)
            self._polarity_label.setText("particles: found by the network (no intensity threshold)")
            return
        self._line.setVisible(True)
        if not self._line.moving:
            self._line.setValue(result.threshold.value)
            self._line.label.valueChanged()  # the grey levels may have changed with the image, the value not
        self._polarity_label.setText(f"particles: {result.threshold.polarity}")

    # --- slots ----------------------------------------------------------------------------------

    def _on_line_dragged(self, line: pg.InfiniteLine) -> None:
        self.thresholdDragged.emit(float(line.value()))
