"""The image canvas: the micrograph, the particle overlay, hover read-out, selection, scale-bar line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from particle_gui.core.io.scalebar import ScaleBar
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.analysis.pipeline import PipelineResult
from particle_gui.core.output.render import (
    OVERLAY_MODES, SELECTED_FILL_ALPHA, SELECTED_RGBA, OverlayLayers, display_image_uint8, overlay_layers,
    render_overlay_rgba,
)
from particle_gui.gui.widgets.canvas_tools import CanvasTools


@contextlib.contextmanager
def _no_matplotlib_colormap_scan() -> Iterator[None]:
    """Leave out pyqtgraph's scan of matplotlib's colour maps while a histogram is made.

    pyqtgraph's gradient menu imports ``matplotlib.pyplot`` (0.45 s, the largest single import of
    the window's start) only to decide whether to offer matplotlib's uncategorised maps; the canvas
    hides that gradient, so its menu is never shown. Without the scan the menu has no "Others".
    """
    from pyqtgraph.widgets import ColorMapMenu as menu_module

    scan = menu_module.find_mpl_leftovers
    menu_module.find_mpl_leftovers = list  # list() is []: no leftover maps
    try:
        yield
    finally:
        menu_module.find_mpl_leftovers = scan


class ImageCanvas(QWidget):
    """Zoomable, pannable view of one image with its particles.

    Signals
    -------
    particleClicked(int, bool)
        The id under a left click (0 for background) and whether Shift/Ctrl was held.
    hoverChanged(str)
        A one-line description of what is under the cursor.
    """

    particleClicked = Signal(int, bool)
    hoverChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view = pg.GraphicsLayoutWidget()
        self._viewbox = self._view.addViewBox(lockAspect=True, invertY=True)
        self._viewbox.setMenuEnabled(False)
        self._image_item = pg.ImageItem()
        self._overlay_item = pg.ImageItem()
        self._overlay_item.setZValue(10)
        # The selection is drawn on its own small layer over its particles' box, so selecting
        # (or an edit that selects its result) never re-renders the whole overlay.
        self._selection_item = pg.ImageItem()
        self._selection_item.setZValue(11)
        self._viewbox.addItem(self._image_item)
        self._viewbox.addItem(self._overlay_item)
        self._viewbox.addItem(self._selection_item)
        # Display levels with their histogram (drag the bounds to change contrast).
        with _no_matplotlib_colormap_scan():
            self.levels = pg.HistogramLUTItem(image=self._image_item, gradientPosition="right")
        self.levels.gradient.hide()
        self.levels.axis.setLabel("Display grey level")
        self._view.addItem(self.levels)
        self._data_bar_item = QGraphicsRectItem()
        self._data_bar_item.setBrush(QBrush(QColor(40, 40, 40, 170)))
        self._data_bar_item.setPen(QPen(Qt.PenStyle.NoPen))
        self._data_bar_item.setZValue(20)
        self._data_bar_item.setVisible(False)
        self._viewbox.addItem(self._data_bar_item)
        self._scale_line: pg.LineSegmentROI | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view)

        self._image: LoadedImage | None = None
        self._result: PipelineResult | None = None
        self._outlines: np.ndarray | None = None
        self._prerendered: np.ndarray | None = None
        self._selection: tuple[int, ...] = ()
        self._overlay_mode = "outline"
        self._overlay_visible = True
        self._opacity = 0.9
        self._rows_by_id: dict[int, int] = {}
        #: Image point under the pointer (None until it moves over the canvas).
        self._hover_at: tuple[float, float] | None = None
        self._view.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._view.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        #: The editing tools (select, delete, merge, split, add, brush...).
        self.tools = CanvasTools(self)

    # --- content ------------------------------------------------------------------------------

    def set_image(self, image: LoadedImage | None) -> None:
        """Show a new image (auto levels), clearing the overlay; the view fits the image."""
        self._image = image
        self._result = None
        self._outlines = None
        self._selection = ()
        self.cancel_scale_bar_tool()
        self.tools.cancel()
        if image is None:
            self._image_item.clear()
            self._overlay_item.clear()
            self._selection_item.setVisible(False)
            self._data_bar_item.setVisible(False)
            return
        display = display_image_uint8(image)  # 16/32-bit and float: 0.5-99.5 percentile stretch
        self._image_item.setImage(display, autoLevels=False, levels=(0, 255))
        self.levels.setLevels(0, 255)
        self._overlay_item.clear()
        self._selection_item.setVisible(False)
        self._data_bar_item.setVisible(False)
        self._viewbox.autoRange(padding=0.02)

    def set_result(self, result: PipelineResult | None, layers: OverlayLayers | None = None) -> None:
        """Overlay a result; its ``layers`` (outlines, outline overlay) are rendered here if not given."""
        self._result = result
        if result is None:
            self._overlay_item.clear()
            self._selection_item.setVisible(False)
            self._data_bar_item.setVisible(False)
            self._rows_by_id = {}
            return
        if layers is None:
            layers = overlay_layers(result)
        self._outlines = layers.outlines
        self._prerendered = layers.outline_rgba
        ids = result.particles["id"].to_numpy()
        self._rows_by_id = {int(i): row for row, i in enumerate(ids)}
        bar = result.data_bar
        if bar is not None:
            width = result.labels.shape[1]
            self._data_bar_item.setRect(0, bar.first_row, width, bar.height)
            self._data_bar_item.setVisible(True)
        else:
            self._data_bar_item.setVisible(False)
        self._redraw_overlay()
        self._describe_hover()

    def set_selection(self, ids) -> None:
        selection = tuple(int(i) for i in ids)
        if selection == self._selection:
            return
        self._selection = selection
        self._draw_selection()

    @property
    def selection(self) -> tuple[int, ...]:
        return self._selection

    def centre_on(self, particle_id: int, *, margin: float = 4.0, least_px: float = 160.0) -> None:
        """Zoom to the particle with room around it (``margin`` times its size, at least ``least_px``), inside the image."""
        if self._result is None:
            return
        labels = self._result.labels
        rows, cols = np.nonzero(labels == particle_id)
        if rows.size == 0:
            return
        side = max(margin * max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1), least_px)
        centre = []
        for low, high, extent in ((cols.min(), cols.max() + 1, labels.shape[1]), (rows.min(), rows.max() + 1, labels.shape[0])):
            middle = (low + high) / 2
            half = min(side, extent) / 2
            centre.append(min(max(middle, half), extent - half))  # stay inside the image where it is larger
        self._viewbox.setRange(xRange=(centre[0] - side / 2, centre[0] + side / 2),
                               yRange=(centre[1] - side / 2, centre[1] + side / 2), padding=0)

    # --- overlay options ---------------------------------------------------------------------

    def set_overlay_visible(self, visible: bool) -> None:
        self._overlay_visible = bool(visible)
        self._overlay_item.setVisible(self._overlay_visible)
        self._selection_item.setVisible(self._overlay_visible and bool(self._selection))

    def set_overlay_mode(self, mode: str) -> None:
        """``"outline"``, ``"filled"`` or ``"shape"`` (particles coloured by shape class)."""
        if mode not in OVERLAY_MODES:
            raise ValueError(mode)
        self._overlay_mode = mode
        self._redraw_overlay()

    def set_overlay_opacity(self, opacity: float) -> None:
        self._opacity = float(np.clip(opacity, 0.0, 1.0))
        self._overlay_item.setOpacity(self._opacity)
        self._selection_item.setOpacity(self._opacity)

    def overlay_rgba(self) -> np.ndarray | None:
        """The RGBA overlay currently shown, selection included (for tests and export)."""
        base = getattr(self, "_overlay_rgba", None)
        layer = getattr(self, "_selection_layer", None)
        if base is None or layer is None:
            return base
        rgba, (r0, r1, c0, c1) = layer
        composed = base.copy()
        drawn = rgba[..., 3] > 0
        composed[r0:r1, c0:c1][drawn] = rgba[drawn]
        return composed

    def _redraw_overlay(self) -> None:
        result = self._result
        if result is None or self._outlines is None:
            return
        if self._overlay_mode == "outline" and self._prerendered is not None:
            rgba = self._prerendered  # rendered in the worker thread with the result
        else:
            rgba = render_overlay_rgba(result, self._outlines, mode=self._overlay_mode)
        self._overlay_rgba = rgba
        self._overlay_item.setImage(rgba, autoLevels=False)
        self._overlay_item.setOpacity(self._opacity)
        self._overlay_item.setVisible(self._overlay_visible)
        self._draw_selection()

    def _selection_window(self) -> tuple[int, int, int, int] | None:
        """A box holding every selected particle (centroid ± Feret diameter, from the table)."""
        table = self._result.particles
        rows = [self._rows_by_id[i] for i in self._selection if i in self._rows_by_id]
        if not rows:
            return None
        chosen = table.iloc[rows]
        reach = chosen["feret_max"].to_numpy() + 2
        x, y = chosen["centroid_x"].to_numpy(), chosen["centroid_y"].to_numpy()
        height, width = self._result.labels.shape
        r0, r1 = max(int(np.floor((y - reach).min())), 0), min(int(np.ceil((y + reach).max())) + 1, height)
        c0, c1 = max(int(np.floor((x - reach).min())), 0), min(int(np.ceil((x + reach).max())) + 1, width)
        return (r0, r1, c0, c1) if r0 < r1 and c0 < c1 else None

    def _draw_selection(self) -> None:
        result = self._result
        window = self._selection_window() if result is not None and self._selection else None
        if window is None or self._outlines is None:
            self._selection_layer = None
            self._selection_item.setVisible(False)
            return
        r0, r1, c0, c1 = window
        ids = np.array(self._selection, dtype=np.int64)
        rgba = np.zeros((r1 - r0, c1 - c0, 4), dtype=np.uint8)
        rgba[np.isin(result.labels[r0:r1, c0:c1], ids)] = (*SELECTED_RGBA[:3], SELECTED_FILL_ALPHA)
        rgba[np.isin(self._outlines[r0:r1, c0:c1], ids)] = SELECTED_RGBA
        self._selection_layer = (rgba, window)
        self._selection_item.setImage(rgba, autoLevels=False)
        self._selection_item.setRect(QRectF(c0, r0, c1 - c0, r1 - r0))
        self._selection_item.setOpacity(self._opacity)
        self._selection_item.setVisible(self._overlay_visible)

    # --- mouse -----------------------------------------------------------------------------------

    def label_at(self, x: float, y: float) -> int:
        """Particle id at image coordinates (column x, row y); 0 for background or outside."""
        if self._result is None:
            return 0
        labels = self._result.labels
        col, row = int(np.floor(x)), int(np.floor(y))
        if 0 <= row < labels.shape[0] and 0 <= col < labels.shape[1]:
            return int(labels[row, col])
        return 0

    def image_to_widget(self, x: float, y: float) -> QPoint:
        """Widget coordinates of an image point (for tests that click like a user)."""
        scene_point = self._viewbox.mapViewToScene(QPointF(x, y))
        return self._view.mapFromScene(scene_point)

    def describe_particle(self, particle_id: int) -> str:
        if self._result is None or particle_id not in self._rows_by_id:
            return ""
        row = self._result.particles.iloc[self._rows_by_id[particle_id]]
        unit = self._result.calibration.unit
        ecd = row["ecd_nm"] if "ecd_nm" in row else row["ecd"]
        return (
            f"particle {particle_id}: ECD {ecd:.4g} {unit}, circularity {row['circularity']:.3f}, "
            f"Feret ratio {row['feret_ratio']:.2f}, solidity {row['solidity']:.3f}"
            + (" (touches edge)" if bool(row["touches_edge"]) else "")
            + (f"; suspect: {row['suspect_reason']}" if bool(row.get("suspect", False)) else "")
        )

    def _on_scene_mouse_moved(self, scene_pos) -> None:
        if self._image is None:
            return
        point = self._viewbox.mapSceneToView(scene_pos)
        self._hover_at = (point.x(), point.y())
        self._describe_hover()

    def _describe_hover(self) -> None:
        """The read-out of the point under the pointer, from the result shown now (an edit changes it)."""
        if self._image is None or self._hover_at is None:
            return
        x, y = self._hover_at
        height, width = self._image.shape
        if not (0 <= x < width and 0 <= y < height):
            self.hoverChanged.emit("")
            return
        particle = self.label_at(x, y)
        value = self._image.grey[int(y), int(x)] * self._image.intensity_scale + self._image.intensity_offset
        text = f"x {int(x)}, y {int(y)}, value {value:.4g}"
        if particle:
            text += " | " + self.describe_particle(particle)
        self._view.setToolTip(self.describe_particle(particle) if particle else "")
        self.hoverChanged.emit(text)

    def _on_scene_mouse_clicked(self, event) -> None:
        if (event.button() != Qt.MouseButton.LeftButton or self._result is None or self._scale_line is not None
                or self.tools.tool != "select"):
            return
        point = self._viewbox.mapSceneToView(event.scenePos())
        additive = bool(event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier))
        self.particleClicked.emit(self.label_at(point.x(), point.y()), additive)

    # --- scale-bar tool --------------------------------------------------------------------------

    def start_scale_bar_tool(self, proposal: ScaleBar | None = None) -> None:
        """Show a line the user drags over the scale bar; starts on the detected bar if any."""
        self.cancel_scale_bar_tool()
        if self._image is None:
            return
        if proposal is not None:
            y = proposal.y + 0.5
            start, end = (proposal.x_start, y), (proposal.x_end, y)
        else:
            height, width = self._image.shape
            start, end = (width * 0.1, height * 0.9), (width * 0.4, height * 0.9)
        self._scale_line = pg.LineSegmentROI([start, end], pen=pg.mkPen((0, 255, 120), width=2))
        self._scale_line.setZValue(30)
        self._viewbox.addItem(self._scale_line)

    def scale_bar_length_px(self) -> float | None:
        """Length of the drawn scale-bar line in image pixels, or None when the tool is off."""
        if self._scale_line is None:
            return None
        handles = self._scale_line.getSceneHandlePositions()
        points = [self._viewbox.mapSceneToView(pos) for _, pos in handles]
        return float(np.hypot(points[1].x() - points[0].x(), points[1].y() - points[0].y()))

    def set_scale_bar_line(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Place the scale-bar line's ends at image coordinates (as a drag of its handles would)."""
        if self._scale_line is None:
            self.start_scale_bar_tool()
        handles = self._scale_line.getHandles()
        self._scale_line.movePoint(handles[0], QPointF(*start), coords="parent")
        self._scale_line.movePoint(handles[1], QPointF(*end), coords="parent")

    def cancel_scale_bar_tool(self) -> None:
        if self._scale_line is not None:
            self._viewbox.removeItem(self._scale_line)
            self._scale_line = None

    @property
    def scale_bar_tool_active(self) -> bool:
        return self._scale_line is not None
