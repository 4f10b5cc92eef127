"""The window's Calibrate menu: scale-bar tool, typed pixel size, reference standards and profiles."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog

from particle_gui.core.errors import CalibrationError, ParticleGuiError
from particle_gui.core.io.profiles import load_profiles, save_profiles
from particle_gui.core.units import parse_length_nm
from particle_gui.gui.widgets.scale_bar_dialog import ask_scale_bar_length
from particle_gui.gui.widgets.standard_dialog import ProfilesDialog, StandardDialog


class CalibrationMenu:
    """Builds the Calibrate menu on ``window`` and handles its actions.

    The window keeps the actions as attributes: ``scale_bar_action``, ``apply_scale_bar_action``,
    ``pixel_size_action``, ``standard_action``, ``profiles_action``.
    """

    def __init__(self, window, menu) -> None:
        self.window = window
        self.controller = window.controller
        w = window
        w.scale_bar_action = w._action("&Scale-bar tool", self.start_scale_bar_tool, "Ctrl+K",
                                       "Draw a line over the scale bar, then type its length")
        w.apply_scale_bar_action = w._action("&Apply scale-bar line…", self.apply_scale_bar_line, "Return")
        w.apply_scale_bar_action.setEnabled(False)
        w.pixel_size_action = w._action("Set &pixel size…", self.ask_pixel_size,
                                        tip="Type the pixel size; it overrides the file's metadata (recorded)")
        w.standard_action = w._action("Calibrate from &reference standard…", self.measure_standard,
                                      tip="Measure spheres of certified size or a grating in the open image and "
                                      "save the instrument's correction as a profile")
        w.profiles_action = w._action("Calibration pro&files…", self.manage_profiles)
        for action in (w.scale_bar_action, w.apply_scale_bar_action, w.pixel_size_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(w.standard_action)
        menu.addAction(w.profiles_action)

    def _detected(self):
        document = self.controller.current
        return document.pipeline.region(document.params).scale_bar if document is not None else None

    def start_scale_bar_tool(self) -> None:
        if self.controller.current is None:
            return
        self.window.canvas.start_scale_bar_tool(self._detected())
        self.window.apply_scale_bar_action.setEnabled(True)
        self.window.statusBar().showMessage("Drag the line's ends onto the scale bar, then press Enter.", 8000)

    def apply_scale_bar_line(self) -> None:
        length_px = self.window.canvas.scale_bar_length_px()
        if length_px is None or length_px <= 0:
            return
        detected = self._detected()
        suggestion = detected.label if detected is not None and detected.label else ""
        length_nm = ask_scale_bar_length(self.window, length_px, suggestion)
        if length_nm is not None:
            self.apply_scale_bar(length_px, length_nm)

    def apply_scale_bar(self, length_px: float, length_nm: float) -> None:
        self.controller.set_scale_bar(length_px, length_nm)
        self.window.canvas.cancel_scale_bar_tool()
        self.window.apply_scale_bar_action.setEnabled(False)

    def ask_pixel_size(self) -> None:
        text, ok = QInputDialog.getText(self.window, "Pixel size", "Size of one pixel (e.g. 2.5 nm):")
        if not ok or not text.strip():
            return
        try:
            self.controller.set_manual_pixel_size(parse_length_nm(text))
        except CalibrationError as exc:
            self.window.message_bar.show_error(str(exc))

    def measure_standard(self) -> None:
        document = self.controller.current
        if document is None:
            return
        if document.image.instrument is None:
            self.window.message_bar.show_error(
                "This image names no instrument in its metadata, so a profile could not tell which later images it "
                "applies to. Open the original instrument file (Zeiss, FEI/Thermo TIFF).")
            return
        dialog = StandardDialog(document.image.instrument.key, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        name, spheres_nm, grating_nm = dialog.choice()
        profile = self.controller.calibrate_from_standard(name, spheres_nm=spheres_nm, grating_nm=grating_nm)
        if profile is not None:
            factor = f"correction factor {profile.factor:.4f}" if profile.factor is not None else "saved"
            self.window.statusBar().showMessage(f"Profile {profile.name!r}: {profile.pixel_size_nm:.5g} nm/px, {factor}.",
                                                10000)

    def manage_profiles(self) -> None:
        dialog = ProfilesDialog(self.controller.profiles, self.window)
        dialog.import_button.clicked.connect(lambda: self._import_into(dialog))
        dialog.export_button.clicked.connect(lambda: self._export_from(dialog))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.controller.set_profiles(dialog.profiles)

    def _import_into(self, dialog: ProfilesDialog) -> None:
        path, _ = QFileDialog.getOpenFileName(dialog, "Import calibration profiles", "", "JSON (*.json)")
        if path:
            try:
                dialog.merge(load_profiles(path))
            except ParticleGuiError as exc:
                self.window.message_bar.show_error(str(exc))

    def _export_from(self, dialog: ProfilesDialog) -> None:
        path, _ = QFileDialog.getSaveFileName(dialog, "Export calibration profiles", "calibration_profiles.json",
                                              "JSON (*.json)")
        if path:
            try:
                save_profiles(path, dialog.profiles)
            except (ParticleGuiError, OSError) as exc:
                self.window.message_bar.show_error(str(exc))
