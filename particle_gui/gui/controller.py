"""Wires the open images, the parameters and the pipeline runner; the widgets only listen.

The controller holds no widgets, so it is tested without a window.
"""

from __future__ import annotations

import dataclasses
import json
import traceback
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from particle_gui.core import batch, export
from particle_gui.core.errors import ParticleGuiError
from particle_gui.core.loading import load_image
from particle_gui.core.metadata import PLAUSIBLE_PIXEL_NM, plausible_pixel_nm
from particle_gui.core.corrections import Corrections
from particle_gui.core.edits import EDIT_KINDS
from particle_gui.core.params import PipelineParams
from particle_gui.core.pipeline import PipelineResult, complete_shapes, merge_shapes
from particle_gui.core.profiles import (
    CalibrationProfile, load_profiles, matching_profile, profile_from_standard, save_profiles,
)
from particle_gui.core.reconcile import CorrectionsSnapshot
from particle_gui.gui.document import ImageDocument
from particle_gui.gui.runner import PipelineRunner, RunOutput
from particle_gui.paths import profiles_path


class AppController(QObject):
    """State of the application: the folder, the current image and what is selected.

    Signals
    -------
    documentOpened(object)       a new current :class:`ImageDocument`
    paramsReplaced(object)       params set from outside the panel (preset, image switch)
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
    paramsReplaced = Signal(object)
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
        #: The last corrections snapshot handed to the runner: (corrections, version, snapshot). One only,
        #: so an edited image left behind does not keep a copy of its labels.
        self._last_snapshot: tuple | None = None
        self._requested_for: ImageDocument | None = None
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
            params = self.current.params if self.current is not None else self.default_params
            document = ImageDocument(image=image, params=params)
            document.profile = matching_profile(self.profiles, image.instrument)
            self.documents[path.resolve()] = document
        self.current = document
        self.selection = ()
        self.documentOpened.emit(document)
        self.paramsReplaced.emit(document.params)
        self._emit_calibration()
        if document.result is not None:
            self.resultChanged.emit(document.result)
        self._request_run()
        return True

    def adopt_document(self, document: ImageDocument) -> None:
        """Make a document built elsewhere (a reopened session) the current one and analyse it."""
        self.documents[document.path.resolve()] = document
        self.current = document
        self.selection = ()
        self.documentOpened.emit(document)
        self.paramsReplaced.emit(document.params)
        self._emit_calibration()
        self._request_run()

    def open_folder(self, folder: str | Path) -> bool:
        images = batch.images_in_folder(folder)
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

    def set_params(self, params: PipelineParams) -> None:
        if self.current is None:
            self.default_params = params
            return
        if params == self.current.params:
            return
        self.current.params = params
        self._request_run()

    def load_preset(self, path: str | Path) -> bool:
        try:
            params = PipelineParams.load(path)
        except ParticleGuiError as exc:
            self.errorOccurred.emit(str(exc), "")
            return False
        self.paramsReplaced.emit(params)
        self.set_params(params)
        return True

    def save_preset(self, path: str | Path) -> bool:
        params = self.current.params if self.current is not None else self.default_params
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

    # --- export ---------------------------------------------------------------------------------

    def export_results(self, out_dir: str | Path) -> list[Path] | None:
        """Write the same files as the CLI for the current image, plus Excel and summary JSON."""
        document = self.current
        if document is None or document.result is None:
            self.errorOccurred.emit("There is no result to export yet.", "")
            return None
        out_dir = Path(out_dir)
        if document.result.shapes_pending:  # exports always carry the classes
            self._adopt(document, complete_shapes(document.result, document.image.grey))
        result = document.result
        stem = document.path.stem

        corrections = document.corrections
        if corrections is not None:
            labels = corrections.labels
            edited = np.unique(labels[labels != corrections.base])
            particles = result.particles.assign(hand_edited=np.isin(result.particles["id"].to_numpy(), edited))
            result = dataclasses.replace(result, particles=particles)
        counts = corrections.counts if corrections is not None else dict.fromkeys(EDIT_KINDS, 0)

        def write() -> list[Path]:
            out_dir.mkdir(parents=True, exist_ok=True)
            written = list(batch.write_image_outputs(out_dir, stem, document.image, result))
            summary_path = out_dir / f"{stem}_summary.json"
            record = {
                "image": document.path.name,
                "calibration": result.calibration.__dict__,
                "params": result.params.to_dict(),
                "summary": result.summary.to_dict(),
                "manual_edits": {"deleted": counts["delete"], "merged": counts["merge"], "split": counts["split"],
                                 "added": counts["add"], "brush_strokes": counts["paint"],
                                 "eraser_strokes": counts["erase"]},
                "warnings": list(result.warnings),
            }
            export.atomic_write_text(summary_path, json.dumps(record, indent=1, default=float))
            excel_path = out_dir / f"{stem}_particles.xlsx"
            export.write_particles_excel(excel_path, result.particles, result.summary)
            return [*written, summary_path, excel_path]

        written: list[Path] = []
        ok = self._guarded(lambda: written.extend(write()))
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
        calibration, _ = document.calibration()
        corrections = document.corrections
        post = None
        if corrections is not None and corrections.has_edits:
            post = self._snapshot(document, corrections)
        self._requested_for = document
        self._requested_version = corrections.version if corrections is not None else None
        self.runner.request(document.pipeline, document.params, calibration, post)

    def request_run(self) -> None:
        """Analyse the current image again (e.g. after its corrections were discarded)."""
        self._request_run()

    def _on_runner_result(self, output: RunOutput, generation: int) -> None:
        self._awaiting_shapes = None
        document = self._requested_for
        if document is None:
            return
        corrections = document.corrections
        if self._requested_version != (corrections.version if corrections is not None else None):
            # The user edited while this ran: its labels are out of date. Run again with the edits.
            if document is self.current:
                self._request_run()
            return
        result = output.result
        if corrections is not None:
            result = self._take_corrections(document, corrections, result, output.extra)
        document.result = result
        document.outlines = output.outlines
        document.overlay_rgba = output.overlay_rgba
        self._awaiting_shapes = result if result.shapes_pending else None
        if document is self.current:
            valid = set(result.particles["id"].tolist())
            kept = tuple(i for i in self.selection if i in valid)
            if kept != self.selection:
                self.selection = kept
                self.selectionChanged.emit(kept)
            self.resultChanged.emit(result)

    def _on_runner_shapes(self, output: RunOutput, generation: int) -> None:
        """The shape classes of the result shown last. When the user edited meanwhile, the
        particles the edits left untouched take their classes from it (the edits classified the rest)."""
        shown, self._awaiting_shapes = self._awaiting_shapes, None
        document = self._requested_for
        if shown is None or document is None or document.result is None:
            return
        if document.result is shown:
            self._adopt(document, dataclasses.replace(output.result, labels=shown.labels))
        else:
            self._adopt(document, merge_shapes(document.result, output.result))

    def _adopt(self, document: ImageDocument, result: PipelineResult) -> None:
        """Make ``result`` (the document's result, completed) the one shown."""
        document.result = result
        if document is self.current:
            self.resultChanged.emit(result)

    def _snapshot(self, document: ImageDocument, corrections: Corrections) -> CorrectionsSnapshot:
        """The corrections as the worker will see them. The label copy (64 MB at 4096x4096) is made
        once per state of the edits, not at every step of a slider drag."""
        cached = self._last_snapshot
        if cached is not None and cached[0] is corrections and cached[1] == corrections.version:
            return cached[2]
        image = document.image
        snapshot = CorrectionsSnapshot(corrections.labels.copy(), corrections.base, corrections.erased, image.grey,
                                       image.intensity_offset, image.intensity_scale)
        self._last_snapshot = (corrections, corrections.version, snapshot)
        return snapshot

    def _take_corrections(self, document: ImageDocument, corrections: Corrections, result, extra):
        """Keep the document's corrections in step with a new run; returns the result to show."""
        if extra is None or extra[0] == "reconciled":
            self._last_snapshot = None  # that state of the edits is gone
        if extra is None:  # requested without edits (all undone): the automatic result is the truth
            document.corrections = None
            document.unsaved_edits = False
            self.correctionsReplaced.emit(document)
            return result
        how, handed_over = extra
        if how == "reconciled":
            document.corrections = Corrections(
                handed_over.working_labels, base=handed_over.auto_labels, erased=handed_over.erased,
                carried_counts=corrections.counts, copy=False, boxes=handed_over.boxes, initial=result.labels,
            )
            document.unsaved_edits = True
            hand_made = int((result.particles["id"] > int(handed_over.auto_labels.max())).sum())
            self.noticeRaised.emit(
                "Parameters changed after hand corrections: the automatic result was recomputed around them "
                f"({hand_made} hand-edited particles and all deletions kept). Undo starts again from here."
            )
            self.correctionsReplaced.emit(document)
        labels = document.corrections.labels.view()
        labels.flags.writeable = False
        return dataclasses.replace(result, labels=labels)
