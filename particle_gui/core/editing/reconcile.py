"""Keeping hand corrections when the automatic result is recomputed (pure NumPy, no Qt).

After the user edits and then moves a slider, the new automatic labels must not wipe the edits.
The edits are summarised as a :class:`ManualLayer`: the particles the user made or changed
(locked, kept exactly as drawn) and the pixels the user made background (erased). The new
automatic result is then recomputed *around* them by :func:`reconcile`: automatic particles
lying mostly (by default half or more of their area) under locked or erased pixels are dropped,
the others are clipped, and the locked particles are laid on top with fresh ids.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from particle_gui.core.editing.corrections import table_summary
from particle_gui.core.labels import lookup, particle_boxes
from particle_gui.core.analysis.edges import with_half_maximum_sizes
from particle_gui.core.analysis.measure import add_calibrated_columns, add_confidence_column, measure_particles
from particle_gui.core.analysis.suspects import add_suspect_columns
from particle_gui.core.analysis.pipeline import PipelineResult
from particle_gui.core.analysis.segment import touching_edge_ids
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN, add_shape_columns, pending_shape_columns

#: An automatic particle with at least this fraction of its area under the user's particles or
#: erased pixels is the same object the user already decided about: it is dropped.
DROP_OVERLAP = 0.5


@dataclass(frozen=True, eq=False)
class ManualLayer:
    """What the user decided by hand, independent of the automatic result.

    Attributes
    ----------
    locked : ndarray of int32
        The hand-made or hand-changed particles with their current ids; 0 elsewhere.
    erased : ndarray of bool
        Pixels the user made background (deleted particles, eraser, knife cuts).
    """

    locked: np.ndarray
    erased: np.ndarray

    @property
    def empty(self) -> bool:
        return not self.erased.any() and not self.locked.any()


def manual_layer(labels: np.ndarray, base: np.ndarray, erased_before: np.ndarray | None = None) -> ManualLayer:
    """The manual layer of an edited label image compared with the automatic labels it came from.

    >>> base = np.array([[1, 1, 0, 2, 2]], np.int32)
    >>> edited = np.array([[1, 1, 0, 0, 0]], np.int32)  # particle 2 deleted
    >>> layer = manual_layer(edited, base)
    >>> layer.erased.astype(int).tolist(), int(layer.locked.max())
    ([[0, 0, 0, 1, 1]], 0)
    """
    changed = labels != base
    ids = np.unique(labels[changed])
    ids = ids[ids > 0]
    keep = np.zeros(int(labels.max()) + 1, dtype=bool)
    keep[ids] = True
    locked = np.where(keep[labels], labels, 0).astype(np.int32, copy=False)
    erased = changed & (labels == 0)
    if erased_before is not None:
        erased |= erased_before
    erased &= locked == 0
    return ManualLayer(locked=locked, erased=erased)


def reconcile(auto: np.ndarray, layer: ManualLayer, *, drop_overlap: float = DROP_OVERLAP) -> np.ndarray:
    """New automatic labels with the manual layer laid on top.

    Automatic ids are kept (dropped ones leave gaps), so comparing the result with ``auto``
    finds exactly the hand-made part again; locked particles get ids above ``auto.max()``.

    >>> auto = np.array([[1, 1, 1, 0, 2, 2, 2]], np.int32)
    >>> locked = np.array([[0, 0, 0, 0, 0, 0, 7]], np.int32)
    >>> erased = np.array([[1, 1, 0, 0, 0, 0, 0]], bool)
    >>> reconcile(auto, ManualLayer(locked, erased)).tolist()
    [[0, 0, 0, 0, 2, 2, 3]]
    """
    if layer.empty:
        return auto
    blocked = (layer.locked > 0) | layer.erased
    top = int(auto.max())
    area = np.bincount(auto.ravel(), minlength=top + 1)
    covered = np.bincount(auto[blocked], minlength=top + 1)
    keep = np.arange(top + 1, dtype=np.int32)
    keep[(covered >= drop_overlap * np.maximum(area, 1)) & (covered > 0)] = 0
    keep[0] = 0
    final = lookup(keep, auto)
    final[blocked] = 0
    locked_ids = np.unique(layer.locked)
    locked_ids = locked_ids[locked_ids > 0]
    if locked_ids.size:
        renumber = np.zeros(int(locked_ids.max()) + 1, dtype=np.int32)
        renumber[locked_ids] = np.arange(top + 1, top + 1 + locked_ids.size, dtype=np.int32)
        where = layer.locked > 0
        final[where] = renumber[layer.locked[where]]
    return final


def apply_manual_layer(
    result: PipelineResult, layer: ManualLayer, grey: np.ndarray, *,
    intensity_offset: float = 0.0, intensity_scale: float = 1.0,
) -> PipelineResult:
    """The automatic ``result`` recomputed around the manual layer, measured and summarised."""
    labels = reconcile(result.labels, layer)
    return measure_result(result, labels, grey, intensity_offset=intensity_offset, intensity_scale=intensity_scale,
                          stage="reconcile")


def measure_result(
    result: PipelineResult, labels: np.ndarray, grey: np.ndarray, *,
    intensity_offset: float = 0.0, intensity_scale: float = 1.0, stage: str = "edit",
) -> PipelineResult:
    """``result`` with another label image: every particle measured, edges flagged, summarised."""
    edge_ids = touching_edge_ids(labels, analysis_rows=result.analysis_rows,
                                 analysis_top=result.analysis_top).astype(np.int64)
    particles = measure_particles(labels, grey, edge_ids=edge_ids, intensity_offset=intensity_offset,
                                  intensity_scale=intensity_scale)
    if result.params.edge.half_maximum_sizes:
        particles = with_half_maximum_sizes(particles, grey, labels)
    particles = add_calibrated_columns(particles, result.calibration.pixel_size_nm)
    particles = add_confidence_column(particles, labels, result.threshold.certainty)
    particles = add_suspect_columns(particles, method=result.params.method)
    if result.shapes_pending:  # classified later, with the result's other pending particles
        particles = pending_shape_columns(particles)
    elif CLASS_COLUMN in result.particles.columns:
        particles, _warning = add_shape_columns(particles, grey, labels,
                                                enabled=result.params.summary.classify_shapes)
    summary = table_summary(particles, result)
    frozen = labels.view()
    frozen.flags.writeable = False
    return dataclasses.replace(result, labels=frozen, particles=particles, edge_ids=edge_ids, summary=summary,
                               stages_run=(*result.stages_run, stage), origin=stage)


@dataclass(frozen=True, eq=False)
class Reconciled:
    """What a worker hands over after recomputing around the corrections."""

    auto_labels: np.ndarray
    erased: np.ndarray
    working_labels: np.ndarray
    boxes: dict


@dataclass(frozen=True, eq=False)
class CorrectedRun:
    """A pipeline run's result, with the user's corrections laid over it when there were any."""

    result: PipelineResult
    #: Set when the automatic labels were new and the result was recomputed around the
    #: corrections; None when there were no corrections or they were made on these labels.
    reconciled: Reconciled | None = None


@dataclass(frozen=True, eq=False)
class CorrectionsSnapshot:
    """The user's corrections at the time a pipeline run was requested, applied in the worker.

    Called with the new automatic result: when its labels are the ones the corrections were
    made on (a calibration or summary change), the corrected labels are measured as they are;
    otherwise the result is recomputed around the manual layer (:func:`reconcile`).
    """

    labels: np.ndarray
    base: np.ndarray
    erased: np.ndarray | None
    grey: np.ndarray
    intensity_offset: float = 0.0
    intensity_scale: float = 1.0

    def __call__(self, result: PipelineResult) -> CorrectedRun:
        options = {"intensity_offset": self.intensity_offset, "intensity_scale": self.intensity_scale}
        if result.labels is self.base or np.array_equal(result.labels, self.base):
            return CorrectedRun(measure_result(result, self.labels, self.grey, **options))
        layer = manual_layer(self.labels, self.base, self.erased)
        reconciled = apply_manual_layer(result, layer, self.grey, **options)
        working = np.array(reconciled.labels)  # the editable copy, made here rather than on the GUI thread
        return CorrectedRun(reconciled, Reconciled(result.labels, layer.erased, working, particle_boxes(working)))
