"""An inline bar above the image for the last error or the current warnings; hidden when empty.

An error (red) takes precedence over warnings (amber): warnings that arrive while an error is
shown wait until the error is closed. Closing the error reveals them; closing warnings hides
the bar until new ones arrive.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: Background, border and text colours; the text colour is set too so that the bar stays
#: readable under a dark palette.
_COLOURS = {
    "error": ("#fde7e9", "#e8a3aa", "#5c1017"),
    "warning": ("#fff4d6", "#e9c46a", "#4d3800"),
}


def details_text(message: str, details: str) -> str:
    r"""What "Copy details" puts on the clipboard: the message, a blank line, the details.

    >>> details_text("Export failed.", "Traceback ...")
    'Export failed.\n\nTraceback ...'
    """
    return f"{message}\n\n{details}" if details else message


def make_details_dialog(message: str, details: str, parent: QWidget | None = None) -> QDialog:
    """A dialog with ``message``, the ``details`` in a read-only text box, "Copy details" and "Close".

    Built from stock widgets (no class of its own); the text box is named ``"detailsText"``
    and the copy button ``"copyDetailsButton"``.
    """
    dialog = QDialog(parent)
    dialog.setWindowTitle("Error details")
    dialog.resize(640, 400)
    label = QLabel(message, dialog)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    text = QPlainTextEdit(details, dialog)
    text.setObjectName("detailsText")
    text.setReadOnly(True)
    text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    copy = buttons.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
    copy.setObjectName("copyDetailsButton")
    copy.clicked.connect(lambda: QApplication.clipboard().setText(details_text(message, details)))
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(label)
    layout.addWidget(text, 1)
    layout.addWidget(buttons)
    return dialog


class MessageBar(QFrame):
    """Shows one error (with optional details) or a list of warnings, inline and dismissible.

    Signals
    -------
    closed()
        The user dismissed the bar's message with its × button.
    """

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self._error = ""
        self._details = ""
        self._warnings: list[str] = []
        self._dialog: QDialog | None = None

        self._icon = QLabel(self)
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._text = QLabel(self)
        self._text.setObjectName("messageText")
        self._text.setWordWrap(True)
        self._text.setTextFormat(Qt.TextFormat.PlainText)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._details_button = QPushButton("Details…", self)
        self._details_button.setObjectName("detailsButton")
        self._details_button.clicked.connect(self._on_details_clicked)
        self._close_button = QToolButton(self)
        self._close_button.setObjectName("closeButton")
        self._close_button.setText("×")
        self._close_button.setToolTip("Dismiss")
        self._close_button.setAutoRaise(True)
        self._close_button.clicked.connect(self._on_close_clicked)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._details_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._refresh()

    # -- public API ---------------------------------------------------------------------------

    def show_error(self, message: str, details: str = "") -> None:
        """Show ``message`` as an error; ``details`` (e.g. a traceback) go behind "Details…"."""
        self._error, self._details = str(message), str(details)
        self._refresh()

    def show_warnings(self, warnings: Iterable[str]) -> None:
        """Show ``warnings`` (an empty list hides them); an error on show stays in front."""
        self._warnings = [str(warning) for warning in warnings]
        self._refresh()

    def clear(self) -> None:
        """Forget the error and the warnings and hide the bar."""
        self._error, self._details, self._warnings = "", "", []
        self._refresh()

    def message_text(self) -> str:
        """The text shown, or "" when the bar is hidden."""
        return self._text.text() if (self._error or self._warnings) else ""

    def is_error(self) -> bool:
        """Whether the bar shows an error (rather than warnings or nothing)."""
        return bool(self._error)

    def show_details(self) -> QDialog | None:
        """Open the details of the current error (non-blocking) and return the dialog."""
        if not (self._error and self._details):
            return None
        if self._dialog is not None:  # one details dialog at a time, for the current error
            self._dialog.close()
            self._dialog.deleteLater()
        self._dialog = make_details_dialog(self._error, self._details, self)
        self._dialog.open()
        return self._dialog

    # -- internals ----------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self._error:
            level, text = "error", self._error
        elif self._warnings:
            level = "warning"
            text = self._warnings[0] if len(self._warnings) == 1 else "\n".join(f"• {w}" for w in self._warnings)
        else:
            self._text.clear()
            self.hide()
            return
        self._text.setText(text)
        self._details_button.setVisible(level == "error" and bool(self._details))
        pixmap = QStyle.StandardPixmap.SP_MessageBoxCritical if level == "error" else QStyle.StandardPixmap.SP_MessageBoxWarning
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(pixmap).pixmap(size, size))
        background, border, foreground = _COLOURS[level]
        self.setStyleSheet(
            f"QFrame#messageBar {{ background-color: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f" QFrame#messageBar > QLabel {{ color: {foreground}; }}"
        )
        self.setProperty("level", level)
        self.show()

    def _on_details_clicked(self) -> None:
        self.show_details()

    def _on_close_clicked(self) -> None:
        if self._error:
            self._error, self._details = "", ""
        else:
            self._warnings = []
        self._refresh()
        self.closed.emit()
