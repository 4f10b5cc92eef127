"""Autosave of hand corrections to a recovery folder, so a crash or a kill loses at most one edit.

For each image with corrections there is a checkpoint session (written atomically in a
background thread when the corrections start or are recomputed around new parameters) and an
edit journal appended to synchronously at every edit, undo and redo (see
:mod:`particle_gui.core.editing.journal`). A clean save of the session, or discarding the corrections,
removes both. Files left at start-up are what a crash left behind: the window offers them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from pathlib import Path

import numpy as np

from particle_gui.core.editing.edits import LabelDelta
from particle_gui.core.editing.history import EditStep
from particle_gui.core.editing.journal import EditJournal
from particle_gui.core.editing.session import SESSION_SUFFIX, SessionState, file_sha256, save_session
from particle_gui.core.document import ImageDocument
from particle_gui.paths import config_dir

log = logging.getLogger(__name__)
JOURNAL_SUFFIX = ".journal"


def recovery_dir() -> Path:
    """The folder of the autosave checkpoints and journals, in the config folder."""
    return config_dir() / "recovery"


def pending_recoveries(folder: Path | None = None) -> list[Path]:
    """Checkpoint sessions left in the recovery folder (newest first)."""
    folder = folder or recovery_dir()
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"*{SESSION_SUFFIX}") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def journal_for(checkpoint: Path) -> Path:
    """The edit journal that goes with a checkpoint session file."""
    return checkpoint.with_suffix(JOURNAL_SUFFIX)


class Autosaver:
    """Keeps one checkpoint and one journal per document with corrections."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or recovery_dir()
        self._journals: dict[int, EditJournal] = {}
        self._threads: list[threading.Thread] = []
        self.last_error: str | None = None

    def _key(self, document: ImageDocument) -> str:
        return hashlib.sha1(str(document.path.resolve()).encode("utf-8")).hexdigest()[:16]

    def checkpoint_path(self, document: ImageDocument) -> Path:
        return self.folder / f"{self._key(document)}{SESSION_SUFFIX}"

    def checkpoint(self, document: ImageDocument, labels: np.ndarray, undo: list[EditStep],
                   redo: list[EditStep]) -> None:
        """Start a new epoch: write the state in the background and start a fresh journal.

        The journal is for the edits that follow; ``labels`` must not change afterwards.
        """
        corrections = document.corrections
        if corrections is None:
            return
        epoch = uuid.uuid4().hex
        path = self.checkpoint_path(document)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._close(document)
            self._journals[id(document)] = EditJournal(journal_for(path), epoch)
        except OSError as exc:
            self._failed(exc)
            return
        calibration = (document.scale_bar_length_px, document.scale_bar_length_nm, document.manual_pixel_size_nm)
        state = SessionState(
            image_path=document.path, image_sha256=document.image_sha256 or "", params=document.params,
            labels=labels, base=corrections.base, erased=corrections.erased, undo=list(undo), redo=list(redo),
            carried_counts=dict(corrections.carried_counts), scale_bar_length_px=calibration[0],
            scale_bar_length_nm=calibration[1], manual_pixel_size_nm=calibration[2], epoch=epoch,
        )

        def write() -> None:
            try:
                if not state.image_sha256:
                    state.image_sha256 = document.image_sha256 = file_sha256(document.path)
                save_session(path, state)
            except Exception as exc:  # noqa: BLE001 (a failed autosave must never stop the editing)
                self._failed(exc)

        thread = threading.Thread(target=write, name="autosave", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def record(self, document: ImageDocument, delta: LabelDelta | None = None, op: bytes | None = None) -> None:
        """Append an applied delta, or a mark (gesture begin/end, undo, redo), to the journal."""
        journal = self._journals.get(id(document))
        if journal is None:
            return
        try:
            journal.apply(delta) if delta is not None else journal.mark(op)
        except OSError as exc:
            self._failed(exc)

    def clear(self, document: ImageDocument) -> None:
        """Forget the recovery files of a document (saved as a session, or corrections discarded)."""
        self.wait()
        self._close(document)
        path = self.checkpoint_path(document)
        for file in (path, journal_for(path)):
            try:
                file.unlink(missing_ok=True)
            except OSError as exc:
                self._failed(exc)

    def wait(self, timeout: float = 30.0) -> None:
        """Let checkpoint writes finish (tests, shutdown)."""
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def close(self) -> None:
        """Finish pending writes and close every journal (the files stay for recovery)."""
        self.wait()
        for journal in self._journals.values():
            journal.close()
        self._journals.clear()

    def _close(self, document: ImageDocument) -> None:
        journal = self._journals.pop(id(document), None)
        if journal is not None:
            journal.close()

    def _failed(self, exc: BaseException) -> None:
        self.last_error = f"Autosave failed: {exc}"
        log.warning("autosave failed", exc_info=exc)
