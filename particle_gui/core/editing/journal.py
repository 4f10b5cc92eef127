"""An append-only journal of label edits, for recovery after a crash (pure Python + NumPy).

The autosave writes a checkpoint session (atomically, in the background) and then appends each
edit to a journal file as it happens: a few bytes plus the changed pixels, flushed to the
operating system at once, so killing the process loses nothing already appended. Recovery
reads the checkpoint and replays the journal; a record cut short by the crash is ignored, so
at most the edit being written is lost.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from particle_gui.core.editing.corrections import Corrections
from particle_gui.core.editing.edits import LabelDelta
from particle_gui.core.editing.history import EDIT_KINDS

MAGIC = b"PGJOURNAL1\n"
_RECORD = struct.Struct("<cb4iq")  # op, kind, box (4 x int32), number of changed pixels
APPLY, BEGIN, END, UNDO, REDO = b"A", b"B", b"E", b"U", b"R"


class EditJournal:
    """Appends edit records to ``path``; the file starts with the checkpoint's ``epoch``."""

    def __init__(self, path: str | Path, epoch: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115 (kept open for appends)
        self._file.write(MAGIC + epoch.encode("ascii") + b"\n")
        self._file.flush()

    def apply(self, delta: LabelDelta) -> None:
        kind = EDIT_KINDS.index(delta.kind) if delta.kind in EDIT_KINDS else -1
        header = _RECORD.pack(APPLY, kind, *delta.box, delta.indices.size)
        self._write(header + delta.indices.astype("<i8").tobytes() + delta.old.astype("<i4").tobytes()
                    + delta.new.astype("<i4").tobytes())

    def mark(self, op: bytes) -> None:
        """Record a gesture's begin or end, an undo or a redo."""
        self._write(_RECORD.pack(op, 0, 0, 0, 0, 0, 0))

    def _write(self, data: bytes) -> None:
        if self._file.closed:
            return
        self._file.write(data)
        self._file.flush()  # in the operating system's hands: survives the process being killed

    def close(self) -> None:
        self._file.close()

    def __del__(self) -> None:  # a journal dropped without close() must not leak its file
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()


def read_journal(path: str | Path, epoch: str) -> list[tuple[bytes, LabelDelta | None]]:
    """The complete records of a journal written for ``epoch`` (empty if it belongs to another)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    header = MAGIC + epoch.encode("ascii") + b"\n"
    if not data.startswith(header):
        return []
    records: list[tuple[bytes, LabelDelta | None]] = []
    offset = len(header)
    while offset + _RECORD.size <= len(data):
        op, kind, r0, r1, c0, c1, count = _RECORD.unpack_from(data, offset)
        end = offset + _RECORD.size + count * 16
        if op not in (APPLY, BEGIN, END, UNDO, REDO) or count < 0 or end > len(data):
            break  # cut short by the crash (or damaged): stop at the last complete record
        delta = None
        if op == APPLY:
            start = offset + _RECORD.size
            indices = np.frombuffer(data, "<i8", count, start).astype(np.int64)
            old = np.frombuffer(data, "<i4", count, start + 8 * count).astype(np.int32)
            new = np.frombuffer(data, "<i4", count, start + 12 * count).astype(np.int32)
            delta = LabelDelta((r0, r1, c0, c1), indices, old, new,
                               EDIT_KINDS[kind] if 0 <= kind < len(EDIT_KINDS) else "edit")
        records.append((op, delta))
        offset = end
    return records


def replay(corrections: Corrections, records: list[tuple[bytes, LabelDelta | None]]) -> int:
    """Re-do the journal's records on ``corrections``; returns how many were replayed."""
    for op, delta in records:
        if op == APPLY and delta is not None:
            corrections.apply(delta)
        elif op == BEGIN:
            corrections.begin_gesture()
        elif op == END:
            corrections.end_gesture()
        elif op == UNDO:
            corrections.undo()
        elif op == REDO:
            corrections.redo()
    corrections.end_gesture()
    return len(records)
