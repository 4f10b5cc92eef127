"""The window's Adapt menu: learn from the corrected images, apply a profile, walk the suspect particles.

"Adapt to my corrections" takes every open image the user has corrected (and the ``.pgsession``
files saved beside the folder's images), searches the settings that reproduce them in a worker
thread (progress, cancel; the window stays usable), and shows the gain; the user then applies the
profile to the folder and may save it for ``analyze --profile``. "Next suspect particle" selects
and centres the next particle the engine flags as likely wrong.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressDialog
from superqt.utils import create_worker

from particle_gui.core.adapt.corrected import CorrectedImage, CorrectionsError, from_session
from particle_gui.core.adapt.profile import AdaptedProfile, ProfileError, load_profile
from particle_gui.core.editing.session import SESSION_SUFFIX, SessionError
from particle_gui.core.errors import CancelledError
from particle_gui.core.output.render import suspect_ids
from particle_gui.desktop.adapt_process import adapt_in_process
from particle_gui.desktop.logs import describe_exception


class AdaptMenu(QObject):
    """The Adapt menu's actions and the one adaptation that may run at a time.

    Signals
    -------
    progressed(int, int, str)   steps done, steps in all, what is being done (from the worker)
    adapted(object)             the :class:`AdaptedProfile` learnt
    """

    progressed = Signal(int, int, str)
    adapted = Signal(object)

    def __init__(self, window, menu: QMenu) -> None:
        super().__init__(window)
        self.window, self.controller = window, window.controller
        self._worker = None
        self._cancelled = False
        self._dialog: QProgressDialog | None = None
        #: The last profile learnt or loaded (what "Save adapted profile" writes).
        self.profile: AdaptedProfile | None = None
        self.adapt_action = self._add(menu, "&Adapt to my corrections…", self.start_adaptation, "Ctrl+Shift+A",
                                      "Learn the settings that reproduce your corrected images, for the rest of the folder")
        self.load_action = self._add(menu, "A&pply adapted profile…", self._on_load)
        self.save_action = self._add(menu, "&Save adapted profile…", self._on_save)
        self.save_action.setEnabled(False)
        menu.addSeparator()
        self.next_suspect_action = self._add(menu, "&Next suspect particle", self.next_suspect, "J",
                                             "Select and centre the next particle flagged as likely wrong")
        self.progressed.connect(self._on_progress)

    def _add(self, menu: QMenu, text: str, slot, shortcut: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # --- corrected images ------------------------------------------------------------------------

    def corrected_images(self) -> tuple[list[CorrectedImage], list[str]]:
        """The open images with hand corrections, then the sessions saved beside the folder's images."""
        found: list[CorrectedImage] = []
        problems: list[str] = []
        seen = set()
        for path, document in self.controller.documents.items():
            corrections = document.corrections
            if corrections is not None and corrections.has_edits:
                found.append(CorrectedImage(document.image, corrections.labels.copy(), path))
                seen.add(Path(path).resolve())
        for image_path in self.controller.folder_images:
            session = image_path.with_suffix(SESSION_SUFFIX)
            if image_path.resolve() in seen or not session.is_file():
                continue
            try:
                found.append(from_session(session))
            except (SessionError, CorrectionsError) as exc:
                problems.append(str(exc))
        return found, problems

    # --- adapting --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start_adaptation(self) -> bool:
        """Adapt the current method to the corrected images, in a worker; False when nothing to learn from."""
        if self._worker is not None:
            return False
        corrected, problems = self.corrected_images()
        if not corrected:
            self.controller.report_error(
                "Nothing to adapt to yet: correct at least one image first (delete, split, merge or draw its "
                "particles until they are right), or save the corrections of earlier images as sessions.",
                "\n".join(problems))
            return False
        start = self.controller.params
        self._cancelled = False
        self._dialog = QProgressDialog(f"Adapting to {len(corrected)} corrected image(s)…", "Cancel", 0, 100, self.window)
        self._dialog.setWindowTitle("Adapt to my corrections")
        self._dialog.setWindowModality(Qt.WindowModality.NonModal)
        self._dialog.canceled.connect(self.cancel)
        self._dialog.show()
        # In its own process: the search's SciPy calls hold Python's lock and would stall the window.
        worker = create_worker(adapt_in_process, corrected, start, progress=self.progressed.emit,
                               should_cancel=lambda: self._cancelled, _ignore_errors=True)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        worker.start()
        return True

    def cancel(self) -> None:
        self._cancelled = True

    def _on_progress(self, step: int, steps: int, message: str) -> None:
        if self._dialog is not None:
            self._dialog.setMaximum(max(steps, 1))
            self._dialog.setValue(step)
            self._dialog.setLabelText(message)

    def _on_returned(self, profile: AdaptedProfile) -> None:
        self.profile = profile
        self.save_action.setEnabled(True)
        self.adapted.emit(profile)
        if self.window.isVisible():
            self._offer(profile)

    def _offer(self, profile: AdaptedProfile) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Adapted profile", "\n".join(profile.summary_lines()),
                          parent=self.window)
        apply = box.addButton("Apply to the folder", QMessageBox.ButtonRole.AcceptRole)
        save = box.addButton("Save profile…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is apply:
            self.apply(profile)
        elif box.clickedButton() is save:
            self._on_save()

    def apply(self, profile: AdaptedProfile) -> None:
        """Use the profile's settings from now on (the current image is analysed again)."""
        self.controller.set_params(profile.params)
        self.controller.notify(f"Adapted profile applied ({len(profile.changed)} setting(s) changed).")

    def _on_errored(self, exc: BaseException) -> None:
        if isinstance(exc, CancelledError):
            self.controller.notify("The adaptation was cancelled; nothing changed.")
            return
        self.controller.report_error(*describe_exception(exc, context="The adaptation failed"))

    def _on_finished(self) -> None:
        self._worker = None
        if self._dialog is not None:
            self._dialog.hide()
            self._dialog.deleteLater()
            self._dialog = None

    # --- profiles --------------------------------------------------------------------------------

    def _on_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Apply adapted profile", "", "Adapted profile (*.json)")
        if path:
            self.load(path)

    def load(self, path: str | Path) -> bool:
        try:
            profile = load_profile(path)
        except ProfileError as exc:
            self.controller.report_error(str(exc))
            return False
        self.profile = profile
        self.save_action.setEnabled(True)
        self.apply(profile)
        return True

    def _on_save(self) -> None:
        if self.profile is None:
            return
        start = str(Path(self.window.output_menu.start_folder()) / "profile.json")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save adapted profile", start, "Adapted profile (*.json)")
        if path:
            try:
                self.profile.write(path)
            except OSError as exc:
                self.controller.report_error(f"The profile could not be saved to {path}: {exc.strerror or exc}")

    # --- suspects --------------------------------------------------------------------------------

    def next_suspect(self) -> int | None:
        """Select and centre the suspect particle after the selected one (wrapping); its id, or None."""
        document = self.controller.current
        result = document.result if document is not None else None
        if result is None:
            return None
        ids = suspect_ids(result)
        if ids.size == 0:
            self.controller.notify("No suspect particles in this image.")
            return None
        current = max(self.controller.selection, default=0)
        later = ids[ids > current]
        chosen = int(later[0] if later.size else ids[0])
        self.controller.select({chosen})
        self.window.canvas.centre_on(chosen)
        return chosen
