"""Dialogs for reference-standard calibration: measure a standard, and manage the saved profiles."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton,
    QVBoxLayout, QWidget,
)

from particle_gui.core.errors import CalibrationError
from particle_gui.core.io.profiles import CalibrationProfile
from particle_gui.core.units import parse_length_nm

KINDS = ("Spheres of certified diameter", "Grating of known pitch")


class StandardDialog(QDialog):
    """What the current image shows (spheres or a grating), its certified size, and a profile name.

    OK stays disabled until the size reads as a length and the name is not empty. ``choice()``
    gives ``(name, spheres_nm, grating_nm)`` with one of the two lengths set.
    """

    def __init__(self, instrument: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate from a reference standard")
        self.setMinimumWidth(460)
        intro = QLabel(
            f"The open image shows a standard taken on <b>{instrument}</b>. Its measured pixel size, compared with "
            "the one the instrument wrote, gives a correction factor that is saved as a profile and applied to later "
            "images from this instrument at this magnification.", self)
        intro.setWordWrap(True)
        self.kind = QComboBox(self)
        self.kind.addItems(list(KINDS))
        self.length = QLineEdit(self)
        self.length.setPlaceholderText("e.g. 100 nm or 463 nm")
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. Merlin 20 kx, PSL 100 nm")
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Standard", self.kind)
        form.addRow("Certified size", self.length)
        form.addRow("Profile name", self.name)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro,):
            layout.addWidget(widget)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for edit in (self.length, self.name):
            edit.textChanged.connect(self._on_text_changed)
        self._on_text_changed()

    def _length_nm(self) -> float | None:
        try:
            return parse_length_nm(self.length.text())
        except CalibrationError as exc:
            self.problem.setText(str(exc) if self.length.text().strip() else "")
            return None

    def _on_text_changed(self, _text: str = "") -> None:
        length = self._length_nm()
        ok = length is not None and bool(self.name.text().strip())
        if length is not None:
            self.problem.setText("" if self.name.text().strip() else "Give the profile a name.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def choice(self) -> tuple[str, float | None, float | None]:
        length = self._length_nm()
        spheres = self.kind.currentIndex() == 0
        return self.name.text().strip(), length if spheres else None, None if spheres else length


def describe(profile: CalibrationProfile) -> str:
    """One line for a calibration profile: name, instrument, magnification or field width, factor, standard, date."""
    factor = f"factor {profile.factor:.4f}" if profile.factor is not None else f"{profile.pixel_size_nm:.5g} nm/px"
    where = f"x{profile.magnification:g}" if profile.magnification else (
        f"field {profile.field_width_nm / 1000:.4g} um" if profile.field_width_nm else "")
    return f"{profile.name}: {profile.instrument} {where}, {factor} ({profile.standard}, {profile.created[:10]})"


class ProfilesDialog(QDialog):
    """The saved profiles: delete, import from and export to JSON files. ``profiles`` is the edited list."""

    def __init__(self, profiles: list[CalibrationProfile], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibration profiles")
        self.setMinimumWidth(560)
        self.profiles = list(profiles)
        self.list = QListWidget(self)
        self.delete_button = QPushButton("Delete", self)
        self.import_button = QPushButton("Import…", self)
        self.export_button = QPushButton("Export…", self)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        row = QHBoxLayout()
        for button in (self.delete_button, self.import_button, self.export_button):
            row.addWidget(button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self._refresh()

    def _refresh(self) -> None:
        self.list.clear()
        self.list.addItems([describe(p) for p in self.profiles])
        self.delete_button.setEnabled(bool(self.profiles))
        self.export_button.setEnabled(bool(self.profiles))

    def _on_delete_clicked(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.profiles):
            del self.profiles[row]
            self._refresh()

    def merge(self, imported: list[CalibrationProfile]) -> None:
        """Add ``imported`` profiles (a profile of the same name is replaced)."""
        names = {p.name for p in imported}
        self.profiles = [p for p in self.profiles if p.name not in names] + list(imported)
        self._refresh()
