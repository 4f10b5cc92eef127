"""Undo and redo of hand corrections: bounded stacks of steps, one step per command or gesture."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from particle_gui.core.editing.edits import LabelDelta

#: Undo steps kept by default (the issue asks for at least 100).
DEFAULT_UNDO_STEPS = 200


@dataclass
class EditStep:
    """One undo step: the deltas of one command or gesture, applied in order."""

    deltas: list[LabelDelta] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.deltas[0].kind if self.deltas else "edit"

    def touched_ids(self) -> np.ndarray:
        if not self.deltas:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate([d.touched_ids() for d in self.deltas]))

    @property
    def nbytes(self) -> int:
        return sum(d.nbytes for d in self.deltas)

    def particle_count(self) -> int:
        """Particles this step changed by hand: deleted, merged into one, split, added (or 1 stroke)."""
        if not self.deltas:
            return 0
        before = np.unique(np.concatenate([d.old for d in self.deltas]))
        after = np.unique(np.concatenate([d.new for d in self.deltas]))
        gone = np.setdiff1d(before[before > 0], after)
        created = np.setdiff1d(after[after > 0], before)
        kind = self.kind
        if kind == "delete":
            return int(gone.size)
        if kind == "merge":
            return int(gone.size) + 1
        if kind == "add":
            return max(int(created.size), 1)
        return 1  # a split (one particle cut), a brush or eraser stroke


#: The kinds of hand edits counted for exports and reports.
EDIT_KINDS = ("delete", "merge", "split", "add", "paint", "erase")


class EditHistory:
    """Bounded undo/redo over one label image, which it edits in place.

    Examples
    --------
    >>> from particle_gui.core.editing.edits import delete_particles
    >>> labels = np.array([[1, 1, 0, 2]], np.int32)
    >>> history = EditHistory(labels)
    >>> _ = history.apply(delete_particles(labels, [2]))
    >>> labels.tolist(), history.undo() is not None, labels.tolist()
    ([[1, 1, 0, 0]], True, [[1, 1, 0, 2]])
    """

    def __init__(self, labels: np.ndarray, *, max_steps: int = DEFAULT_UNDO_STEPS) -> None:
        self.labels = labels
        self._undo: deque[EditStep] = deque(maxlen=max_steps)
        self._redo: list[EditStep] = []
        self._gesture: EditStep | None = None
        #: Particles changed by hand per kind of edit (see :meth:`EditStep.particle_count`), net of undo.
        self.counts = dict.fromkeys(EDIT_KINDS, 0)

    def apply(self, delta: LabelDelta) -> LabelDelta:
        """Apply a delta and record it (in the open gesture, if any)."""
        if delta.empty:
            return delta
        delta.apply(self.labels)
        self._redo.clear()
        if self._gesture is not None:
            self._gesture.deltas.append(delta)
        else:
            step = EditStep([delta])
            self._undo.append(step)
            self._count(step, +1)
        return delta

    def begin_gesture(self) -> None:
        """Group the following deltas into one undo step (a mouse drag)."""
        if self._gesture is None:
            self._gesture = EditStep()

    def end_gesture(self) -> EditStep | None:
        step, self._gesture = self._gesture, None
        if step is None or not step.deltas:
            return None
        self._undo.append(step)
        self._count(step, +1)
        return step

    def undo(self) -> EditStep | None:
        if self._gesture is not None:
            self.end_gesture()
        if not self._undo:
            return None
        step = self._undo.pop()
        for delta in reversed(step.deltas):
            delta.revert(self.labels)
        self._redo.append(step)
        self._count(step, -1)
        return step

    def redo(self) -> EditStep | None:
        if not self._redo:
            return None
        step = self._redo.pop()
        for delta in step.deltas:
            delta.apply(self.labels)
        self._undo.append(step)
        self._count(step, +1)
        return step

    @property
    def gesture_open(self) -> bool:
        return self._gesture is not None

    def steps(self) -> tuple[list[EditStep], list[EditStep]]:
        """The undo stack (oldest first) and the redo stack (next redo last), for saving."""
        return list(self._undo), list(self._redo)

    def restore_steps(self, undo: list[EditStep], redo: list[EditStep]) -> None:
        """Replace both stacks (from a saved session); the label image must match them."""
        self._undo = deque(undo, maxlen=self._undo.maxlen)
        self._redo = list(redo)
        self._gesture = None
        self.counts = dict.fromkeys(EDIT_KINDS, 0)
        for step in self._undo:
            self._count(step, +1)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._undo) + sum(s.nbytes for s in self._redo)

    def _count(self, step: EditStep, sign: int) -> None:
        if step.kind in self.counts:
            self.counts[step.kind] = max(0, self.counts[step.kind] + sign * step.particle_count())
