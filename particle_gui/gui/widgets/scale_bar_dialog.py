"""Asks what length a scale bar (detected, or drawn by the user) stands for."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from particle_gui.core.errors import CalibrationError
from particle_gui.core.units import parse_length_nm


def format_pixel_size(pixel_size_nm: float) -> str:
    """A pixel size to four significant digits, in nm (µm from 1000 nm up).

    >>> format_pixel_size(1.0), format_pixel_size(0.4882), format_pixel_size(2500.0)
    ('1.000 nm', '0.4882 nm', '2.500 µm')
    """
    value, unit = (pixel_size_nm / 1e3, "µm") if pixel_size_nm >= 1e3 else (pixel_size_nm, "nm")
    return f"{value:#.4g}".rstrip(".") + f" {unit}"


class ScaleBarDialog(QDialog):
    """The physical length of a line of known pixel length, typed with its unit.

    OK stays disabled while the text is not a positive length with a unit ("200 nm",
    "0.5 µm", "2um"); the reason shows under the field, and the resulting pixel size is shown
    live.

    Parameters
    ----------
    length_px : float
        The line's length in pixels (positive).
    suggestion : str
        Text to start with, e.g. the label read next to a detected bar.
    parent : QWidget, optional
    """

    def __init__(self, length_px: float, suggestion: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not (math.isfinite(length_px) and length_px > 0):
            raise ValueError(f"length_px must be a positive number of pixels, not {length_px!r}")
        self._length_px = float(length_px)
        self._length_nm: float | None = None
        self.setWindowTitle("Scale bar length")
        self.setMinimumWidth(420)

        intro = QLabel(f"The line is {self._length_px:.1f} px long. What length does it represent?", self)
        intro.setObjectName("lengthPxLabel")
        intro.setWordWrap(True)
        self._edit = QLineEdit(suggestion, self)
        self._edit.setObjectName("lengthEdit")
        self._edit.setPlaceholderText("e.g. 200 nm or 0.5 µm")
        self._edit.setClearButtonEnabled(True)
        self._edit.textChanged.connect(self._on_edit_text_changed)
        self._result = QLabel(self)
        self._result.setObjectName("pixelSizeLabel")
        self._problem = QLabel(self)
        self._problem.setObjectName("problemLabel")
        self._problem.setWordWrap(True)
        self._problem.setStyleSheet("color: #b3261e;")
        self._problem.setMinimumHeight(2 * self.fontMetrics().lineSpacing())  # no jump when it appears
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Length:", self._edit)
        form.addRow("", self._result)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self._problem)
        layout.addWidget(self._buttons)
        self._on_edit_text_changed(self._edit.text())
        self._edit.setFocus()
        self._edit.selectAll()

    def length_nm(self) -> float | None:
        """The length typed, in nanometres; None while the text is not a valid length."""
        return self._length_nm

    def pixel_size_nm(self) -> float | None:
        """The resulting pixel size in nanometres, or None while the text is invalid."""
        return None if self._length_nm is None else self._length_nm / self._length_px

    def accept(self) -> None:
        if self._length_nm is not None:  # Enter with invalid text does nothing
            super().accept()

    def _on_edit_text_changed(self, text: str) -> None:
        try:
            self._length_nm = parse_length_nm(text)
            problem = ""
        except CalibrationError as error:
            self._length_nm = None
            problem = "" if not text.strip() else str(error)
        valid = self._length_nm is not None
        self._buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(valid)
        self._problem.setText(problem)
        pixel_size = self.pixel_size_nm()
        self._result.setText(f"= {format_pixel_size(pixel_size)} per pixel" if pixel_size is not None else "")


def ask_scale_bar_length(parent: QWidget | None, length_px: float, suggestion: str = "") -> float | None:
    """Ask for the length of a scale bar ``length_px`` pixels long; None if cancelled.

    Returns
    -------
    float or None
        The length in nanometres.
    """
    dialog = ScaleBarDialog(length_px, suggestion, parent)
    try:
        return dialog.length_nm() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
