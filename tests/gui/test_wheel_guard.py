"""The wheel over the Parameters panel scrolls the panel; a control changes only once it has focus."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractSlider, QApplication

from particle_gui.gui.widgets.params_panel import ParamsPanel


def _wheel(widget, steps: int = -1) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_scrolls_the_panel_not_the_control_under_the_pointer(qtbot):
    panel = ParamsPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 300)  # smaller than its content: the panel scrolls
    panel.show()
    qtbot.waitExposed(panel)
    combo = panel.control("threshold", "method")
    slider = panel.control("clean", "min_area_px")
    chosen = []
    panel.valueEdited.connect(lambda *args: chosen.append(args))
    bar = panel.scroll_area.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    _wheel(combo)
    _wheel(slider.findChildren(QAbstractSlider)[0])
    assert combo.currentText() == "otsu" and slider.value() == 30 and not chosen
    assert bar.value() > 0  # the panel scrolled instead
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    _wheel(combo)
    assert combo.currentText() != "otsu"  # a focused control takes the wheel, as the user meant
