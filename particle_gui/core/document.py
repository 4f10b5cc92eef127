"""One open image and everything the user made of it: the engine's document (no Qt).

:class:`ImageDocument` owns an image's parameters, calibration choices, newest result with its
overlay layers, hand corrections and the hand-off of those corrections to a pipeline run in
the worker (:meth:`ImageDocument.run_inputs`, then :meth:`ImageDocument.accept_run`). The
window's controller is the only one that changes a document's parameters and calibration;
the editor changes its corrections through :meth:`ImageDocument.show_edit`.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from particle_gui.core.io.calibration import Calibration, resolve_calibration
from particle_gui.core.editing.corrections import Corrections, remeasure
from particle_gui.core.editing.edits import LabelDelta
from particle_gui.core.labels import union_box
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline, PipelineResult
from particle_gui.core.io.profiles import CalibrationProfile
from particle_gui.core.editing.reconcile import CorrectedRun, CorrectionsSnapshot
from particle_gui.core.output.render import OverlayLayers, update_layers
from particle_gui.core.editing.session import SessionState


class RunOutcome(enum.Enum):
    """What became of a pipeline run handed back to its document."""

    #: The user edited while the run was on its way: its labels are out of date, run again.
    STALE = "stale"
    #: There are no corrections: the automatic result is the one shown.
    AUTOMATIC = "automatic"
    #: The corrections were made on these very automatic labels (a calibration or summary change).
    CORRECTED = "corrected"
    #: New automatic labels, recomputed around the corrections; the undo history starts again.
    RECONCILED = "reconciled"


@dataclass(frozen=True, eq=False)
class AcceptedRun:
    """A run's result as the document took it."""

    outcome: RunOutcome
    #: The result to show (None when the run was stale).
    result: PipelineResult | None = None
    #: True when the document's corrections were dropped or rebuilt (autosave and undo follow).
    corrections_replaced: bool = False
    #: Hand-made particles kept through a reconcile.
    hand_made: int = 0


@dataclass(frozen=True, eq=False)
class RunInputs:
    """What a pipeline run of a document needs, taken on the GUI thread."""

    pipeline: Pipeline
    params: PipelineParams
    calibration: Calibration
    #: The corrections to lay over the new automatic result (None without hand edits).
    corrections: CorrectionsSnapshot | None
    #: ``corrections.version`` when the inputs were taken (None without corrections).
    version: int | None


@dataclass(eq=False)
class ImageDocument:
    """An image the user is working on.

    The pixel size comes from, in order of trust: a pixel size typed by the user, a scale bar
    drawn by the user with its typed length, the file's metadata (corrected by a matching
    reference-standard profile), a confidently read scale bar (see :func:`resolve_calibration`).
    """

    image: LoadedImage
    params: PipelineParams
    pipeline: Pipeline = field(init=False)
    scale_bar_length_nm: float | None = None
    scale_bar_length_px: float | None = None
    manual_pixel_size_nm: float | None = None
    result: PipelineResult | None = None
    #: The outlines and plain outline overlay of :attr:`result` (rendered with it in the worker).
    layers: OverlayLayers | None = None
    #: Hand corrections of the result (None until the first edit); ``result.labels`` then shows
    #: ``corrections.labels``.
    corrections: Corrections | None = None
    #: SHA-256 of the image file, computed when a session or an autosave first needs it.
    image_sha256: str | None = None
    #: Where the session was last saved or opened from (None: never saved).
    session_path: Path | None = None
    #: True when there are hand corrections not yet saved in a session file.
    unsaved_edits: bool = False
    #: The reference-standard profile that corrects this image's metadata (matched by the controller).
    profile: CalibrationProfile | None = None
    #: The corrections as last handed to a run: (corrections, version, snapshot). The label copy
    #: (64 MB at 4096x4096) is made once per state of the edits, not at every slider step.
    _snapshot: tuple | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.image)

    @property
    def path(self) -> Path:
        return self.image.path

    # --- calibration ------------------------------------------------------------------------

    def calibration(self) -> tuple[Calibration, list[str]]:
        """The calibration in force and any override or disagreement warnings."""
        metadata = self.image.metadata_calibration
        if self.profile is not None:
            metadata = self.profile.apply(metadata)
        return resolve_calibration(
            metadata,
            scale_bar_length_nm=self.scale_bar_length_nm,
            scale_bar_length_px=self.scale_bar_length_px,
            manual_pixel_size_nm=self.manual_pixel_size_nm,
            detected=self.pipeline.region(self.params).scale_bar,
        )

    def detected_scale_bar_px(self) -> float | None:
        bar = self.pipeline.region(self.params).scale_bar
        return float(bar.length_px) if bar is not None else None

    # --- runs ---------------------------------------------------------------------------------

    def run_inputs(self) -> RunInputs:
        """Everything a run of the current parameters needs, the corrections included."""
        calibration, _ = self.calibration()
        corrections = self.corrections
        snapshot = None
        if corrections is not None and corrections.has_edits:
            snapshot = self._corrections_snapshot(corrections)
        version = corrections.version if corrections is not None else None
        return RunInputs(self.pipeline, self.params, calibration, snapshot, version)

    def accept_run(self, inputs: RunInputs, run: CorrectedRun, layers: OverlayLayers) -> AcceptedRun:
        """Take a finished run of ``inputs``; returns what became of it."""
        corrections = self.corrections
        if inputs.version != (corrections.version if corrections is not None else None):
            return AcceptedRun(RunOutcome.STALE)
        result, hand_made, replaced = run.result, 0, False
        if run.reconciled is not None or inputs.corrections is None:
            self._snapshot = None  # that state of the edits is gone
        if corrections is None:
            outcome = RunOutcome.AUTOMATIC
        elif inputs.corrections is None:  # requested without edits (all undone): the automatic result is the truth
            self.corrections = None
            self.unsaved_edits = False
            outcome, replaced = RunOutcome.AUTOMATIC, True
        elif run.reconciled is not None:
            handed = run.reconciled
            self.corrections = Corrections(
                handed.working_labels, base=handed.auto_labels, erased=handed.erased,
                carried_counts=corrections.counts, copy=False, boxes=handed.boxes, initial=result.labels,
            )
            self.unsaved_edits = True
            hand_made = int((result.particles["id"] > int(handed.auto_labels.max())).sum())
            outcome, replaced = RunOutcome.RECONCILED, True
        else:
            outcome = RunOutcome.CORRECTED
        if self.corrections is not None:
            labels = self.corrections.labels.view()
            labels.flags.writeable = False
            result = dataclasses.replace(result, labels=labels)
        self.result = result
        self.layers = layers
        return AcceptedRun(outcome, result, replaced, hand_made)

    def release_snapshot(self) -> None:
        """Drop the corrections' copy kept for runs (when another image becomes the current one)."""
        self._snapshot = None

    def _corrections_snapshot(self, corrections: Corrections) -> CorrectionsSnapshot:
        cached = self._snapshot
        if cached is not None and cached[0] is corrections and cached[1] == corrections.version:
            return cached[2]
        image = self.image
        snapshot = CorrectionsSnapshot(corrections.labels.copy(), corrections.base, corrections.erased, image.grey,
                                       image.intensity_offset, image.intensity_scale)
        self._snapshot = (corrections, corrections.version, snapshot)
        return snapshot

    # --- corrections --------------------------------------------------------------------------

    def start_corrections(self) -> Corrections | None:
        """The corrections, created at the first edit (None while there is no result)."""
        if self.result is None:
            return None
        if self.corrections is None:
            self.corrections = Corrections(self.result.labels)
        return self.corrections

    def show_edit(self, deltas: list[LabelDelta], touched: np.ndarray) -> PipelineResult:
        """After ``deltas`` changed the corrections, re-measure the touched particles and redraw the overlay.

        The overlay is redrawn inside the edit's box only. Returns the new result (counts and percentiles
        new, the summary's fits and intervals those of before until :func:`table_summary` replaces them).
        """
        image = self.image
        result = remeasure(self.result, self.corrections, touched, image.grey, intensity_offset=image.intensity_offset,
                           intensity_scale=image.intensity_scale, summary_fits=False)
        self.layers = update_layers(self.layers, result, union_box([d.box for d in deltas]))
        self.result = result
        self.unsaved_edits = True
        return result

    def discard_corrections(self) -> bool:
        """Drop every hand correction; returns False when there were none."""
        if self.corrections is None:
            return False
        self.corrections = None
        self.unsaved_edits = False
        self._snapshot = None
        return True

    # --- sessions -----------------------------------------------------------------------------

    def session_state(self, *, history: bool = True, labels: np.ndarray | None = None) -> SessionState:
        """The document as a session file stores it (``labels``: the corrected labels by default)."""
        corrections = self.corrections
        if labels is None:
            labels = corrections.labels if corrections is not None else self.result.labels
        undo, redo = corrections.history.steps() if corrections is not None and history else ([], [])
        return SessionState(
            image_path=self.path, image_sha256=self.image_sha256 or "", params=self.params,
            labels=labels, base=corrections.base if corrections is not None else labels,
            erased=corrections.erased if corrections is not None else None, undo=undo, redo=redo,
            carried_counts=dict(corrections.carried_counts) if corrections is not None else {},
            scale_bar_length_px=self.scale_bar_length_px, scale_bar_length_nm=self.scale_bar_length_nm,
            manual_pixel_size_nm=self.manual_pixel_size_nm,
        )

    @classmethod
    def from_session(cls, state: SessionState, image: LoadedImage) -> ImageDocument:
        """A document with a session's parameters, calibration choices and corrections."""
        document = cls(image=image, params=state.params, scale_bar_length_px=state.scale_bar_length_px,
                       scale_bar_length_nm=state.scale_bar_length_nm, manual_pixel_size_nm=state.manual_pixel_size_nm)
        document.image_sha256 = state.image_sha256 or None
        corrections = Corrections(state.labels, base=state.base, erased=state.erased,
                                  carried_counts=state.carried_counts)
        corrections.history.restore_steps(state.undo, state.redo)
        document.corrections = corrections
        return document
