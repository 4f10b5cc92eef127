"""Particle shape classes from a small CNN, run with onnxruntime.

Six classes: round, elongated (rods, wires), square (cubes), triangle, hexagon (and other
faceted outlines), irregular (lumpy, agglomerated). The network sees one scale-normalised
crop per particle (:func:`particle_gui.core.analysis.shape_crops.particle_crops`: the grey image and
the particle's own mask) and was trained on synthetic silhouettes only (``training/shapes``).

The model (``particle_gui/models/shape_classifier.onnx`` with a JSON beside it) is loaded on
first use and kept. A missing or unreadable model raises :class:`ShapeModelError`;
:func:`add_shape_columns` turns that into an "unclassified" column and a warning, so the rest
of an analysis never depends on it. Nothing is downloaded.

Classification can wait: :func:`pending_shape_columns` marks every particle "pending" (the
GUI shows a result at once and classifies a moment later) and :func:`classify_pending`
classifies the pending ones. Particles are classified in batches of :data:`CLASSIFY_BATCH`, so
the crops' memory stays small and a run can be cancelled between batches.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from particle_gui.core.errors import CancelledError, ShapeModelError
from particle_gui.core.analysis.shape_crops import object_slices, particle_crops, present_ids

SHAPE_CLASSES: tuple[str, ...] = ("round", "elongated", "square", "triangle", "hexagon", "irregular")
UNCLASSIFIED = "unclassified"
#: The class of a particle whose classification is still to come (see :func:`pending_shape_columns`).
PENDING = "pending"
#: Particles cropped and classified at a time.
CLASSIFY_BATCH = 64
#: Columns added to the particle table.
CLASS_COLUMN = "shape_class"
CONFIDENCE_COLUMN = "shape_confidence"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "shape_classifier.onnx"

_lock = threading.Lock()
_loaded: dict[tuple[str, float], ShapeModel] = {}


@dataclass(frozen=True, eq=False)
class ShapeModel:
    """A loaded classifier: the onnxruntime session and what its JSON says about it."""

    path: Path
    session: Any
    classes: tuple[str, ...]
    crop_size: int
    crop_fill: float
    input_name: str

    def predict(self, crops: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities, float32 of shape (N, len(classes)), for crops (N, S, S, 2)."""
        out = np.zeros((len(crops), len(self.classes)), dtype=np.float32)
        for start in range(0, len(crops), batch_size):
            batch = np.ascontiguousarray(crops[start : start + batch_size], dtype=np.float32)
            out[start : start + len(batch)] = self.session.run(None, {self.input_name: batch})[0]
        return out


@dataclass(frozen=True)
class ShapeClassification:
    """Per-particle classes: ``ids[i]`` is ``classes[i]`` with probability ``confidence[i]``."""

    ids: np.ndarray
    classes: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray


def load_shape_model(path: str | Path | None = None) -> ShapeModel:
    """Load (once per file and modification time) the ONNX classifier and its JSON.

    Raises
    ------
    ShapeModelError
        The model or its JSON is missing or unreadable, or onnxruntime is not installed;
        the message says which and what still works.
    """
    path = Path(path) if path is not None else DEFAULT_MODEL_PATH
    try:
        stamp = path.stat().st_mtime
    except OSError:
        raise ShapeModelError(
            f"The shape classifier model is missing ({path}); particles are left unclassified. "
            "Reinstall particle_gui to restore it; sizes and all other measurements are unaffected."
        ) from None
    with _lock:
        model = _loaded.get((str(path), stamp))
        if model is None:
            model = _loaded[(str(path), stamp)] = _load(path)
        return model


def _load(path: Path) -> ShapeModel:
    what = "particles are left unclassified; sizes and all other measurements are unaffected"
    meta_path = path.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        classes = tuple(str(c) for c in meta["classes"])
        crop_size, crop_fill = int(meta["crop_size"]), float(meta["crop_fill"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ShapeModelError(
            f"The shape classifier's description {meta_path} is missing or unreadable ({exc}); {what}."
        ) from exc
    try:
        import onnxruntime
    except ImportError as exc:
        raise ShapeModelError(f"Shape classes need the onnxruntime package, which is not installed; {what}.") from exc
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 2
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own (non-exported) exception types
        raise ShapeModelError(
            f"The shape classifier model {path} is corrupt or not an ONNX model ({exc}); {what}."
        ) from exc
    inputs, outputs = session.get_inputs(), session.get_outputs()
    shape_in, shape_out = list(inputs[0].shape), list(outputs[0].shape)
    if len(inputs) != 1 or shape_in[1:] != [crop_size, crop_size, 2] or shape_out[-1] != len(classes):
        raise ShapeModelError(f"The shape classifier model {path} does not match its description {meta_path}; {what}.")
    return ShapeModel(path, session, classes, crop_size, crop_fill, inputs[0].name)


def classify_particles(
    image_grey: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray | None = None,
    *,
    model: ShapeModel | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ShapeClassification:
    """Classify every particle of a label image by shape.

    Parameters
    ----------
    image_grey : ndarray of float, shape (H, W)
    labels : ndarray of int, shape (H, W)
        0 = background, particles 1..N (gaps allowed).
    ids : ndarray of int, optional
        The particles to classify, in this order; by default all, ascending.
    model : ShapeModel, optional
        By default the bundled model (:func:`load_shape_model`).
    should_cancel : callable, optional
        Checked before each batch of :data:`CLASSIFY_BATCH` particles.

    Returns
    -------
    ShapeClassification

    Raises
    ------
    ShapeModelError
        The model is missing or unreadable.
    CancelledError
        ``should_cancel`` returned True.

    Examples
    --------
    >>> yy, xx = np.mgrid[:80, :80]
    >>> labels = (((yy - 40) ** 2 + (xx - 40) ** 2) < 400).astype(np.int32)
    >>> classify_particles(labels.astype(np.float32), labels).classes.tolist()
    ['round']
    """
    model = model if model is not None else load_shape_model()
    slices = object_slices(labels)
    ids = present_ids(slices) if ids is None else np.asarray(ids, dtype=np.int64).ravel()
    probabilities = np.zeros((len(ids), len(model.classes)), np.float32)
    for start in range(0, len(ids), CLASSIFY_BATCH):
        if should_cancel is not None and should_cancel():
            raise CancelledError("The shape classification was cancelled.")
        batch = ids[start : start + CLASSIFY_BATCH]
        _, crops = particle_crops(image_grey, labels, batch, size=model.crop_size, fill=model.crop_fill, slices=slices)
        probabilities[start : start + len(batch)] = model.predict(crops)
    best = probabilities.argmax(axis=1) if len(ids) else np.zeros(0, np.int64)
    names = np.array(model.classes, dtype=object)[best] if len(ids) else np.zeros(0, dtype=object)
    confidence = probabilities[np.arange(len(ids)), best] if len(ids) else np.zeros(0, np.float32)
    return ShapeClassification(ids, names, confidence.astype(np.float64), probabilities)


def add_shape_columns(
    table: pd.DataFrame,
    image_grey: np.ndarray,
    labels: np.ndarray,
    *,
    enabled: bool = True,
    model: ShapeModel | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """The particle table with ``shape_class`` and ``shape_confidence`` columns (a new table).

    Never raises for a model problem: the class is then "unclassified", the confidence NaN,
    and the second value is a warning to show. With ``enabled=False`` the columns are added
    the same way ("unclassified") without running the model, and there is no warning.

    >>> labels = np.zeros((30, 30), np.int32); labels[5:25, 5:25] = 1
    >>> table = pd.DataFrame({"id": [1]})
    >>> add_shape_columns(table, labels.astype(np.float32), labels, enabled=False)[0]["shape_class"].tolist()
    ['unclassified']
    """
    table = table.copy()
    ids = table["id"].to_numpy(np.int64) if "id" in table else np.zeros(0, np.int64)
    classes = np.full(len(table), UNCLASSIFIED, dtype=object)
    confidence = np.full(len(table), np.nan)
    warning = None
    if enabled and len(ids):
        try:
            result = classify_particles(image_grey, labels, ids, model=model, should_cancel=should_cancel)
            classes, confidence = result.classes, result.confidence
        except ShapeModelError as exc:
            warning = str(exc)
    table[CLASS_COLUMN] = pd.Series(classes, index=table.index, dtype=object)
    table[CONFIDENCE_COLUMN] = pd.Series(confidence, index=table.index, dtype=np.float64)
    return table, warning


def pending_shape_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The particle table with every particle's class "pending" (a new table); see :func:`classify_pending`."""
    table = table.copy()
    table[CLASS_COLUMN] = pd.Series(PENDING, index=table.index, dtype=object)
    table[CONFIDENCE_COLUMN] = pd.Series(np.nan, index=table.index, dtype=np.float64)
    return table


def shapes_pending(table: pd.DataFrame) -> bool:
    """Whether some particle of the table still waits for its class."""
    return CLASS_COLUMN in table.columns and bool((table[CLASS_COLUMN] == PENDING).any())


def classify_pending(
    table: pd.DataFrame,
    image_grey: np.ndarray,
    labels: np.ndarray,
    *,
    model: ShapeModel | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """The table with its "pending" particles classified (a new table; the others are kept).

    Like :func:`add_shape_columns`, never raises for a model problem ("unclassified" and a
    warning); raises :class:`CancelledError` when ``should_cancel`` returns True.

    >>> labels = np.zeros((30, 30), np.int32); labels[5:25, 5:25] = 1
    >>> table = pending_shape_columns(pd.DataFrame({"id": [1]}))
    >>> shapes_pending(table), shapes_pending(classify_pending(table, labels.astype(np.float32), labels)[0])
    (True, False)
    """
    table = table.copy()
    waiting = (table[CLASS_COLUMN] == PENDING).to_numpy() if CLASS_COLUMN in table.columns else np.zeros(0, bool)
    if not waiting.any():
        return table, None
    classified, warning = add_shape_columns(table.loc[waiting, ["id"]], image_grey, labels, model=model,
                                            should_cancel=should_cancel)
    table.loc[waiting, CLASS_COLUMN] = classified[CLASS_COLUMN].to_numpy()
    table.loc[waiting, CONFIDENCE_COLUMN] = classified[CONFIDENCE_COLUMN].to_numpy()
    return table, warning


def class_order(names: np.ndarray | list[str]) -> list[str]:
    """The class names present, in :data:`SHAPE_CLASSES` order, then any others (e.g. unclassified)."""
    present = {str(n) for n in names}
    return [c for c in SHAPE_CLASSES if c in present] + sorted(present - set(SHAPE_CLASSES))
