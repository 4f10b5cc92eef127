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

from particle_gui.core.analysis.clean import MIN_RELIABLE_ECD_PX, FilterLoss, reliable_min_ecd_px
from particle_gui.core.io.calibration import UNCALIBRATED, Calibration
from particle_gui.core.io.databar import DataBar
from particle_gui.core.errors import CalibrationError, CancelledError
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.analysis.measure import add_calibrated_columns, large_particle_warning
from particle_gui.core.io.metadata import PLAUSIBLE_PIXEL_NM, plausible_pixel_nm
from particle_gui.core.params import PipelineParams
from particle_gui.core.io.scalebar import ScaleBar
from particle_gui.core.analysis.shape_classes import (
    CLASS_COLUMN, CONFIDENCE_COLUMN, PENDING, UNCLASSIFIED, classify_pending, pending_shape_columns, shapes_pending,
)
from particle_gui.core.analysis.stages import STAGES, TABLES, Region, RunContext, Stage
from particle_gui.core.statistics.stats import ClassSummary, Summary, class_summaries
from particle_gui.core.analysis.threshold import ThresholdResult
from particle_gui.core.analysis.trust import ImageTrust, assess

__all__ = ["STAGES", "Pipeline", "PipelineResult", "Region", "complete_shapes", "merge_shapes",
           "particle_class_summaries"]

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
    #: How far the result can be trusted (:mod:`particle_gui.core.analysis.trust`).
    trust: ImageTrust | None = None
    #: What made this result: "pipeline" (a run), "edit" (a hand correction), "reconcile" (a run
    #: with the corrections carried over) or "shapes" (the shape classes arriving).
    origin: str = "pipeline"
    #: Objects left out, by exclusion: "data_bar" (cut by the excluded data bar), "edge" (cut by
    #: the image's border), "annotation" (burned-in text); each object counted once.
    removed: dict[str, int] = field(default_factory=dict)
    #: Objects the clean-up filters removed whole ("opening", "min_area"), with their size range.
    filtered: dict[str, FilterLoss] = field(default_factory=dict)
    #: The smallest equivalent diameter (px) measured reliably with these filters.
    reliable_min_ecd_px: float = MIN_RELIABLE_ECD_PX

    @property
    def count(self) -> int:
        return int(len(self.particles))

    @property
    def shapes_pending(self) -> bool:
        """Whether some particles' shape classes are still to come (see :meth:`Pipeline.complete_shapes`)."""
        return shapes_pending(self.particles)


class Pipeline:
    """Runs the stages for one image and keeps the latest output of each stage.

    The stages are rows of :data:`particle_gui.core.analysis.stages.TABLES`, one table per method; a
    stage's cache key is the key of the stage it chains onto plus what it reads of the params.

    Parameters
    ----------
    image : LoadedImage

    Examples
    --------
    >>> from particle_gui.core.io.loading import to_normalised_grey
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

    def region(self, params: PipelineParams = PipelineParams()) -> Region:
        """The data bar (if detection is on and one is found), the scale bar and the cleaned image."""
        context = RunContext(self.image, params, None, "px", None, None)
        key = (None, TABLES["classical"][0].reads(context))  # as run() keys it: chained onto nothing
        cached = self._cache.get("region")
        if cached is not None and cached[0] == key:
            return cached[1]
        value = TABLES["classical"][0].compute(context)
        self._cache["region"] = (key, value)
        return value

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
            or outside :data:`~particle_gui.core.io.metadata.PLAUSIBLE_PIXEL_NM`).
        CancelledError
            ``should_cancel`` returned True.
        """
        _check_pixel_size(calibration)
        context = RunContext(self.image, params, calibration.pixel_size_nm, calibration.unit, progress, should_cancel)
        keys, ran = self._run_stages(context, defer_shapes=defer_shapes)
        pending = shapes_pending(context.out["shapes"][0])
        self._deferred = (context.out["edge"][0], keys["shapes"], keys["summary"][:1] + ((params.summary,
                          calibration.pixel_size_nm, False),)) if pending else None
        return _result(context, calibration, tuple(ran))

    def labels(self, params: PipelineParams, *, should_cancel: Callable[[], bool] | None = None) -> np.ndarray:
        """The particles' label image only (the stages up to the edge exclusions), for parameter searches.

        Shares the cache with :meth:`run`; nothing is measured or summarised. Pixel-size-dependent
        filters (``clean.min_area_nm2``) are not applied: the labels are those of an uncalibrated run.
        """
        context = RunContext(self.image, params, None, "px", None, should_cancel)
        self._run_stages(context, until="edge")
        return context.out["edge"][0]

    def stage_output(self, name: str) -> Any:
        """The cached output of stage ``name`` from the latest run that computed it (None if none)."""
        cached = self._cache.get(name)
        return None if cached is None else cached[1]

    def _run_stages(self, context: RunContext, *, defer_shapes: bool = False,
                    until: str | None = None) -> tuple[dict[str, Any], list[str]]:
        """Run (or take from the cache) the method's stages, up to ``until`` if given."""
        keys: dict[str, Any] = {}
        ran: list[str] = []
        previous = None
        for stage in TABLES[context.params.method]:
            if stage.kind != "cache":
                self._boundary(stage.name, context.progress, context.should_cancel)
            chain = None if stage.after is None else keys[stage.after or previous]
            keys[stage.name] = (chain, stage.reads(context))
            if stage.name == "shapes" and self._defers(keys["shapes"], defer_shapes, context):
                context.out["shapes"] = (pending_shape_columns(context.out["measure"]), None)
            else:
                context.out[stage.name] = self._cached(stage, keys[stage.name], context, ran)
            previous = stage.name
            if stage.name == until:
                break
        return keys, ran

    def _cached(self, stage: Stage, key: Any, context: RunContext, ran: list[str]) -> Any:
        cached = self._cache.get(stage.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        value = stage.compute(context)
        self._cache[stage.name] = (key, value)
        if stage.kind != "cache":
            ran.append(stage.name)
        return value

    def _defers(self, key: Any, defer: bool, context: RunContext) -> bool:
        """Whether this run leaves the shape classes pending (asked to, and they are not cached)."""
        cached = self._cache.get("shapes")
        classify = context.params.summary.classify_shapes and len(context.out["measure"])
        return bool(defer and classify and (cached is None or cached[0] != key))

    @staticmethod
    def _boundary(name: str, progress: ProgressCallback | None, should_cancel: Callable[[], bool] | None) -> None:
        if should_cancel is not None and should_cancel():
            raise CancelledError("The analysis was cancelled.")
        if progress is not None and name in STAGES:  # the network's pass reports its tiles itself
            progress(name, STAGES.index(name), len(STAGES))

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


def _check_pixel_size(calibration: Calibration) -> None:
    pixel_size = calibration.pixel_size_nm
    if pixel_size is not None and not plausible_pixel_nm(pixel_size):
        low, high = PLAUSIBLE_PIXEL_NM
        raise CalibrationError(
            f"The pixel size {pixel_size:g} nm ({calibration.source.replace('_', ' ')}) is not plausible for a "
            f"microscope image (expected {low:g} to {high:g} nm); correct the calibration."
        )


def _result(context: RunContext, calibration: Calibration, ran: tuple[str, ...]) -> PipelineResult:
    """The run's outputs as one :class:`PipelineResult`, with its warnings and trust."""
    out, image, params = context.out, context.image, context.params
    region, thresholded = out["region"], out["threshold"]
    labels, edge_ids, removed = out["edge"]
    table_px, shape_warning = out["shapes"]
    particles = add_calibrated_columns(table_px, context.pixel_size)
    summary = out["summary"]
    top, rows = region.rows
    warnings = list(image.warnings) + list(thresholded.warnings)
    if summary.count == 0:
        warnings.append("No particles were found with these parameters.")
    warnings.extend([shape_warning] if shape_warning else [])
    large = large_particle_warning(table_px["area"].to_numpy(), (rows - top) * image.shape[1])
    warnings.extend([large] if large else [])
    scale = expected_size_warning(params, table_px["ecd"].to_numpy())
    warnings.extend([scale] if scale else [])
    trust = assess(particles, warnings, method=params.method)
    warnings.extend([trust.warning()] if trust.reasons else [])
    return PipelineResult(
        params=params, calibration=calibration, data_bar=region.data_bar, scale_bar=region.scale_bar,
        analysis_rows=rows, analysis_top=top, outlier_pixels=region.outliers, trust=trust, removed=removed,
        preprocessed=out["preprocess"], threshold=thresholded, mask=out["clean"].mask, labels=labels, edge_ids=edge_ids,
        filtered=out["clean"].losses, reliable_min_ecd_px=reliable_min_ecd_px(params.clean, context.pixel_size),
        particles=particles, summary=summary, warnings=tuple(warnings), stages_run=ran,
    )


#: A network run for an expected diameter that the particles found miss by more than this factor is doubtful.
EXPECTED_SIZE_FACTOR = 2.0


def expected_size_warning(params: PipelineParams, ecd_px: np.ndarray) -> str | None:
    """A warning when the network ran for an expected diameter far from the particles it found.

    A set expected diameter (typed, or learnt by an adapted profile from other images) scales the
    image for the network; on images at another magnification it can make every particle too small
    or too large to be found.

    >>> p = PipelineParams(method="dl").with_value("dl", "expected_diameter_px", 100.0)
    >>> expected_size_warning(p, np.array([20.0, 22.0, 25.0])) is not None
    True
    >>> expected_size_warning(p, np.array([90.0, 110.0])) is None
    True
    """
    expected = params.dl.expected_diameter_px
    if params.method != "dl" or not expected:
        return None
    found = float(np.median(ecd_px)) if len(ecd_px) else float("nan")
    if np.isfinite(found) and 1 / EXPECTED_SIZE_FACTOR <= found / expected <= EXPECTED_SIZE_FACTOR:
        return None
    what = (f"the particles found have a median of {found:.3g} px, more than {EXPECTED_SIZE_FACTOR:g}x off"
            if np.isfinite(found) else "it found none")
    return (f"The network was run for particles of {expected:.3g} px (the expected diameter, typed or from an adapted "
            f"profile) but {what}: this image may be at another magnification. Set the expected diameter to 0 "
            "(estimate it), or adapt to images like this one.")


def complete_shapes(
    result: PipelineResult, grey: np.ndarray, *, should_cancel: Callable[[], bool] | None = None
) -> PipelineResult:
    """``result`` with its "pending" particles shape-classified; ``result`` itself when nothing is pending.

    The summary's per-class part is made again (its fits and intervals depend on the sizes only and
    are kept).
    """
    if not result.shapes_pending:
        return result
    particles, warning = classify_pending(result.particles, grey, result.labels, should_cancel=should_cancel)
    summary = _with_class_summaries(result, particles)
    warnings = result.warnings + ((warning,) if warning and warning not in result.warnings else ())
    return dataclasses.replace(result, particles=particles, summary=summary, warnings=warnings,
                               stages_run=(*result.stages_run, "shapes"), origin="shapes")


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
    """Count, share and D10/D50/D90 per shape class of a particle table, in the result's unit.

    The table is the result's by default (so also after hand edits); () without a class column.
    """
    table = result.particles if particles is None else particles
    column = "ecd_nm" if result.calibration.pixel_size_nm is not None and "ecd_nm" in table.columns else "ecd"
    if CLASS_COLUMN not in table.columns or column not in table.columns:
        return ()
    diameters = table[column].to_numpy(dtype=np.float64)
    valid = np.isfinite(diameters) & (diameters > 0)
    return class_summaries(diameters[valid], table[CLASS_COLUMN].fillna(UNCLASSIFIED).astype(str).to_numpy()[valid])
