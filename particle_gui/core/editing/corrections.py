"""The hand-corrected label image of one result, re-measured incrementally (pure NumPy, no Qt).

:class:`Corrections` owns the edited label image (the single source of truth once the user has
edited), its undo history and a bounding box per particle. After an edit or an undo only the
particles the edit touched are measured again (:func:`remeasure`), inside the union of their
boxes, and the summary is recomputed from the updated table.
"""

from __future__ import annotations

import dataclasses
import numpy as np
import pandas as pd
from scipy import ndimage

from particle_gui.core.analysis.stages import edge_weights
from particle_gui.core.editing.edits import LabelDelta
from particle_gui.core.editing.history import DEFAULT_UNDO_STEPS, EDIT_KINDS, EditHistory, EditStep
from particle_gui.core.labels import Box, particle_boxes, union_box
from particle_gui.core.analysis.edges import RING_PX, with_half_maximum_sizes
from particle_gui.core.analysis.measure import add_calibrated_columns, add_confidence_column, measure_particles
from particle_gui.core.analysis.suspects import add_suspect_columns
from particle_gui.core.analysis.pipeline import PipelineResult
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN, add_shape_columns
from particle_gui.core.statistics.stats import Summary, summarise

class Corrections:
    """Edited labels of one image, their undo history, and what was changed by hand.

    Parameters
    ----------
    labels : ndarray of int
        The label image to edit; copied (the result's arrays are read-only).
    base : ndarray of int, optional
        The automatic labels the edits are compared with to find hand-edited particles
        (defaults to ``labels`` as given). Read-only; kept by reference.
    erased : ndarray of bool, optional
        Pixels the user made background before this object was created (carried over when
        the automatic result is recomputed around the corrections).
    carried_counts : dict, optional
        Hand-edit counts from before (also carried over).
    """

    def __init__(
        self,
        labels: np.ndarray,
        *,
        base: np.ndarray | None = None,
        erased: np.ndarray | None = None,
        carried_counts: dict[str, int] | None = None,
        max_steps: int = DEFAULT_UNDO_STEPS,
        copy: bool = True,
        boxes: dict[int, Box] | None = None,
        initial: np.ndarray | None = None,
    ) -> None:
        self.base = labels if base is None else base
        #: The labels as they were before this object's edits, never changed (for checkpoints).
        self.initial = labels if initial is None else initial
        # ``copy=False`` takes over a writable int32 array nobody else changes.
        self.labels = np.array(labels, dtype=np.int32, copy=True) if copy else labels
        self.erased = erased
        self.carried_counts = dict.fromkeys(EDIT_KINDS, 0) | dict(carried_counts or {})
        self.history = EditHistory(self.labels, max_steps=max_steps)
        self.boxes = particle_boxes(self.labels) if boxes is None else dict(boxes)
        #: Increases with every change of :attr:`labels` (edit, undo, redo).
        self.version = 0

    # --- editing ------------------------------------------------------------------------------

    def apply(self, delta: LabelDelta) -> np.ndarray:
        """Apply one delta (inside an open gesture, if any); returns the particle ids it touched."""
        if delta.empty:
            return np.zeros(0, np.int64)
        self.history.apply(delta)
        return self._changed([delta])

    def begin_gesture(self) -> None:
        self.history.begin_gesture()

    def end_gesture(self) -> EditStep | None:
        return self.history.end_gesture()

    def undo(self) -> tuple[EditStep, np.ndarray] | None:
        """Undo the last step; returns it and the ids it touched, or None when there is none."""
        step = self.history.undo()
        return None if step is None else (step, self._changed(step.deltas))

    def redo(self) -> tuple[EditStep, np.ndarray] | None:
        step = self.history.redo()
        return None if step is None else (step, self._changed(step.deltas))

    def next_id(self) -> int:
        return (max(self.boxes) if self.boxes else 0) + 1

    @property
    def counts(self) -> dict[str, int]:
        """Particles deleted, merged, split, added and strokes painted/erased by hand, in total."""
        return {kind: self.carried_counts.get(kind, 0) + self.history.counts.get(kind, 0) for kind in EDIT_KINDS}

    @property
    def has_edits(self) -> bool:
        return self.history.can_undo or any(self.carried_counts.values()) or (
            self.erased is not None and bool(self.erased.any())
        )

    def _changed(self, deltas: list[LabelDelta]) -> np.ndarray:
        """Update the boxes of the ids these deltas touched; returns those ids.

        Their pixels moved only inside the deltas' boxes and their old boxes.
        """
        self.version += 1
        ids = np.unique(np.concatenate([d.touched_ids() for d in deltas])).astype(np.int64)
        if ids.size == 0:
            return ids
        window = union_box([d.box for d in deltas] + [self.boxes.get(int(i)) for i in ids])
        r0, _, c0, _ = window
        sub = self.labels[window[0]:window[1], window[2]:window[3]]
        found = ndimage.find_objects(sub, max_label=int(ids.max()))
        for i in ids.tolist():
            hit = found[i - 1]
            if hit is None:
                self.boxes.pop(i, None)
            else:
                rows, cols = hit
                self.boxes[i] = (rows.start + r0, rows.stop + r0, cols.start + c0, cols.stop + c0)
        return ids


def _measure_ids(
    labels: np.ndarray, ids: np.ndarray, boxes: dict[int, Box], grey: np.ndarray, *,
    intensity_offset: float, intensity_scale: float, analysis_rows: int, analysis_top: int = 0,
    half_maximum: bool = False,
) -> pd.DataFrame:
    """Measurements of the given particles, computed inside the union of their boxes.

    With ``half_maximum``, area and ECD at half maximum, from a window grown by the background
    ring's reach (as the run measures them).
    """
    present = [int(i) for i in ids if int(i) in boxes]
    window = union_box([boxes[i] for i in present])
    if window is None:
        return measure_particles(np.zeros((1, 1), np.int32), np.zeros((1, 1), np.float32))
    r0, r1, c0, c1 = window
    sub = labels[r0:r1, c0:c1]
    keep = np.zeros(int(sub.max()) + 1, dtype=bool)
    keep[[i for i in present if i < keep.size]] = True
    sub = np.where(keep[sub], sub, 0)
    table = measure_particles(sub, grey[r0:r1, c0:c1], intensity_offset=intensity_offset,
                              intensity_scale=intensity_scale)
    table["centroid_x"] += c0
    table["centroid_y"] += r0
    if half_maximum:
        reach = RING_PX[1] + 2
        h0, h1 = max(r0 - reach, 0), min(r1 + reach, labels.shape[0])
        w0, w1 = max(c0 - reach, 0), min(c1 + reach, labels.shape[1])
        table = with_half_maximum_sizes(table, grey[h0:h1, w0:w1], labels[h0:h1, w0:w1])
    height, width = labels.shape
    bottom = min(analysis_rows, height)
    box = np.array([boxes[int(i)] for i in table["id"]], dtype=np.int64).reshape(-1, 4)
    table["touches_edge"] = (box[:, 0] <= analysis_top) | (box[:, 1] >= bottom) | (box[:, 2] == 0) | (box[:, 3] >= width)
    return table


def _shape_columns(fresh: pd.DataFrame, labels: np.ndarray, grey: np.ndarray, boxes: dict[int, Box],
                   enabled: bool) -> pd.DataFrame:
    """Shape classes of the re-measured particles, classified inside a padded window around them."""
    window = union_box([boxes[int(i)] for i in fresh["id"]])
    r0, r1, c0, c1 = window
    pad = max(r1 - r0, c1 - c0) // 2 + 8
    height, width = labels.shape
    r0, r1, c0, c1 = max(r0 - pad, 0), min(r1 + pad, height), max(c0 - pad, 0), min(c1 + pad, width)
    classified, _warning = add_shape_columns(fresh, grey[r0:r1, c0:c1], labels[r0:r1, c0:c1], enabled=enabled)
    return classified


def table_summary(particles: pd.DataFrame, result: PipelineResult, *, fits: bool = True) -> Summary:
    """The summary of a particle table in the result's unit (with shape classes when present)."""
    column = "ecd_nm" if result.calibration.pixel_size_nm is not None else "ecd"
    classes = particles[CLASS_COLUMN].to_numpy() if CLASS_COLUMN in particles else None
    weights = edge_weights(particles, (result.analysis_top, result.analysis_rows), result.labels.shape[1],
                           result.params)
    return summarise(particles[column].to_numpy(dtype=np.float64), result.params.summary,
                     unit=result.calibration.unit, classes=classes, fits=fits, edge_weights=weights,
                     nm_per_unit=1.0 if result.calibration.pixel_size_nm is not None else None)


def remeasure(
    result: PipelineResult,
    corrections: Corrections,
    touched: np.ndarray,
    grey: np.ndarray,
    *,
    intensity_offset: float = 0.0,
    intensity_scale: float = 1.0,
    summary_fits: bool = True,
) -> PipelineResult:
    """The result after an edit: the touched particles measured (and shape-classified) again, the rest kept.

    With ``summary_fits=False`` the summary's counts and percentiles are new and its costly parts
    (bootstrap intervals, log-normal fit, families) are the previous ones, to be replaced by a full
    :func:`table_summary` a moment later.
    """
    touched = np.asarray(touched, dtype=np.int64)
    table = result.particles
    kept = table[~np.isin(table["id"].to_numpy(), touched)]
    fresh = _measure_ids(corrections.labels, touched, corrections.boxes, grey, intensity_offset=intensity_offset,
                         intensity_scale=intensity_scale, analysis_rows=result.analysis_rows,
                         analysis_top=result.analysis_top, half_maximum=result.params.edge.half_maximum_sizes)
    fresh = add_calibrated_columns(fresh, result.calibration.pixel_size_nm)
    if "confidence" in table.columns and len(fresh):
        fresh = add_confidence_column(fresh, corrections.labels, result.threshold.certainty)
    if "suspect" in table.columns and len(fresh):
        fresh = add_suspect_columns(fresh, method=result.params.method)
    if CLASS_COLUMN in table.columns and len(fresh):
        fresh = _shape_columns(fresh, corrections.labels, grey, corrections.boxes,
                               result.params.summary.classify_shapes)
    parts = [part for part in (kept, fresh) if len(part)]
    if parts:
        particles = pd.concat(parts, ignore_index=True).sort_values("id", kind="stable").reset_index(drop=True)
        particles = particles[list(table.columns) + [c for c in particles.columns if c not in table.columns]]
        if "suspect" in table.columns:  # relative to the image's median size: every particle again
            particles = add_suspect_columns(particles, method=result.params.method)
    else:
        particles = table.iloc[0:0]
    edge_ids = particles.loc[particles["touches_edge"].astype(bool), "id"].to_numpy(np.int64)
    summary = table_summary(particles, result, fits=summary_fits)
    if not summary_fits:
        previous = result.summary
        summary = dataclasses.replace(summary, mean_ci95=previous.mean_ci95, d50_ci95=previous.d50_ci95,
                                      lognormal=previous.lognormal, families=previous.families)
    labels = corrections.labels.view()
    labels.flags.writeable = False
    return dataclasses.replace(result, labels=labels, particles=particles, edge_ids=edge_ids, summary=summary,
                               stages_run=("edit",), origin="edit")
