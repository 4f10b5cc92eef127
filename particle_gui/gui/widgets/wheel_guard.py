"""Mouse-wheel scrolling over a panel of controls scrolls the panel, never the control under the pointer.

A combo box, slider or spin box takes wheel events only once the user has given it focus (clicked
it or tabbed to it); otherwise the wheel scrolls the surrounding scroll area, as in a form in a
browser. Without this, scrolling the Parameters panel changed whatever passed under the pointer
(the threshold method from otsu to local, the count from 45 to 862).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollArea, QWidget

GUARDED = (QComboBox, QAbstractSlider, QAbstractSpinBox)


class WheelGuard(QObject):
    """Event filter that sends wheel events of unfocused controls to the scroll area's scroll bar."""

    def __init__(self, scroll: QScrollArea) -> None:
        super().__init__(scroll)
        self._scroll = scroll

    def guard(self, root: QWidget) -> None:
        """Guard every combo box, slider and spin box inside ``root`` (and ``root`` itself)."""
        widgets = [root, *root.findChildren(QWidget)]
        for widget in widgets:
            if isinstance(widget, GUARDED):
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            QCoreApplication.sendEvent(self._scroll.verticalScrollBar(), event)
            return True
        return False
