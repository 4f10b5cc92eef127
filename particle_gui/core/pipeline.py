"""The analysis pipeline: ordered stages with a cache, so a parameter change re-runs only what it affects.

Each stage's cache key is the previous stage's key plus the stage's own frozen params (and
the pixel size where a stage uses it). After a change, the stages before the first changed
one are reused as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from particle_gui.core.calibration import Calibration, UNCALIBRATED
from particle_gui.core.databar import DataBar, analysis_rows, detect_data_bar
from particle_gui.core.dl import ProbabilityMaps, predict_probabilities
from particle_gui.core.dl_segment import probability_mask, split_probabilities
from particle_gui.core.errors import CalibrationError, CancelledError
from particle_gui.core.loading import LoadedImage
from particle_gui.core.metadata import PLAUSIBLE_PIXEL_NM, plausible_pixel_nm
from particle_gui.core.measure import (
    add_calibrated_columns, add_confidence_column, large_particle_warning, measure_particles,
)
from particle_gui.core.outliers import replace_outlier_pixels
from particle_gui.core.params import PipelineParams
from particle_gui.core.preprocess import preprocess
from particle_gui.core.scalebar import ScaleBar, detect_scale_bar
from particle_gui.core.segment import (
    annotation_ids, clean_mask, fill_particle_holes, prepare_split, remove_labels, split_particles, touching_edge_ids,
)
from particle_gui.core.shape_classes import (
    CLASS_COLUMN, CONFIDENCE_COLUMN, PENDING, UNCLASSIFIED, add_shape_columns, classify_pending,
    pending_shape_columns, shapes_pending,
)
from particle_gui.core.stats import ClassSummary, Summary, class_summaries, summarise
from particle_gui.core.threshold import HistogramAnalysis, ThresholdResult, analyse_histogram, threshold_image
from particle_gui.core.trust import ImageTrust, assess

STAGES: tuple[str, ...] = ("region", "preprocess", "threshold", "clean", "split", "edge", "measure", "summary")

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False)
class PipelineResult:
    """Everything one run produced. Arrays are read-only: they are shared with the cache.

    Attributes
    ----------
    labels : ndarray of int32, shape (H, W)
        Particles 1..N; 0 = background, and all of the data bar is 0.
    particles : pandas.DataFrame
        One row per particle in ``labels`` (see :func:`measure_particles`).
    summary : Summary
        Statistics of the equivalent circular diameter, in ``calibration.unit``.
    stages_run : tuple of str
        The stages computed in this run (the others came from the cache).
    """

    params: PipelineParams
    calibration: Calibration
    data_bar: DataBar | None
    scale_bar: ScaleBar | None
    analysis_rows: int
    preprocessed: np.ndarray
    threshold: ThresholdResult
    mask: np.ndarray
    labels: np.ndarray
    edge_ids: np.ndarray
    particles: pd.DataFrame
    summary: Summary
    warnings: tuple[str, ...] = field(default=())
    stages_run: tuple[str, ...] = field(default=())
    #: First analysed row (below a data bar at the top of the image).
    analysis_top: int = 0
    #: Hot or cold detector pixels replaced before the analysis.
    outlier_pixels: int = 0
    #: How far the result can be trusted (:mod:`particle_gui.core.trust`).
    trust: ImageTrust | None = None
    #: Objects left out, by exclusion: "edge" (cut by the border or data bar), "annotation"
    #: (burned-in text).
    removed: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return int(len(self.particles))

    @property
    def shapes_pending(self) -> bool:
        """Whether some particles' shape classes are still to come (see :meth:`Pipeline.complete_shapes`)."""
        return shapes_pending(self.particles)


@dataclass(frozen=True, eq=False)
class Region:
    """What the region stage found: the data bar, the scale bar, the image with its hot and cold
    pixels replaced (``outliers`` of them), and the half-open row range analysed."""

    data_bar: DataBar | None
    scale_bar: ScaleBar | None
    grey: np.ndarray
    outliers: int
    rows: tuple[int, int]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


class Pipeline:
    """Runs the stages for one image and keeps the latest output of each stage.

    Parameters
    ----------
    image : LoadedImage

    Examples
    --------
    >>> from particle_gui.core.loading import to_normalised_grey
    >>> yy, xx = np.mgrid[:64, :64]
    >>> grey = (((yy - 32) ** 2 + (xx - 32) ** 2) < 100).astype(np.float32)
    >>> image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0,
    ...                     intensity_scale=1.0, metadata_calibration=None)
    >>> pipeline = Pipeline(image)
    >>> pipeline.run(PipelineParams()).count
    1
    >>> pipeline.run(PipelineParams()).stages_run
    ()
    """

    def __init__(self, image: LoadedImage) -> None:
        self.image = image
        self._cache: dict[str, tuple[Any, Any]] = {}
        #: The last run that left its shape classes pending: its labels and its shapes/summary cache keys.
        self._deferred: tuple[np.ndarray, Any, Any] | None = None

    def _stage(self, name: str, key: Any, compute: Callable[[], Any], ran: list[str]) -> Any:
        cached = self._cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        value = compute()
        self._cache[name] = (key, value)
        ran.append(name)
        return value

    def region(self, params: PipelineParams = PipelineParams()) -> Region:
        """The data bar (if detection is on and one is found), the scale bar and the cleaned image."""
        return self._stage("region", (params.region,), lambda: self._compute_region(params), [])

    def _compute_region(self, params: PipelineParams) -> Region:
        grey, replaced = self.image.grey, 0
        if params.region.remove_outlier_pixels:
            grey, replaced = replace_outlier_pixels(grey)
            grey = _frozen(grey) if replaced else grey
        hint = self.image.instrument.databar_height_px if self.image.instrument is not None else None
        bar = detect_data_bar(grey, height_hint=hint) if params.region.detect_data_bar else None
        return Region(bar, detect_scale_bar(grey, bar), grey, replaced, analysis_rows(bar, grey.shape[0]))

    def clear(self) -> None:
        """Forget every cached stage output."""
        self._cache.clear()

    def run(
        self,
        params: PipelineParams,
        calibration: Calibration = UNCALIBRATED,
        *,
        progress: ProgressCallback | None = None,
        should_cancel: Callable[[], bool] | None = None,
        defer_shapes: bool = False,
    ) -> PipelineResult:
        """Run the pipeline, reusing cached stages whose inputs did not change.

        Parameters
        ----------
        params : PipelineParams
        calibration : Calibration
        progress : callable, optional
            Called as ``progress(stage_name, index, total)`` before each stage, and with method
            ``dl`` as ``progress("inference", tiles_done, tiles_total)`` while the network runs.
        should_cancel : callable, optional
            Checked at every stage boundary; when it returns True, :class:`CancelledError`
            is raised and the cache keeps the stages already computed.
        defer_shapes : bool
            Leave the shape classes "pending" unless they are cached (the GUI shows the result
            at once and then calls :meth:`complete_shapes`).

        Returns
        -------
        PipelineResult

        Raises
        ------
        CalibrationError
            The pixel size is not a plausible microscope calibration (0, negative, not finite,
            or outside :data:`~particle_gui.core.metadata.PLAUSIBLE_PIXEL_NM`).
        CancelledError
            ``should_cancel`` returned True.
        """
        ran: list[str] = []
        pixel_size = calibration.pixel_size_nm
        if pixel_size is not None and not plausible_pixel_nm(pixel_size):
            low, high = PLAUSIBLE_PIXEL_NM
            raise CalibrationError(
                f"The pixel size {pixel_size:g} nm ({calibration.source.replace('_', ' ')}) is not plausible for a "
                f"microscope image (expected {low:g} to {high:g} nm); correct the calibration."
            )

        def boundary(index: int) -> None:
            if should_cancel is not None and should_cancel():
                raise CancelledError("The analysis was cancelled.")
            if progress is not None:
                progress(STAGES[index], index, len(STAGES))

        boundary(0)
        key = (params.region,)
        region = self._stage("region", key, lambda: self._compute_region(params), ran)
        data_bar, scale_bar, grey = region.data_bar, region.scale_bar, region.grey
        top, rows = region.rows

        boundary(1)
        key = (key, params.preprocess)
        pre = self._stage("preprocess", key, lambda: _frozen(preprocess(grey, params.preprocess)), ran)

        boundary(2)
        if params.method == "dl":  # the network's probabilities, once per image; thresholds act on them
            maps = self._stage(
                "inference",
                (params.dl.expected_diameter_px,),
                lambda: self._dl_maps(params, grey, progress, should_cancel),
                ran,
            )
            key = (key, params.method, params.dl)
            thresholded = self._stage(
                "threshold", key, lambda: probability_mask(maps, params.dl.probability, analysis_rows=rows,
                                                  analysis_top=top), ran
            )
        else:
            # Internal caches (not stages of their own): what a threshold or split change leaves unchanged.
            analysis = self._stage("histogram", key, lambda: analyse_histogram(pre, analysis_rows=rows, analysis_top=top), [])
            key = (key, params.threshold)
            thresholded = self._stage("threshold", key, lambda: self._threshold(pre, params, (top, rows), analysis), ran)

        boundary(3)
        # Holes are filled per particle after the split (fill_particle_holes), not in the mask: the
        # gaps between touching particles are what separates them.
        unfilled = dataclasses.replace(params.clean, fill_holes=False)

        def filled(labels: np.ndarray) -> np.ndarray:
            return fill_particle_holes(labels) if params.clean.fill_holes else labels

        uses_pixel_size = pixel_size is not None and params.clean.min_area_nm2 > 0
        key = (key, params.clean, pixel_size if uses_pixel_size else None)
        mask = self._stage(
            "clean", key, lambda: _frozen(clean_mask(thresholded.mask, unfilled, pixel_size_nm=pixel_size)), ran
        )

        boundary(4)
        if params.method == "dl":
            key = (key, params.split)
            split = self._stage(
                "split", key, lambda: _frozen(filled(split_probabilities(mask, maps, params.split, params.dl.probability,
                                                             core_level=params.dl.core_level))), ran
            )
        else:
            prepared = self._stage("split_inputs", key, lambda: prepare_split(mask), [])
            key = (key, params.split)
            split = self._stage("split", key, lambda: _frozen(filled(split_particles(mask, params.split, prepared=prepared))),
                                ran)

        boundary(5)
        key = (key, params.edge)
        labels, edge_ids, removed = self._stage("edge", key, lambda: self._edges(split, params, (top, rows), grey), ran)

        boundary(6)
        key = (key,)
        table_px = self._stage(
            "measure",
            key,
            lambda: add_confidence_column(
                measure_particles(
                    labels,
                    grey,
                    edge_ids=edge_ids,
                    intensity_offset=self.image.intensity_offset,
                    intensity_scale=self.image.intensity_scale,
                ),
                labels,
                thresholded.certainty,
            ),
            ran,
        )
        # Shape classes: an internal cache on top of measure's, so summary changes never re-run the network.
        measured, classify = table_px, params.summary.classify_shapes
        shapes_key = (key, classify)
        cached = self._cache.get("shapes")
        if defer_shapes and classify and len(measured) and (cached is None or cached[0] != shapes_key):
            table_px, shape_warning = pending_shape_columns(measured), None
        else:
            table_px, shape_warning = self._stage(
                "shapes",
                shapes_key,
                lambda: add_shape_columns(measured, grey, labels, enabled=classify,
                                          should_cancel=should_cancel),
                [],
            )
        particles = add_calibrated_columns(table_px, pixel_size)
        pending = shapes_pending(particles)

        boundary(7)
        key = (key, params.summary, pixel_size)
        diameters = particles["ecd_nm"] if pixel_size is not None else particles["ecd"]
        classes = particles[CLASS_COLUMN].to_numpy()
        summary = self._stage(
            "summary",
            (key, pending),
            lambda: summarise(diameters.to_numpy(), params.summary, unit=calibration.unit, classes=classes),
            ran,
        )
        self._deferred = (labels, shapes_key, (key, False)) if pending else None
        warnings = list(self.image.warnings) + list(thresholded.warnings)
        if summary.count == 0:
            warnings.append("No particles were found with these parameters.")
        warnings.extend([shape_warning] if shape_warning else [])
        large = large_particle_warning(table_px["area"].to_numpy(), (rows - top) * self.image.shape[1])
        warnings.extend([large] if large else [])
        trust = assess(particles, warnings, method=params.method)
        warnings.extend([trust.warning()] if trust.reasons else [])
        return PipelineResult(
            params=params,
            calibration=calibration,
            data_bar=data_bar,
            scale_bar=scale_bar,
            analysis_rows=rows,
            analysis_top=top,
            outlier_pixels=region.outliers,
            trust=trust,
            removed=removed,
            preprocessed=pre,
            threshold=thresholded,
            mask=mask,
            labels=labels,
            edge_ids=edge_ids,
            particles=particles,
            summary=summary,
            warnings=tuple(warnings),
            stages_run=tuple(ran),
        )

    def complete_shapes(
        self, result: PipelineResult, *, should_cancel: Callable[[], bool] | None = None
    ) -> PipelineResult:
        """``result`` with its pending shape classes filled in (see ``run(defer_shapes=True)``).

        Works on any result of this image, also one re-labelled afterwards (hand corrections);
        when it is this pipeline's own latest deferred result, the classes are cached, so the
        next run with the same labels has them at once.

        Raises
        ------
        CancelledError
            ``should_cancel`` returned True (checked between batches of particles).
        """
        completed = complete_shapes(result, self.image.grey, should_cancel=should_cancel)
        deferred = self._deferred
        if deferred is not None and deferred[0] is result.labels and completed is not result:
            _, shapes_key, summary_key = deferred
            warning = next((w for w in completed.warnings if w not in result.warnings), None)
            self._cache["shapes"] = (shapes_key, (completed.particles, warning))
            self._cache["summary"] = (summary_key, completed.summary)
            self._deferred = None
        return completed

    @staticmethod
    def _dl_maps(
        params: PipelineParams, grey: np.ndarray, progress: ProgressCallback | None,
        should_cancel: Callable[[], bool] | None,
    ) -> ProbabilityMaps:
        report = None if progress is None else (lambda done, total: progress("inference", done, total))
        return predict_probabilities(
            grey,
            expected_diameter_px=params.dl.expected_diameter_px,
            progress=report,
            should_cancel=should_cancel,
        )

    @staticmethod
    def _threshold(pre: np.ndarray, params: PipelineParams, rows: tuple[int, int],
                   analysis: HistogramAnalysis) -> ThresholdResult:
        result = threshold_image(pre, params.threshold, analysis_top=rows[0], analysis_rows=rows[1], analysis=analysis)
        _frozen(result.mask)
        return result

    @staticmethod
    def _edges(split: np.ndarray, params: PipelineParams, rows: tuple[int, int],
               grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """Labels without the objects that are not measurable particles, the ids of those kept that
        touch an edge, and how many objects each exclusion removed."""
        edge_ids = touching_edge_ids(split, analysis_top=rows[0], analysis_rows=rows[1])
        groups = {"edge": edge_ids if params.edge.exclude_edge else np.zeros(0, dtype=np.int64)}
        if params.edge.exclude_annotations:
            groups["annotation"] = annotation_ids(split, grey)
        drop = np.unique(np.concatenate(list(groups.values()))).astype(np.int64)
        removed, counted = {}, np.zeros(0, dtype=np.int64)
        for name, ids in groups.items():  # an object is counted once, under the first exclusion it meets
            removed[name] = int(np.setdiff1d(ids, counted).size)
            counted = np.union1d(counted, ids)
        if drop.size == 0:
            return split, _frozen(edge_ids.astype(np.int64)), removed
        labels = remove_labels(split, drop)
        kept_edges = np.unique(labels[np.isin(split, edge_ids) & (labels > 0)]) if not params.edge.exclude_edge else []
        return _frozen(labels), _frozen(np.asarray(kept_edges, dtype=np.int64)), removed


def complete_shapes(
    result: PipelineResult, grey: np.ndarray, *, should_cancel: Callable[[], bool] | None = None
) -> PipelineResult:
    """``result`` with its "pending" particles shape-classified and the summary's per-class part
    made again (its fits and intervals depend on the sizes only and are kept). ``result``
    itself when nothing is pending.
    """
    if not result.shapes_pending:
        return result
    particles, warning = classify_pending(result.particles, grey, result.labels, should_cancel=should_cancel)
    summary = _with_class_summaries(result, particles)
    warnings = result.warnings + ((warning,) if warning and warning not in result.warnings else ())
    return dataclasses.replace(result, particles=particles, summary=summary, warnings=warnings,
                               stages_run=(*result.stages_run, "shapes"))


def merge_shapes(result: PipelineResult, classified: PipelineResult) -> PipelineResult:
    """``result`` with its "pending" particles given their classes from ``classified`` (by id).

    For a result edited after its classes were asked for: the particles an edit touched were
    classified again by the edit, so those still pending are the ones ``classified`` saw.
    """
    table = result.particles
    if not result.shapes_pending:
        return result
    source = classified.particles.set_index("id")
    ids = table["id"]
    take = (table[CLASS_COLUMN] == PENDING).to_numpy() & ids.isin(source.index).to_numpy()
    table = table.copy()
    for column in (CLASS_COLUMN, CONFIDENCE_COLUMN):
        table.loc[take, column] = source.loc[ids[take], column].to_numpy()
    warnings = result.warnings + tuple(w for w in classified.warnings if w not in result.warnings)
    return dataclasses.replace(result, particles=table, summary=_with_class_summaries(result, table),
                               warnings=warnings)


def _with_class_summaries(result: PipelineResult, particles: pd.DataFrame) -> Summary:
    """The result's summary with the per-class part made from ``particles`` (the rest depends on sizes only)."""
    return dataclasses.replace(result.summary, shape_classes=particle_class_summaries(result, particles))


def particle_class_summaries(result: PipelineResult, particles: pd.DataFrame | None = None) -> tuple[ClassSummary, ...]:
    """Count, share and D10/D50/D90 per shape class of a particle table (by default the result's,
    so also after hand edits), in the result's unit; () without a class column."""
    table = result.particles if particles is None else particles
    column = "ecd_nm" if result.calibration.pixel_size_nm is not None and "ecd_nm" in table.columns else "ecd"
    if CLASS_COLUMN not in table.columns or column not in table.columns:
        return ()
    diameters = table[column].to_numpy(dtype=np.float64)
    valid = np.isfinite(diameters) & (diameters > 0)
    return class_summaries(diameters[valid], table[CLASS_COLUMN].fillna(UNCLASSIFIED).astype(str).to_numpy()[valid])
