"""Histogram of the equivalent circular diameter, with its log-normal fit, D10/D50/D90 and cumulative curve."""

from __future__ import annotations

from collections.abc import Iterable
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from particle_gui.core.analysis.pipeline import PipelineResult
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN, UNCLASSIFIED, class_order
from particle_gui.core.output.render import shape_class_rgb

#: Bin settings: 0 means numpy's "auto" rule, capped at ``MAX_AUTO_BINS``.
AUTO_BINS = 0
MIN_BINS = 5
MAX_BINS = 200
MAX_AUTO_BINS = 100
FIT_POINTS = 200

BAR_BRUSH = (70, 130, 200, 170)
BAR_PEN = (40, 80, 140)
FIT_PEN = pg.mkPen((220, 60, 40), width=2)
CUMULATIVE_PEN = pg.mkPen((60, 60, 60), width=1.5, style=Qt.PenStyle.DashLine)
PERCENTILE_PEN = pg.mkPen((30, 140, 60), width=1.5)
#: The selection colour of the image canvas, so a selected particle looks the same everywhere.
SELECTED_BRUSH = (0, 200, 255, 255)
AXIS_PEN = (60, 60, 60)
#: Label heights (fraction of the view) of D10, D50 and D90, staggered so that they never overlap.
PERCENTILE_LABEL_POSITIONS = (0.95, 0.85, 0.75)
#: The legend's row in the plot item's grid (pyqtgraph: 0 title, 1 top axis, 2 view, 3 bottom axis).
LEGEND_LAYOUT_ROW = 4
LEGEND_COLUMNS = 3


def style_axes(plot_item: pg.PlotItem) -> None:
    """Dark axes and tick labels, readable on the white background; values as they are (no "x0.001")."""
    for name in ("left", "bottom", "right"):
        axis = plot_item.getAxis(name)
        axis.setPen(AXIS_PEN)
        axis.setTextPen(AXIS_PEN)
        axis.enableAutoSIPrefix(False)  # pyqtgraph would print circularity 0.5-0.8 as 500-800 "(x0.001)"


#: Sizes the histogram can show: (menu text, column in pixels); rods need their length and width.
SIZE_QUANTITIES: tuple[tuple[str, str], ...] = (("ECD", "ecd"), ("Feret length (max)", "feret_max"),
                                               ("Feret width (min)", "feret_min"))


def size_column(result: PipelineResult) -> str:
    """Name of the diameter column in the result's unit: ``"ecd_nm"`` or ``"ecd"``."""
    return "ecd_nm" if result.calibration.is_calibrated else "ecd"


def export_plot_image(plot_item: pg.PlotItem, path: str | Path) -> None:
    """Write a plot to ``path``: SVG for a ``.svg`` suffix, otherwise a raster image (PNG, ...).

    Raises
    ------
    OSError
        When the file could not be written.
    """
    path = Path(path)
    views = plot_item.scene().views() if plot_item.scene() is not None else []
    if not any(view.isVisible() for view in views):
        # Never painted (e.g. a hidden dock tab): the axes size themselves during the first
        # render and post layout requests. Render once and apply them, then export.
        pg.exporters.ImageExporter(plot_item).export(toBytes=True)
        QCoreApplication.sendPostedEvents()
    if path.suffix.lower() == ".svg":
        exporter = pg.exporters.SVGExporter(plot_item)
    else:
        exporter = pg.exporters.ImageExporter(plot_item)
    # Written beside the target, then renamed over it: a crash mid-write leaves the old file intact.
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        saved = exporter.export(str(temporary))
        if saved is False or not temporary.is_file() or temporary.stat().st_size == 0:
            raise OSError(f"Could not write the image {path}.")
        os.replace(temporary, path)
    except OSError:
        raise
    except Exception as error:  # pyqtgraph raises bare Exception, e.g. for a zero-sized plot
        raise OSError(f"Could not export the plot to {path}: {error}") from error
    finally:
        temporary.unlink(missing_ok=True)


class SizeHistogramWidget(QWidget):
    """Size distribution of one result: counts per ECD bin, fit, percentiles, cumulative %.

    The left axis is the count per bin; the right axis (a second view box, linked on x) is the
    cumulative percentage of particles smaller than a diameter.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: PipelineResult | None = None
        self._diameters = np.zeros(0)
        self._ids = np.zeros(0, dtype=np.int64)
        self._classes = np.zeros(0, dtype=object)
        self._class_bars: list[tuple[str, pg.BarGraphItem]] = []
        self._selection: tuple[int, ...] = ()
        self._counts = np.zeros(0, dtype=np.int64)
        self._x_label = "ECD"
        self._bins_shown = AUTO_BINS

        self._bins_spin = QSpinBox()
        self._bins_spin.setRange(AUTO_BINS, MAX_BINS)
        self._bins_spin.setSpecialValueText("auto")
        self._bins_spin.setToolTip(f"Number of bins; 'auto' uses numpy's rule (at most {MAX_AUTO_BINS}).")
        self._bins_spin.setKeyboardTracking(False)
        self._bins_spin.valueChanged.connect(self._on_bins_spin_value_changed)
        self._quantity_combo = QComboBox()
        self._quantity_combo.addItems([text for text, _ in SIZE_QUANTITIES])
        self._quantity_combo.setToolTip("The size shown: equivalent circular diameter, or Feret length or width "
                                        "(for rods and plates); the fit and the summary are by ECD")
        self._quantity_combo.currentIndexChanged.connect(lambda _i: self.set_result(self._result))
        # May shrink (its list still shows the whole names) so the dock fits beside the image on small screens.
        self._quantity_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._quantity_combo.setMinimumContentsLength(6)
        self._by_class_check = QCheckBox("By shape class")
        self._by_class_check.setToolTip("Stack the bars by shape class (colours as in the shape overlay).")
        self._by_class_check.toggled.connect(self._on_by_class_check_toggled)

        self._plot = pg.PlotWidget(background="w")
        self._build_plot()

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Bins"))
        controls.addWidget(self._bins_spin)
        controls.addWidget(self._quantity_combo)
        controls.addWidget(self._by_class_check)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self._plot, 1)
        self.set_result(None)

    def _build_plot(self) -> None:
        item = self._plot.getPlotItem()
        style_axes(item)
        item.setLabel("left", "Count")
        item.showAxis("right")
        item.setLabel("right", "Cumulative (%)")
        item.showGrid(x=False, y=True, alpha=0.2)

        self._bars = pg.BarGraphItem(x0=[], width=[], height=[], brush=BAR_BRUSH, pen=BAR_PEN)
        self._fit_curve = pg.PlotDataItem(pen=FIT_PEN)
        self._selected = pg.ScatterPlotItem(symbol="t1", size=11, brush=SELECTED_BRUSH, pen=pg.mkPen("k"))
        self._selected.setZValue(20)
        item.addItem(self._bars)
        item.addItem(self._fit_curve)
        item.addItem(self._selected)
        self._percentile_lines = []
        for name, position in zip(("D10", "D50", "D90"), PERCENTILE_LABEL_POSITIONS):
            line = pg.InfiniteLine(
                angle=90,
                movable=False,
                pen=PERCENTILE_PEN,
                label=name,
                labelOpts={"position": position, "color": (20, 100, 40), "fill": (255, 255, 255, 200)},
            )
            line.setZValue(10)
            item.addItem(line, ignoreBounds=True)
            self._percentile_lines.append((name, line))

        # The cumulative curve lives in its own view box (y fixed at 0..100 %), a child of the
        # plot item so that exports include it, drawn behind the main view box so that the main
        # one still receives every mouse event.
        self._cumulative_view = pg.ViewBox(enableMouse=False, enableMenu=False)
        self._cumulative_view.setParentItem(item)
        self._cumulative_view.setZValue(item.vb.zValue() - 1)
        self._cumulative_view.setXLink(item.vb)
        self._cumulative_view.setYRange(0, 100, padding=0.02)
        self._cumulative_view.enableAutoRange(x=False, y=False)
        item.getAxis("right").linkToView(self._cumulative_view)
        self._cumulative_curve = pg.PlotDataItem(pen=CUMULATIVE_PEN)
        self._cumulative_view.addItem(self._cumulative_curve)
        item.vb.sigResized.connect(self._on_view_resized)
        self._on_view_resized()

        # Below the x axis, in rows of three entries: never over the bars or the D10/D50/D90 labels.
        self._legend = legend = pg.LegendItem(offset=None, colCount=LEGEND_COLUMNS, labelTextColor=AXIS_PEN)
        item.layout.addItem(legend, LEGEND_LAYOUT_ROW, 0, 1, 3)  # under both axes too
        legend.addItem(self._bars, "particles")
        legend.addItem(self._fit_curve, "log-normal fit")
        legend.addItem(self._cumulative_curve, "cumulative %")

    # --- public API -----------------------------------------------------------------------------

    @property
    def bins_spin(self) -> QSpinBox:
        """The bins control (0 = auto)."""
        return self._bins_spin

    @property
    def by_class_check(self) -> QCheckBox:
        """Stack the histogram by shape class."""
        return self._by_class_check

    @property
    def class_counts(self) -> dict[str, np.ndarray]:
        """Per-class bar heights currently shown (empty unless stacked by class)."""
        return {name: np.asarray(bar.opts["height"]) for name, bar in self._class_bars}

    @property
    def plot_item(self) -> pg.PlotItem:
        return self._plot.getPlotItem()

    @property
    def bin_counts(self) -> np.ndarray:
        """Counts of the bars currently shown (empty when there is nothing to show)."""
        return self._counts.copy()

    @property
    def x_label(self) -> str:
        """Bottom axis label, e.g. ``"ECD (nm)"``."""
        return self._x_label

    @property
    def percentile_values(self) -> tuple[float, ...]:
        """Positions of the D10, D50 and D90 lines, empty when they are hidden."""
        return tuple(line.value() for _, line in self._percentile_lines if line.isVisible())

    def set_result(self, result: PipelineResult | None) -> None:
        """Show the size distribution of ``result``; None clears the plot."""
        self._result = result
        if result is None:
            self._diameters = np.zeros(0)
            self._ids = np.zeros(0, dtype=np.int64)
            self._classes = np.zeros(0, dtype=object)
            self._x_label = self.quantity_text
        else:
            name = self.quantity_column + ("_nm" if result.calibration.is_calibrated else "")
            column = result.particles[name].to_numpy(dtype=np.float64)
            keep = np.isfinite(column) & (column > 0)
            self._diameters = column[keep]
            self._ids = result.particles["id"].to_numpy(dtype=np.int64)[keep]
            particles = result.particles
            names = particles[CLASS_COLUMN].fillna(UNCLASSIFIED).astype(str) if CLASS_COLUMN in particles else None
            self._classes = names.to_numpy()[keep] if names is not None else np.zeros(0, dtype=object)
            self._x_label = f"{self.quantity_text} ({result.calibration.unit})"
            # four significant digits, and whole numbers from 10⁴ on ("138000 nm", not "1.38e+05 nm")
            digits = ".0f" if self._diameters.size and self._diameters.max() >= 1e4 else ".4g"
            for name, line in self._percentile_lines:
                line.label.setFormat(f"{name} = {{value:{digits}}} {result.calibration.unit}")
        self.plot_item.setLabel("bottom", self._x_label)
        self._redraw()

    @property
    def quantity_combo(self) -> QComboBox:
        return self._quantity_combo

    @property
    def quantity_text(self) -> str:
        return SIZE_QUANTITIES[max(self._quantity_combo.currentIndex(), 0)][0]

    @property
    def quantity_column(self) -> str:
        """The pixel column shown (``ecd``, ``feret_max`` or ``feret_min``)."""
        return SIZE_QUANTITIES[max(self._quantity_combo.currentIndex(), 0)][1]

    def set_selection(self, ids: Iterable[int]) -> None:
        """Mark the diameters of the particles ``ids`` with triangles on the x axis."""
        self._selection = tuple(int(i) for i in ids)
        self._draw_selection()

    def export_image(self, path: str | Path) -> None:
        """Save the plot as PNG (or another raster format) or, for a ``.svg`` suffix, SVG.

        Raises
        ------
        OSError
            When the file could not be written.
        """
        export_plot_image(self.plot_item, path)

    # --- drawing --------------------------------------------------------------------------------

    def _bin_edges(self) -> np.ndarray:
        bins = self._bins_spin.value()
        if bins == AUTO_BINS:
            edges = np.histogram_bin_edges(self._diameters, bins="auto")
            if edges.size - 1 > MAX_AUTO_BINS:
                edges = np.histogram_bin_edges(self._diameters, bins=MAX_AUTO_BINS)
            return edges
        return np.histogram_bin_edges(self._diameters, bins=bins)

    def _redraw(self) -> None:
        d = self._diameters
        summary = self._result.summary if self._result is not None else None
        for _, bar in self._class_bars:
            self.plot_item.removeItem(bar)
            self._legend.removeItem(bar)
        self._class_bars = []
        if d.size == 0 or summary is None:
            self._counts = np.zeros(0, dtype=np.int64)
            self._bars.setOpts(x0=[], width=[], height=[])
            self._bars.setVisible(False)
            self._legend.setVisible(False)
            self._fit_curve.setData([], [])
            self._cumulative_curve.setData([], [])
            for _, line in self._percentile_lines:
                line.setVisible(False)
            self._draw_selection()
            return
        edges = self._bin_edges()
        counts, _ = np.histogram(d, bins=edges)
        self._counts = counts
        self._bars.setOpts(x0=edges[:-1], width=np.diff(edges), height=counts)
        stacked = self._by_class_check.isChecked() and self._classes.size == d.size
        self._bars.setVisible(not stacked)
        if stacked:
            self._draw_class_bars(edges)
        self._legend.setVisible(True)
        ecd = self.quantity_column == "ecd"
        if ecd:  # the log-normal fit and the summary's percentiles are by ECD
            self._draw_fit(edges, d.size)
        else:
            self._fit_curve.setData([], [])
        self._draw_cumulative(d)
        percentiles = (summary.d10, summary.d50, summary.d90) if ecd else tuple(np.percentile(d, (10, 50, 90)))
        for (_, line), value in zip(self._percentile_lines, percentiles):
            line.setVisible(value is not None)
            if value is not None:
                line.setValue(value)
        self._draw_selection()
        self.plot_item.vb.enableAutoRange()

    def _draw_class_bars(self, edges: np.ndarray) -> None:
        """One bar series per shape class, stacked, in class order, each with a legend entry."""
        bottom = np.zeros(edges.size - 1)
        for name in class_order(self._classes):
            counts, _ = np.histogram(self._diameters[self._classes == name], bins=edges)
            bar = pg.BarGraphItem(x0=edges[:-1], width=np.diff(edges), y0=bottom.copy(), height=counts,
                                  brush=(*shape_class_rgb(name), 200), pen=BAR_PEN)
            self.plot_item.addItem(bar)
            self._legend.addItem(bar, f"{name} ({int(counts.sum())})")
            self._class_bars.append((name, bar))
            bottom += counts

    def _draw_fit(self, edges: np.ndarray, count: int) -> None:
        fit = self._result.summary.lognormal if self._result is not None else None
        if fit is None or fit.sigma <= 0:
            self._fit_curve.setData([], [])
            return
        x = np.linspace(max(edges[0], 1e-12), edges[-1], FIT_POINTS)
        pdf = np.exp(-((np.log(x) - fit.mu) ** 2) / (2 * fit.sigma**2)) / (x * fit.sigma * np.sqrt(2 * np.pi))
        bin_width = (edges[-1] - edges[0]) / (edges.size - 1)
        self._fit_curve.setData(x, pdf * count * bin_width)

    def _draw_cumulative(self, d: np.ndarray) -> None:
        ordered = np.sort(d)
        percent = np.arange(1, ordered.size + 1) * (100.0 / ordered.size)
        # A staircase: flat at the previous percentage up to each diameter, then a step up.
        x = np.repeat(ordered, 2)
        y = np.empty_like(x)
        y[0::2] = np.r_[0.0, percent[:-1]]
        y[1::2] = percent
        self._cumulative_curve.setData(x, y)

    def _draw_selection(self) -> None:
        if not self._selection or self._ids.size == 0:
            self._selected.setData(x=[], y=[])
            return
        chosen = self._diameters[np.isin(self._ids, self._selection)]
        self._selected.setData(x=chosen, y=np.zeros_like(chosen))

    # --- slots ----------------------------------------------------------------------------------

    def _on_bins_spin_value_changed(self, value: int) -> None:
        if AUTO_BINS < value < MIN_BINS:  # 1..4 bins are not offered: jump over them
            self._bins_spin.setValue(MIN_BINS if value > self._bins_shown else AUTO_BINS)
            return
        self._bins_shown = value
        self._redraw()

    def _on_by_class_check_toggled(self, _checked: bool) -> None:
        self._redraw()

    def _on_view_resized(self) -> None:
        self._cumulative_view.setGeometry(self.plot_item.vb.geometry())
