"""Session files: an image reference, parameters, calibration, the edited labels and their history.

A session is one compressed NumPy ``.npz`` archive written atomically (temporary file, then
rename), so a crash while saving leaves the previous file intact. It holds:

- ``manifest``: JSON with the format version, the image's path (absolute and relative to the
  session file), its SHA-256, the parameters, the calibration the user set and the edit counts;
- ``labels`` (the corrected label image), ``base`` (the automatic labels the corrections are
  compared with), ``erased`` (pixels the user made background, bit-packed);
- the undo and redo stacks as flat delta arrays, so undo works after reopening.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import particle_gui
from particle_gui.core.editing.edits import LabelDelta
from particle_gui.core.editing.history import EDIT_KINDS, EditStep
from particle_gui.core.errors import ParticleGuiError
from particle_gui.core.output.export import atomic_write_bytes
from particle_gui.core.params import PipelineParams

SESSION_FORMAT = 1
SESSION_SUFFIX = ".pgsession"


class SessionError(ParticleGuiError):
    """A session file is missing, corrupt, from a newer version, or does not fit its image."""


@dataclass
class SessionState:
    """Everything needed to reopen an image exactly as the user left it."""

    image_path: Path
    image_sha256: str
    params: PipelineParams
    labels: np.ndarray
    base: np.ndarray
    erased: np.ndarray | None = None
    undo: list[EditStep] = field(default_factory=list)
    redo: list[EditStep] = field(default_factory=list)
    carried_counts: dict[str, int] = field(default_factory=dict)
    scale_bar_length_px: float | None = None
    scale_bar_length_nm: float | None = None
    manual_pixel_size_nm: float | None = None
    #: Identifies an autosave checkpoint, so that only its own edit journal is replayed on it.
    epoch: str = ""


def file_sha256(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes, as hexadecimal digits; read ``chunk`` bytes at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _pack_steps(undo: list[EditStep], redo: list[EditStep]) -> dict[str, np.ndarray]:
    rows, indices, old, new = [], [], [], []
    for stack, steps in ((0, undo), (1, redo)):
        for step_index, step in enumerate(steps):
            for delta in step.deltas:
                kind = EDIT_KINDS.index(delta.kind) if delta.kind in EDIT_KINDS else -1
                rows.append([stack, step_index, kind, *delta.box, delta.indices.size])
                indices.append(delta.indices)
                old.append(delta.old.astype(np.int32, copy=False))
                new.append(delta.new.astype(np.int32, copy=False))
    cat = (lambda parts, dtype: np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype))
    return {
        "delta_rows": np.asarray(rows, dtype=np.int64).reshape(-1, 8),
        "delta_indices": cat(indices, np.int64),
        "delta_old": cat(old, np.int32),
        "delta_new": cat(new, np.int32),
    }


def _unpack_steps(arrays) -> tuple[list[EditStep], list[EditStep]]:
    rows = arrays["delta_rows"]
    stacks: tuple[dict[int, EditStep], dict[int, EditStep]] = ({}, {})
    offset = 0
    for stack, step_index, kind, r0, r1, c0, c1, count in rows.tolist():
        end = offset + count
        delta = LabelDelta(
            box=(r0, r1, c0, c1),
            indices=arrays["delta_indices"][offset:end],
            old=arrays["delta_old"][offset:end],
            new=arrays["delta_new"][offset:end],
            kind=EDIT_KINDS[kind] if 0 <= kind < len(EDIT_KINDS) else "edit",
        )
        if end > arrays["delta_indices"].size or max(r1 - r0, 0) * max(c1 - c0, 0) <= (
            int(delta.indices.max()) if count else -1
        ):
            raise SessionError("the session's edit history is damaged")
        stacks[stack].setdefault(step_index, EditStep()).deltas.append(delta)
        offset = end
    return [stacks[0][i] for i in sorted(stacks[0])], [stacks[1][i] for i in sorted(stacks[1])]


def save_session(path: str | Path, state: SessionState) -> None:
    """Write ``state`` to ``path`` atomically."""
    path = Path(path)
    image_path = Path(state.image_path).resolve()
    try:
        relative = os.path.relpath(image_path, path.resolve().parent)
    except ValueError:  # another drive on Windows
        relative = None
    manifest: dict[str, Any] = {
        "format": SESSION_FORMAT,
        "app_version": particle_gui.__version__,
        "image": {"path": str(image_path), "relative_path": relative, "sha256": state.image_sha256},
        "params": state.params.to_dict(),
        "calibration": {
            "scale_bar_length_px": state.scale_bar_length_px,
            "scale_bar_length_nm": state.scale_bar_length_nm,
            "manual_pixel_size_nm": state.manual_pixel_size_nm,
        },
        "carried_counts": {k: int(v) for k, v in state.carried_counts.items()},
        "shape": list(state.labels.shape),
        "epoch": state.epoch,
    }
    arrays = {
        "manifest": np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8),
        "labels": np.asarray(state.labels, dtype=np.int32),
        "base": np.asarray(state.base, dtype=np.int32),
        "erased": np.packbits(state.erased if state.erased is not None else np.zeros(state.labels.shape, bool)),
        **_pack_steps(state.undo, state.redo),
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_session(path: str | Path) -> tuple[SessionState, list[str]]:
    """Read a session; returns it and warnings (e.g. the image was found beside the session).

    Raises :class:`SessionError` with a plain message for a missing or damaged file, a newer
    format, or when the image cannot be found.
    """
    path = Path(path)
    if not path.is_file():
        raise SessionError(f"{path}: no such session file.")
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        manifest = json.loads(arrays["manifest"].tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, UnicodeDecodeError) as exc:
        raise SessionError(f"{path}: not a particle_gui session, or the file is damaged ({exc}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format", 0) > SESSION_FORMAT:
        raise SessionError(f"{path}: this session was written by a newer particle_gui; please update.")
    try:
        shape = tuple(manifest["shape"])
        labels, base = arrays["labels"], arrays["base"]
        erased = np.unpackbits(arrays["erased"], count=int(np.prod(shape))).reshape(shape).astype(bool)
        undo, redo = _unpack_steps(arrays)
        params = PipelineParams.from_dict(manifest["params"])
        image_info = manifest["image"]
        calibration = manifest.get("calibration", {})
    except SessionError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, ParticleGuiError) as exc:
        raise SessionError(f"{path}: the session file is damaged ({exc}).") from exc
    if labels.shape != shape or base.shape != shape:
        raise SessionError(f"{path}: the session file is damaged (label images of the wrong size).")
    image_path, warnings = _find_image(path, image_info)
    state = SessionState(
        image_path=image_path, image_sha256=image_info.get("sha256", ""), params=params,
        labels=labels, base=base, erased=erased, undo=undo, redo=redo,
        carried_counts=manifest.get("carried_counts", {}),
        scale_bar_length_px=calibration.get("scale_bar_length_px"),
        scale_bar_length_nm=calibration.get("scale_bar_length_nm"),
        manual_pixel_size_nm=calibration.get("manual_pixel_size_nm"),
        epoch=str(manifest.get("epoch", "")),
    )
    return state, warnings


def _find_image(session_path: Path, info: dict[str, Any]) -> tuple[Path, list[str]]:
    """The session's image: its recorded path, else the same relative place, else beside the session."""
    recorded = Path(info["path"])
    candidates = [recorded]
    if info.get("relative_path"):
        candidates.append(session_path.resolve().parent / info["relative_path"])
    candidates.append(session_path.resolve().parent / recorded.name)
    for candidate in candidates:
        if candidate.is_file():
            warnings = [] if candidate == recorded else [f"The image was not at {recorded}; using {candidate}."]
            expected = info.get("sha256")
            if expected and file_sha256(candidate) != expected:
                raise SessionError(
                    f"{candidate}: this is not the image the session was made on (its content changed: "
                    "SHA-256 differs). The corrections cannot be applied to another image."
                )
            return candidate, warnings
    raise SessionError(f"The session's image {recorded.name} was not found (looked at {recorded} and beside "
                       f"{session_path.name}).")
