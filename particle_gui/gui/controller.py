"""Wires the open images, the parameters and the pipeline runner; the widgets only listen.

The controller holds no widgets, so it is tested without a window.
"""

from __future__ import annotations

import dataclasses
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from particle_gui.core.output import export
from particle_gui.core.document import ImageDocument, RunOutcome
from particle_gui.core.output.document_files import write_document_files
from particle_gui.core.errors import ParticleGuiError
from particle_gui.core.output.inputs import images_in_folder
from particle_gui.core.io.loading import load_image
from particle_gui.core.io.metadata import PLAUSIBLE_PIXEL_NM, plausible_pixel_nm
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import PipelineResult, merge_shapes
from particle_gui.core.io.profiles import (
    CalibrationProfile, load_profiles, matching_profile, profile_from_standard, save_profiles,
)
from particle_gui.gui.runner import PipelineRunner, RunOutput
from particle_gui.paths import profiles_path


class AppController(QObject):
    """State of the application: the folder, the current image, its parameters and what is selected.

    The controller is the only owner of the parameters in force (the current document's, or
    :attr:`default_params` before an image is open) and the only emitter of these signals;
    widgets show what the signals carry and send the user's changes to its methods.

    Signals
    -------
    documentOpened(object)       a new current :class:`ImageDocument`
    paramsChanged(object)        the parameters in force changed (panel, preset, histogram, image switch)
    resultChanged(object)        the newest :class:`PipelineResult` of the current image
    calibrationChanged(object, object)  the Calibration in force and its warnings
    selectionChanged(object)     tuple of selected particle ids
    folderChanged(object)        list of image paths of the open folder
    busyChanged(bool)
    errorOccurred(str, str)      message and details
    noticeRaised(str)            something the user should know that is not an error
    correctionsReplaced(object)  a document's corrections were recomputed around new parameters
    """

    documentOpened = Signal(object)
    paramsChanged = Signal(object)
    resultChanged = Signal(object)
    calibrationChanged = Signal(object, object)
    selectionChanged = Signal(object)
    folderChanged = Signal(object)
    busyChanged = Signal(bool)
    errorOccurred = Signal(str, str)
    noticeRaised = Signal(str)
    correctionsReplaced = Signal(object)

    def __init__(self, parent: QObject | None = None, *, params: PipelineParams | None = None) -> None:
        super().__init__(parent)
        self.default_params = params or PipelineParams()
        self.documents: dict[Path, ImageDocument] = {}
        self.current: ImageDocument | None = None
        self.folder_images: list[Path] = []
        self.selection: tuple[int, ...] = ()
        self._requested_for: ImageDocument | None = None  # the document whose run the runner works on
        self._awaiting_shapes: PipelineResult | None = None  # the shown result whose classes are on their way
        self.runner = PipelineRunner(self)
        self.runner.resultReady.connect(self._on_runner_result)
        self.runner.shapesReady.connect(self._on_runner_shapes)
        self.runner.runFailed.connect(self.errorOccurred)
        self.runner.busyChanged.connect(self.busyChanged)
        #: Reference-standard calibration profiles, shared with the command line (``paths.profiles_path``).
        self.profiles: list[CalibrationProfile] = []
        try:
            self.profiles = load_profiles(profiles_path())
        except ParticleGuiError as exc:
            self.profiles_error = str(exc)
        else:
            self.profiles_error = ""

    # --- images -----------------------------------------------------------------------------

    def open_image(self, path: str | Path) -> bool:
        """Open (or switch to) an image; returns False and reports an error if it cannot be read."""
        path = Path(path)
        document = self.documents.get(path.resolve())
        if document is None:
            try:
                image = load_image(path)
            except ParticleGuiError as exc:
                self.errorOccurred.emit(str(exc), "".join(traceback.format_exception(exc)))
                return False
            except MemoryError as exc:
                self.errorOccurred.emit(f"{path}: not enough memory to open this image.", repr(exc))
                return False
            document = ImageDocument(image=image, params=self.params)
            document.profile = matching_profile(self.profiles, image.instrument)
            self.documents[path.resolve()] = document
        self._make_current(document)
        self.documentOpened.emit(document)
        self.paramsChanged.emit(document.params)
        self._emit_calibration()
        if document.result is not None:
            self.resultChanged.emit(document.result)
        self._request_run()
        return True

    def adopt_document(self, document: ImageDocument) -> None:
        """Make a document built elsewhere (a reopened session) the current one and analyse it."""
        self.documents[document.path.resolve()] = document
        self._make_current(document)
        self.documentOpened.emit(document)
        self.paramsChanged.emit(document.params)
        self._emit_calibration()
        self._request_run()

    def _make_current(self, document: ImageDocument) -> None:
        if self.current is not None and self.current is not document:
            self.current.release_snapshot()  # an edited image left behind keeps no copy of its labels
        self.current = document
        self.selection = ()

    def open_folder(self, folder: str | Path) -> bool:
        images = images_in_folder(folder)
        self.folder_images = images
        self.folderChanged.emit(images)
        if not images:
            self.errorOccurred.emit(f"{folder}: no images (TIFF, PNG, JPEG, BMP) in this folder.", "")
            return False
        return self.open_image(images[0])

    def step_image(self, offset: int) -> bool:
        """Open the next (+1) or previous (-1) image of the open folder."""
        if not self.folder_images or self.current is None:
            return False
        paths = [p.resolve() for p in self.folder_images]
        here = self.current.path.resolve()
        index = paths.index(here) if here in paths else -1
        target = min(max(index + offset, 0), len(paths) - 1)
        if target == index:
            return False
        return self.open_image(self.folder_images[target])

    # --- parameters and calibration -----------------------------------------------------------

    @property
    def params(self) -> PipelineParams:
        """The parameters in force: the current image's, or the defaults before one is open."""
        return self.current.params if self.current is not None else self.default_params

    def set_params(self, params: PipelineParams) -> None:
        """Put ``params`` in force (and analyse the current image with them)."""
        if params == self.params:
            return
        if self.current is None:
            self.default_params = params
        else:
            self.current.params = params
        self.paramsChanged.emit(params)
        self._request_run()

    def set_value(self, group: str, name: str, value) -> bool:
        """Change one parameter.

        A value the parameter does not accept is reported and the parameters stay as they were (the panel
        is told to show them again).
        """
        try:
            params = self.params.with_value(group, name, value)
        except ParticleGuiError as exc:
            self.errorOccurred.emit(f"{exc} The parameters are unchanged.", "")
            self.paramsChanged.emit(self.params)
            return False
        self.set_params(params)
        return True

    def set_method(self, method: str) -> bool:
        """Choose the segmentation method (``classical`` or ``dl``)."""
        try:
            params = dataclasses.replace(self.params, method=method)
        except ParticleGuiError as exc:
            self.errorOccurred.emit(str(exc), "")
            self.paramsChanged.emit(self.params)
            return False
        self.set_params(params)
        return True

    def set_manual_threshold(self, value: float) -> None:
        """A threshold dragged on the intensity histogram: manual thresholding at ``value`` (0..1)."""
        threshold = dataclasses.replace(self.params.threshold, method="manual",
                                        manual_value=float(min(max(value, 0.0), 1.0)))
        self.set_params(dataclasses.replace(self.params, threshold=threshold))

    def load_preset(self, path: str | Path) -> bool:
        try:
            params = PipelineParams.load(path)
        except ParticleGuiError as exc:
            self.errorOccurred.emit(str(exc), "")
            return False
        self.set_params(params)
        return True

    def save_preset(self, path: str | Path) -> bool:
        params = self.params
        return self._guarded(lambda: export.atomic_write_text(path, params.to_json()))

    def set_scale_bar(self, length_px: float, length_nm: float) -> None:
        """Calibrate the current image from a scale bar of ``length_px`` pixels and ``length_nm``."""
        if self.current is None:
            return
        self.current.scale_bar_length_px = float(length_px)
        self.current.scale_bar_length_nm = float(length_nm)
        self._emit_calibration()
        self._request_run()

    def set_manual_pixel_size(self, pixel_size_nm: float | None) -> None:
        if self.current is None:
            return
        if pixel_size_nm is not None and not plausible_pixel_nm(pixel_size_nm):
            low, high = PLAUSIBLE_PIXEL_NM
            self.errorOccurred.emit(f"A pixel size of {pixel_size_nm:.4g} nm is not plausible for a microscope "
                                    f"(expected {low:g} to {high:g} nm); the calibration is unchanged.", "")
            return
        self.current.manual_pixel_size_nm = pixel_size_nm
        self._emit_calibration()
        self._request_run()

    # --- selection ------------------------------------------------------------------------------

    def calibrate_from_standard(self, name: str, *, spheres_nm: float | None = None,
                                grating_nm: float | None = None) -> CalibrationProfile | None:
        """Measure the current image as a reference standard, save the profile and apply it."""
        document = self.current
        if document is None:
            return None
        notes: list[str] = []
        try:
            profile = profile_from_standard(name, document.image, spheres_nm=spheres_nm, grating_nm=grating_nm,
                                            params=document.params, result=document.result, notes=notes)
        except ParticleGuiError as exc:
            self.errorOccurred.emit(str(exc), "")
            return None
        if not self.set_profiles([p for p in self.profiles if p.name != profile.name] + [profile]):
            return None
        for note in notes:
            self.noticeRaised.emit(note)
        return profile

    def set_profiles(self, profiles: list[CalibrationProfile]) -> bool:
        """Save ``profiles`` as the profile list and re-match every open image."""
        if not self._guarded(lambda: save_profiles(profiles_path(), profiles)):
            return False
        self.profiles = list(profiles)
        for document in self.documents.values():
            document.profile = matching_profile(self.profiles, document.image.instrument)
        self._emit_calibration()
        self._request_run()
        return True

    def select(self, ids) -> None:
        ids = tuple(sorted({int(i) for i in ids}))
        if ids != self.selection:
            self.selection = ids
            self.selectionChanged.emit(ids)

    # --- what the editor reports ------------------------------------------------------------------

    def show_edit(self, result: PipelineResult, selection) -> None:
        """A hand edit changed the current document's result (already set on the document)."""
        self.selection = tuple(int(i) for i in selection)
        self.resultChanged.emit(result)

    def show_result(self, document: ImageDocument, result: PipelineResult) -> None:
        """``result`` replaces ``document``'s (e.g. the full summary after edits stopped)."""
        document.result = result
        if document is self.current:
            self.resultChanged.emit(result)

    def notify(self, text: str) -> None:
        self.noticeRaised.emit(text)

    def report_error(self, message: str, details: str = "") -> None:
        self.errorOccurred.emit(message, details)

    # --- export ---------------------------------------------------------------------------------

    def export_results(self, out_dir: str | Path) -> list[Path] | None:
        """Write the same files as the CLI for the current image, plus Excel and summary JSON."""
        document = self.current
        if document is None or document.result is None:
            self.errorOccurred.emit("There is no result to export yet.", "")
            return None
        shown = document.result
        written: list[Path] = []
        ok = self._guarded(lambda: written.extend(write_document_files(document, out_dir)))
        if document.result is not shown:  # the shape classes were completed for the files
            self.show_result(document, document.result)
        return written if ok else None

    # --- internals ------------------------------------------------------------------------------

    def _guarded(self, action) -> bool:
        try:
            action()
        except ParticleGuiError as exc:
            self.errorOccurred.emit(str(exc), "".join(traceback.format_exception(exc)))
            return False
        except OSError as exc:
            self.errorOccurred.emit(f"Cannot write: {exc}", "".join(traceback.format_exception(exc)))
            return False
        return True

    def _emit_calibration(self) -> None:
        if self.current is not None:
            calibration, warnings = self.current.calibration()
            self.calibrationChanged.emit(calibration, warnings)

    def _request_run(self) -> None:
        document = self.current
        if document is None:
            return
        self._requested_for = document
        self.runner.request(document.run_inputs())

    def request_run(self) -> None:
        """Analyse the current image again (e.g. after its corrections were discarded)."""
        self._request_run()

    def _on_runner_result(self, output: RunOutput, generation: int) -> None:
        self._awaiting_shapes = None
        document = self._requested_for
        if document is None:
            return
        accepted = document.accept_run(output.inputs, output.run, output.layers)
        if accepted.outcome is RunOutcome.STALE:
            if document is self.current:  # the user edited while this ran: run again with the edits
                self._request_run()
            return
        result = accepted.result
        if accepted.outcome is RunOutcome.RECONCILED:
            self.noticeRaised.emit(
                "Parameters changed after hand corrections: the automatic result was recomputed around them "
                f"({accepted.hand_made} hand-edited particles and all deletions kept). Undo starts again from here."
            )
        if accepted.corrections_replaced:
            self.correctionsReplaced.emit(document)
        self._awaiting_shapes = result if result.shapes_pending else None
        if document is self.current:
            valid = set(result.particles["id"].tolist())
            kept = tuple(i for i in self.selection if i in valid)
            if kept != self.selection:
                self.selection = kept
                self.selectionChanged.emit(kept)
            self.resultChanged.emit(result)

    def _on_runner_shapes(self, output: RunOutput, generation: int) -> None:
        """The shape classes of the result shown last.

        When the user edited meanwhile, the particles the edits left untouched take their classes from it
        (the edits classified the rest).
        """
        shown, self._awaiting_shapes = self._awaiting_shapes, None
        document = self._requested_for
        if shown is None or document is None or document.result is None:
            return
        if document.result is shown:
            self.show_result(document, dataclasses.replace(output.result, labels=shown.labels))
        else:
            self.show_result(document, merge_shapes(document.result, output.result))
