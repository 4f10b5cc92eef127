"""Scatter of particle size against shape (circularity or aspect ratio); click to select."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from particle_gui.core.analysis.pipeline import PipelineResult
from particle_gui.gui.widgets.size_histogram import SELECTED_BRUSH, export_plot_image, size_column, style_axes

#: (combo text, particle-table column) of the shape quantities on offer.
QUANTITIES: tuple[tuple[str, str], ...] = (("Circularity", "circularity"), ("Feret ratio", "feret_ratio"))
POINT_BRUSH = (70, 130, 200, 150)
POINT_SIZE = 7
SELECTED_SIZE = 12
#: Points whose centres are this close (in screen pixels) to the nearest one count as the same click.
TIE_PX = 0.5
ADDITIVE_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier


class ShapePlotWidget(QWidget):
    """ECD (x, in the calibrated unit) against a shape quantity (y), one point per particle.

    Signals
    -------
    particlesClicked(object, bool)
        A tuple of the particle ids under a left click (the nearest point, or all points at
        the same position) and whether Shift or Ctrl was held (add to the selection).
    """

    particlesClicked = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: PipelineResult | None = None
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._ids = np.zeros(0, dtype=np.int64)
        self._highlight_ids = np.zeros(0, dtype=np.int64)
        self._selection: tuple[int, ...] = ()
        #: A result arrived while the plot was hidden (e.g. behind the histogram's tab): it is
        #: drawn when the plot is shown or read, not on every edit or slider step.
        self._stale = False

        self._quantity_combo = QComboBox()
        for text, column in QUANTITIES:
            self._quantity_combo.addItem(text, column)
        self._quantity_combo.currentIndexChanged.connect(self._on_quantity_combo_changed)

        self._plot = pg.PlotWidget(background="w")
        item = self._plot.getPlotItem()
        style_axes(item)
        item.showGrid(x=True, y=True, alpha=0.2)
        self._points = pg.ScatterPlotItem(size=POINT_SIZE, brush=POINT_BRUSH, pen=None)
        self._highlight = pg.ScatterPlotItem(size=SELECTED_SIZE, brush=SELECTED_BRUSH, pen=pg.mkPen("k", width=1))
        self._highlight.setZValue(10)
        for scatter in (self._points, self._highlight):
            scatter.sigClicked.connect(self._on_scatter_clicked)
            item.addItem(scatter)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Shape"))
        controls.addWidget(self._quantity_combo)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self._plot, 1)
        self.set_result(None)

    # --- public API -----------------------------------------------------------------------------

    @property
    def quantity_combo(self) -> QComboBox:
        return self._quantity_combo

    @property
    def plot_item(self) -> pg.PlotItem:
        return self._plot.getPlotItem()

    @property
    def plot_widget(self) -> pg.PlotWidget:
        return self._plot

    @property
    def y_quantity(self) -> str:
        """Column on the y axis: ``"circularity"`` or ``"feret_ratio"``."""
        return self._quantity_combo.currentData()

    @property
    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, ids) of the points shown."""
        self._catch_up()
        return self._x.copy(), self._y.copy(), self._ids.copy()

    @property
    def highlighted_ids(self) -> tuple[int, ...]:
        """Ids of the points drawn highlighted, in table order."""
        self._catch_up()
        return tuple(int(i) for i in self._highlight_ids)

    def set_result(self, result: PipelineResult | None) -> None:
        """Plot the particles of ``result``; None clears the plot."""
        self._result = result
        if (self.isVisible() and not self.visibleRegion().isEmpty()) or result is None:  # not behind a tab
            self._redraw()
        else:
            self._stale = True

    def set_selection(self, ids: Iterable[int]) -> None:
        """Highlight the particles ``ids`` (ids not in the plot are ignored)."""
        self._selection = tuple(int(i) for i in ids)
        if not self._stale:
            self._draw_selection()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._catch_up()
        super().showEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override): brought to the front of its tab
        self._catch_up()
        super().paintEvent(event)

    def _catch_up(self) -> None:
        if self._stale:
            self._redraw()

    def export_image(self, path: str | Path) -> None:
        """Save the plot as PNG (or another raster format) or, for a ``.svg`` suffix, SVG.

        Raises
        ------
        OSError
            When the file could not be written.
        """
        self._catch_up()
        export_plot_image(self.plot_item, path)

    # --- drawing --------------------------------------------------------------------------------

    def _redraw(self) -> None:
        self._stale = False
        result = self._result
        item = self.plot_item
        item.setLabel("left", self._quantity_combo.currentText())
        if result is None:
            self._x, self._y = np.zeros(0), np.zeros(0)
            self._ids = np.zeros(0, dtype=np.int64)
            item.setLabel("bottom", "ECD")
        else:
            table = result.particles
            x = table[size_column(result)].to_numpy(dtype=np.float64)
            y = table[self.y_quantity].to_numpy(dtype=np.float64)
            keep = np.isfinite(x) & np.isfinite(y)
            self._x, self._y = x[keep], y[keep]
            self._ids = table["id"].to_numpy(dtype=np.int64)[keep]
            item.setLabel("bottom", f"ECD ({result.calibration.unit})")
        # No per-point ``data=``: pyqtgraph stores it per spot, which is slow for thousands of
        # points; a spot's index maps back to the particle id instead.
        self._points.setData(x=self._x, y=self._y)
        self._draw_selection()
        item.vb.enableAutoRange()

    def _draw_selection(self) -> None:
        chosen = np.isin(self._ids, self._selection) if self._selection else np.zeros(self._ids.size, dtype=bool)
        self._highlight_ids = self._ids[chosen]
        self._highlight.setData(x=self._x[chosen], y=self._y[chosen])

    # --- slots ----------------------------------------------------------------------------------

    def _on_quantity_combo_changed(self, _index: int) -> None:
        self._redraw()

    def _on_scatter_clicked(self, scatter: pg.ScatterPlotItem, spots, event) -> None:
        click = event.scenePos()
        # The highlight sits on top of the points and takes the clicks on selected ones: ask the
        # points layer too, so that unselected points at the same place are found as well.
        under = self._points.pointsAt(self._points.mapFromScene(click))
        if len(under) > 0:
            scatter, spots = self._points, under
        if len(spots) == 0:
            return
        # Only the few points under the cursor: compare them in screen pixels.
        centres = [scatter.mapToScene(spot.pos()) for spot in spots]
        distances = np.array([np.hypot(c.x() - click.x(), c.y() - click.y()) for c in centres])
        nearest = distances <= distances.min() + TIE_PX
        id_of = self._ids if scatter is self._points else self._highlight_ids
        ids = tuple(sorted({int(id_of[spot.index()]) for spot, near in zip(spots, nearest, strict=True) if near}))
        additive = bool(event.modifiers() & ADDITIVE_MODIFIERS)
        self.particlesClicked.emit(ids, additive)
