"""Hand corrections of the current image: edits, undo/redo, live re-measurement, sessions.

The editor turns the canvas tools' gestures into edits of the current document's
:class:`Corrections` (the label image is the single source of truth); the document re-measures
the particles an edit touched and redraws the overlay inside the edit's box
(:meth:`ImageDocument.show_edit`), and the editor hands the new result to the app controller,
which tells every panel. Each change is also appended to the autosave journal.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from particle_gui.core.editing import edits
from particle_gui.core.editing.corrections import Corrections
from particle_gui.core.document import ImageDocument
from particle_gui.core.errors import ParticleGuiError
from particle_gui.core.editing.history import EDIT_KINDS
from particle_gui.core.editing.journal import BEGIN, END, REDO, UNDO, read_journal, replay
from particle_gui.core.io.loading import load_image
from particle_gui.core.labels import union_box
from particle_gui.core.editing.session import file_sha256, load_session, save_session
from particle_gui.desktop.autosave import Autosaver, journal_for
from particle_gui.gui.controller import AppController
from particle_gui.gui.summary_refresh import SummaryRefresher

#: Brush radius limits in image pixels.
BRUSH_RADIUS_RANGE = (1, 200)


class Editor(QObject):
    """Applies hand edits to the current image of an :class:`AppController`.

    Signals
    -------
    editsChanged()
        Undo/redo availability or the edit counts changed.
    """

    editsChanged = Signal()

    def __init__(self, app: AppController, autosaver: Autosaver | None = None) -> None:
        super().__init__(app)
        self.app = app
        self.autosaver = autosaver if autosaver is not None else Autosaver()
        self.brush_radius = 6.0
        self._stroke: tuple[int, tuple[float, float]] | None = None
        self._summaries = SummaryRefresher(app, self)
        app.correctionsReplaced.connect(self._on_corrections_replaced)

    # --- state -------------------------------------------------------------------------------

    @property
    def document(self) -> ImageDocument | None:
        return self.app.current

    @property
    def corrections(self) -> Corrections | None:
        document = self.document
        return document.corrections if document is not None else None

    @property
    def can_undo(self) -> bool:
        return self.corrections is not None and self.corrections.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.corrections is not None and self.corrections.history.can_redo

    def counts(self) -> dict[str, int]:
        corrections = self.corrections
        return corrections.counts if corrections is not None else dict.fromkeys(EDIT_KINDS, 0)

    def _ensure(self) -> Corrections | None:
        """The current document's corrections, created at the first edit (None without a result)."""
        document = self.document
        if document is None:
            return None
        started = document.corrections is None
        corrections = document.start_corrections()
        if started and corrections is not None:
            self._checkpoint(document)
        return corrections

    # --- edits -------------------------------------------------------------------------------

    def delete(self, ids) -> bool:
        corrections = self._ensure()
        if corrections is None:
            return False
        ids = [int(i) for i in ids if int(i) in corrections.boxes]
        return self._commit([edits.delete_particles(corrections.labels, ids, within=self._box(ids))])

    def delete_selection(self) -> bool:
        return self.delete(self.app.selection)

    def merge(self, ids) -> bool:
        corrections = self._ensure()
        if corrections is None or len(set(ids) - {0}) < 2:
            return False
        ids = [int(i) for i in ids if int(i) in corrections.boxes]
        return self._commit([edits.merge_particles(corrections.labels, ids, within=self._box(ids))],
                            select_new=True)

    def merge_selection(self) -> bool:
        return self.merge(self.app.selection)

    def split_line(self, start: tuple[float, float], end: tuple[float, float], *, width: int = 1) -> bool:
        """Cut every particle the line from ``start`` to ``end`` (x, y) crosses."""
        corrections = self._ensure()
        if corrections is None:
            return False
        labels = corrections.labels
        steps = int(np.ceil(np.hypot(end[0] - start[0], end[1] - start[1]))) + 1
        xs = np.clip(np.round(np.linspace(start[0], end[0], steps)).astype(int), 0, labels.shape[1] - 1)
        ys = np.clip(np.round(np.linspace(start[1], end[1], steps)).astype(int), 0, labels.shape[0] - 1)
        crossed = [int(i) for i in np.unique(labels[ys, xs]) if i > 0]
        deltas, next_id = [], corrections.next_id()
        for particle in crossed:  # each cut is applied before the next is computed
            delta = edits.split_particle_by_line(labels, particle, start, end, width=width,
                                                 within=corrections.boxes.get(particle), next_id=next_id)
            if not delta.empty:
                delta.apply(labels)
                deltas.append(delta)
                next_id = max(next_id, int(delta.new.max()) + 1)
        for delta in reversed(deltas):
            delta.revert(labels)
        return self._commit(deltas)

    def split_seeds(self, seeds_xy) -> bool:
        """Seeded watershed split of the particle under the first seed (seeds in it only)."""
        corrections = self._ensure()
        if corrections is None or len(seeds_xy) < 2:
            return False
        labels = corrections.labels
        inside = [(x, y) for x, y in seeds_xy if 0 <= int(y) < labels.shape[0] and 0 <= int(x) < labels.shape[1]]
        particle = next((int(labels[int(y), int(x)]) for x, y in inside if labels[int(y), int(x)]), 0)
        if not particle:
            return False
        delta = edits.split_particle_by_seeds(labels, particle, inside, within=corrections.boxes.get(particle),
                                              next_id=corrections.next_id())
        return self._commit([delta], select_new=True)

    def add_polygon(self, points_xy) -> bool:
        """A new particle inside a polygon or freehand outline (over background only)."""
        corrections = self._ensure()
        if corrections is None or len(points_xy) < 3:
            return False
        points = np.asarray(points_xy, dtype=np.float64)
        height, width = corrections.labels.shape
        col0, row0 = (max(int(np.floor(v)) - 1, 0) for v in points.min(axis=0))
        col1, row1 = min(int(np.ceil(points[:, 0].max())) + 2, width), min(int(np.ceil(points[:, 1].max())) + 2, height)
        if col0 >= col1 or row0 >= row1:
            return False
        mask = edits.polygon_mask((row1 - row0, col1 - col0), points - (col0, row0))
        delta = edits.add_particle(corrections.labels, mask, at=(row0, col0), next_id=corrections.next_id())
        return self._commit([delta], select_new=True)

    def add_flood(self, x: float, y: float) -> bool:
        """A new particle from the thresholded region under (x, y) that no particle covers."""
        corrections = self._ensure()
        document = self.document
        if corrections is None or document is None:
            return False
        labels = corrections.labels
        col, row = int(x), int(y)
        inside = 0 <= row < labels.shape[0] and 0 <= col < labels.shape[1]
        if not inside or labels[row, col] or not document.result.threshold.mask[row, col]:
            self.app.notify("Flood fill: click inside a region the threshold found but no particle "
                                       "covers (or draw the particle with the polygon tool).")
            return False
        foreground = document.result.threshold.mask & (labels == 0)
        region, at = edits.flood_fill_region(foreground, col, row)
        return self._commit([edits.add_particle(labels, region, at=at, next_id=corrections.next_id())],
                            select_new=True)

    def begin_stroke(self, x: float, y: float, *, erase: bool = False) -> None:
        """Start a brush (extends the particle under the cursor, or a new one) or eraser stroke."""
        corrections = self._ensure()
        if corrections is None:
            return
        labels = corrections.labels
        col, row = int(x), int(y)
        under = int(labels[row, col]) if 0 <= row < labels.shape[0] and 0 <= col < labels.shape[1] else 0
        value = 0 if erase else (under or corrections.next_id())
        corrections.begin_gesture()
        self.autosaver.record(self.document, op=BEGIN)
        self._stroke = (value, (x, y))
        self._paint_to(x, y)

    def continue_stroke(self, x: float, y: float) -> None:
        if self._stroke is not None:
            self._paint_to(x, y)

    def end_stroke(self) -> None:
        corrections = self.corrections
        if self._stroke is None or corrections is None:
            return
        self._stroke = None
        corrections.end_gesture()
        self.autosaver.record(self.document, op=END)
        self.editsChanged.emit()

    def _paint_to(self, x: float, y: float) -> None:
        corrections = self.corrections
        value, (x0, y0) = self._stroke
        radius = float(np.clip(self.brush_radius, *BRUSH_RADIUS_RANGE))
        steps = max(1, int(np.ceil(np.hypot(x - x0, y - y0) / max(radius / 2, 0.5))))
        deltas = []
        for t in np.linspace(1.0 / steps, 1.0, steps) if (x, y) != (x0, y0) else [1.0]:
            delta = edits.paint(corrections.labels, x0 + t * (x - x0), y0 + t * (y - y0), radius=radius,
                                value=value, overwrite=False)
            if not delta.empty:
                corrections.apply(delta)
                self.autosaver.record(self.document, delta)
                deltas.append(delta)
        self._stroke = (value, (x, y))
        if deltas:
            self._refresh(deltas, np.unique(np.concatenate([d.touched_ids() for d in deltas])))

    # --- undo --------------------------------------------------------------------------------

    def undo(self) -> bool:
        return self._step(UNDO)

    def redo(self) -> bool:
        return self._step(REDO)

    def _step(self, op: bytes) -> bool:
        corrections = self.corrections
        if corrections is None or self._stroke is not None:
            return False
        changed = corrections.undo() if op == UNDO else corrections.redo()
        if changed is None:
            return False
        step, touched = changed
        self.autosaver.record(self.document, op=op)
        self._refresh(step.deltas, touched)
        self.editsChanged.emit()
        return True

    def discard(self) -> None:
        """Drop every hand correction of the current image and show the automatic result again."""
        document = self.document
        if document is None or not document.discard_corrections():
            return
        self.autosaver.clear(document)
        self.app.request_run()
        self.editsChanged.emit()

    # --- sessions ----------------------------------------------------------------------------

    def save_session(self, path: str | Path, document: ImageDocument | None = None) -> bool:
        """Save ``document`` (default: the current one) as a session at ``path``; False with a message if not."""
        document = document or self.document
        if document is None or document.result is None:
            self.app.report_error("There is nothing to save yet: open an image first.")
            return False
        try:
            if document.image_sha256 is None:
                document.image_sha256 = file_sha256(document.path)
            save_session(path, document.session_state())
        except (OSError, ParticleGuiError) as exc:
            self.app.report_error(f"Cannot save the session to {path}: {exc}", traceback.format_exc())
            return False
        document.session_path = Path(path)
        document.unsaved_edits = False
        self.autosaver.clear(document)
        return True

    def open_session(self, path: str | Path, *, journal: Path | None = None) -> bool:
        """Reopen a saved session (or an autosave checkpoint and its journal after a crash)."""
        try:
            state, warnings = load_session(path)
            image = load_image(state.image_path)
            if image.shape != state.labels.shape:
                raise ParticleGuiError(f"{path}: the image is {image.shape}, the session's labels "
                                       f"{state.labels.shape}; they do not belong together.")
        except ParticleGuiError as exc:
            self.app.report_error(str(exc), traceback.format_exc())
            return False
        document = ImageDocument.from_session(state, image)
        corrections = document.corrections
        replayed = replay(corrections, read_journal(journal, state.epoch)) if journal is not None else 0
        document.session_path = None if journal is not None else Path(path)
        document.unsaved_edits = journal is not None
        self.app.adopt_document(document)
        if journal is not None:
            corrections.initial = corrections.labels.copy()
            self._checkpoint(document)
            self.app.notify(f"Restored unsaved corrections of {image.path.name} "
                                       f"({replayed} journal records replayed).")
        for warning in warnings:
            self.app.notify(warning)
        self.editsChanged.emit()
        return True

    def recover(self, checkpoint: Path) -> bool:
        """Restore an autosave checkpoint with its journal; the old recovery files are replaced."""
        ok = self.open_session(checkpoint, journal=journal_for(checkpoint))
        if ok and self.document is not None and self.autosaver.checkpoint_path(self.document) != checkpoint:
            for file in (checkpoint, journal_for(checkpoint)):
                file.unlink(missing_ok=True)
        return ok

    # --- internals ---------------------------------------------------------------------------

    def _checkpoint(self, document: ImageDocument) -> None:
        corrections = document.corrections
        undo, redo = corrections.history.steps()
        self.autosaver.checkpoint(document, corrections.initial, undo, redo)

    def _on_corrections_replaced(self, document: ImageDocument) -> None:
        if document.corrections is None:
            self.autosaver.clear(document)
        else:
            self._checkpoint(document)
        self.editsChanged.emit()

    def _commit(self, deltas: list[edits.LabelDelta], *, select_new: bool = False) -> bool:
        deltas = [d for d in deltas if not d.empty]
        corrections = self.corrections
        if not deltas or corrections is None:
            return False
        if len(deltas) > 1:
            corrections.begin_gesture()
            self.autosaver.record(self.document, op=BEGIN)
        touched = np.unique(np.concatenate([corrections.apply(d) for d in deltas]))
        for delta in deltas:
            self.autosaver.record(self.document, delta)
        if len(deltas) > 1:
            corrections.end_gesture()
            self.autosaver.record(self.document, op=END)
        self._refresh(deltas, touched, select_new=select_new)
        self.editsChanged.emit()
        return True

    def _refresh(self, deltas: list[edits.LabelDelta], touched: np.ndarray, *, select_new: bool = False) -> None:
        corrections = self.corrections
        result = self.document.show_edit(deltas, touched)
        self._summaries.schedule()
        if select_new:
            selection = [i for i in touched.tolist() if i in corrections.boxes]
        else:
            selection = [i for i in self.app.selection if i in corrections.boxes]
        self.app.show_edit(result, selection)

    def wait_idle(self, timeout_ms: int = 10_000) -> bool:
        """Until the pending full summary is shown (tests, benchmarks)."""
        return self._summaries.wait_idle(timeout_ms)

    def _box(self, ids) -> tuple[int, int, int, int] | None:
        return union_box([self.corrections.boxes.get(int(i)) for i in ids])
