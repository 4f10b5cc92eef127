"""Mouse tools of the image canvas for hand corrections: they turn clicks and drags into gestures.

The tools only describe what the user drew, in image coordinates (x = column, y = row); the
editor (:mod:`particle_gui.gui.editor`) changes the labels. Left-button events are taken
over by the active tool; the wheel zooms and the middle button pans in every tool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsRectItem


@dataclass(frozen=True)
class Tool:
    """An editing tool: its name, its label in the toolbar, its keyboard shortcut and its tooltip."""

    name: str
    label: str
    shortcut: str
    tip: str


TOOLS: tuple[Tool, ...] = (
    Tool("select", "Select", "S", "Click a particle to select it, Shift/Ctrl+click to add; Shift+drag a box to "
                                  "select many; drag to pan"),
    Tool("delete", "Delete", "D", "Click particles to delete them (Delete key: delete the selection)"),
    Tool("merge", "Merge", "M", "Drag across particles to merge them into one (Ctrl+M merges the selection)"),
    Tool("knife", "Split (line)", "K", "Draw a line across a particle to cut it along the line"),
    Tool("seeds", "Split (seeds)", "W", "Click two or more seeds inside a particle, then Enter or double-click "
                                        "for a seeded watershed split"),
    Tool("polygon", "Add polygon", "P", "Click the corners of a new particle; Enter or double-click closes it"),
    Tool("freehand", "Add freehand", "F", "Drag around a new particle"),
    Tool("fill", "Add by fill", "G", "Click inside a region the threshold found but no particle covers"),
    Tool("brush", "Brush", "B", "Paint a particle (starts on a particle: extends it; on background: a new one)"),
    Tool("eraser", "Eraser", "E", "Erase particle pixels"),
)
TOOL_NAMES = tuple(tool.name for tool in TOOLS)
_PEN = pg.mkPen((0, 255, 160), width=2)


class CanvasTools(QObject):
    """The active editing tool of an :class:`ImageCanvas` and its temporary drawings.

    Signals carry image coordinates.
    """

    boxSelected = Signal(float, float, float, float, bool)  # x0, y0, x1, y1, additive
    particleClicked = Signal(int, bool)                      # select tool with Shift/Ctrl held
    deleteClicked = Signal(int)
    mergeDragged = Signal(object)                            # tuple of ids crossed
    lineDrawn = Signal(float, float, float, float)
    seedsPlaced = Signal(object)                             # list of (x, y)
    polygonDrawn = Signal(object)                            # list of (x, y)
    fillClicked = Signal(float, float)
    strokeStarted = Signal(float, float, bool)               # x, y, erase
    strokeMoved = Signal(float, float)
    strokeEnded = Signal()
    toolChanged = Signal(str)

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.tool = "select"
        self.brush_radius = 6.0
        self._pressed = False
        self._points: list[tuple[float, float]] = []
        self._start: tuple[float, float] | None = None
        self._moved = False
        self._additive = False
        viewbox = canvas._viewbox
        self._path = pg.PlotCurveItem(pen=_PEN)
        self._seeds = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(0, 255, 160), pen=pg.mkPen("k"))
        self._box = QGraphicsRectItem()
        self._box.setPen(QPen(QColor(0, 255, 160), 0, Qt.PenStyle.DashLine))
        self._cursor = QGraphicsEllipseItem()
        self._cursor.setPen(QPen(QColor(255, 255, 255), 0))
        self._cursor.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        for item in (self._path, self._seeds, self._box, self._cursor):
            item.setZValue(40)
            item.setVisible(False)
            viewbox.addItem(item)
        canvas._view.viewport().installEventFilter(self)
        canvas._view.installEventFilter(self)

    # --- tool ---------------------------------------------------------------------------------

    def set_tool(self, name: str) -> None:
        if name not in TOOL_NAMES:
            raise ValueError(f"unknown tool {name!r}")
        self.cancel()
        self.tool = name
        self._cursor.setVisible(False)
        self.toolChanged.emit(name)

    def set_brush_radius(self, radius: float) -> None:
        self.brush_radius = float(radius)

    @property
    def pending(self) -> bool:
        """True while a polygon or seeds wait for Enter."""
        return bool(self._points) and self.tool in ("polygon", "seeds")

    def finish(self) -> None:
        """Complete a pending polygon or seed set (Enter, double-click)."""
        points, tool = list(self._points), self.tool
        self.cancel()
        if tool == "polygon" and len(points) >= 3:
            self.polygonDrawn.emit(points)
        elif tool == "seeds" and len(points) >= 2:
            self.seedsPlaced.emit(points)

    def cancel(self) -> None:
        """Forget what is being drawn (Escape)."""
        if self._pressed and self.tool in ("brush", "eraser"):
            self.strokeEnded.emit()
        self._pressed = False
        self._points = []
        self._start = None
        for item in (self._path, self._seeds, self._box):
            item.setVisible(False)

    # --- events ------------------------------------------------------------------------------

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind == QEvent.Type.KeyPress:
            return self._key(event)
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease,
                        QEvent.Type.MouseButtonDblClick) or watched is not self.canvas._view.viewport():
            return False
        x, y = self._image_point(event.position())
        if kind == QEvent.Type.MouseMove:
            self._show_cursor(x, y)
            return self._move(x, y) if self._pressed else False
        if event.button() != Qt.MouseButton.LeftButton or self.canvas._image is None:
            return False
        if kind == QEvent.Type.MouseButtonDblClick:
            if self.tool in ("polygon", "seeds"):
                self.finish()
                return True
            return self.tool != "select"
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(x, y, event.modifiers())
        return self._release(x, y)

    def _key(self, event) -> bool:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.pending:
            self.finish()
            return True
        if event.key() == Qt.Key.Key_Escape and (self._points or self._pressed):
            self.cancel()
            return True
        return False

    def _press(self, x: float, y: float, modifiers) -> bool:
        tool = self.tool
        additive = bool(modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier))
        if tool == "select" and not additive:
            return False  # pyqtgraph: click selects (canvas), drag pans
        self._pressed, self._start, self._moved, self._additive = True, (x, y), False, additive
        if tool in ("brush", "eraser"):
            self.strokeStarted.emit(x, y, tool == "eraser")
        elif tool in ("merge", "knife", "freehand"):
            self._points = [(x, y)]
            self._draw_path(self._points)
        return True

    def _move(self, x: float, y: float) -> bool:
        tool = self.tool
        self._moved = self._moved or np.hypot(x - self._start[0], y - self._start[1]) >= 2
        if tool == "select":
            (x0, y0) = self._start
            self._box.setRect(QRectF(QPointF(min(x0, x), min(y0, y)), QPointF(max(x0, x), max(y0, y))))
            self._box.setVisible(True)
        elif tool in ("brush", "eraser"):
            self.strokeMoved.emit(x, y)
        elif tool == "knife":
            self._draw_path([self._start, (x, y)])
        elif tool in ("merge", "freehand"):
            self._points.append((x, y))
            self._draw_path(self._points)
        return True

    def _release(self, x: float, y: float) -> bool:
        if not self._pressed:
            return self.tool != "select"
        self._pressed = False
        tool, start, moved = self.tool, self._start, self._moved
        if tool == "select":
            self._box.setVisible(False)
            if moved:
                self.boxSelected.emit(start[0], start[1], x, y, True)
            else:
                self.particleClicked.emit(self.canvas.label_at(x, y), True)
        elif tool == "delete":
            particle = self.canvas.label_at(x, y)
            if particle:
                self.deleteClicked.emit(particle)
        elif tool == "merge":
            ids = tuple(dict.fromkeys(i for i in (self.canvas.label_at(px, py) for px, py in self._points) if i))
            self._clear_path()
            if len(ids) >= 2:
                self.mergeDragged.emit(ids)
        elif tool == "knife":
            self._clear_path()
            if moved:
                self.lineDrawn.emit(start[0], start[1], x, y)
        elif tool == "freehand":
            points = self._points
            self._clear_path()
            if len(points) >= 3:
                self.polygonDrawn.emit(points)
        elif tool in ("polygon", "seeds"):
            self._points.append((x, y))
            if tool == "polygon":
                self._draw_path(self._points + [self._points[0]])
            self._seeds.setData([p[0] for p in self._points], [p[1] for p in self._points])
            self._seeds.setVisible(True)
        elif tool == "fill":
            self.fillClicked.emit(x, y)
        elif tool in ("brush", "eraser"):
            self.strokeEnded.emit()
        return True

    # --- drawing ------------------------------------------------------------------------------

    def _image_point(self, position) -> tuple[float, float]:
        scene = self.canvas._view.mapToScene(position.toPoint())
        point = self.canvas._viewbox.mapSceneToView(scene)
        return float(point.x()), float(point.y())

    def _draw_path(self, points) -> None:
        xs, ys = zip(*points)
        self._path.setData(np.asarray(xs, float), np.asarray(ys, float))
        self._path.setVisible(True)

    def _clear_path(self) -> None:
        self._points = []
        self._path.setVisible(False)

    def _show_cursor(self, x: float, y: float) -> None:
        if self.tool not in ("brush", "eraser"):
            return
        r = self.brush_radius
        self._cursor.setRect(QRectF(x - r, y - r, 2 * r, 2 * r))
        self._cursor.setVisible(True)
