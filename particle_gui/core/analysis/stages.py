"""The pipeline's stages as data: one row per stage, one table per segmentation method.

A :class:`Stage` names what it reads of the parameters (its own part of the cache key), which
earlier stage its key chains onto, and how it computes its output from the run's context. The
pipeline (:class:`particle_gui.core.analysis.pipeline.Pipeline`) walks the method's table, reusing each
stage whose chained key is unchanged. Kinds: ``stage`` (a step of its own: progress, cancelling,
listed in ``stages_run``), ``pass`` (listed, no boundary: the network's inference, which reports
tiles itself) and ``cache`` (an internal cache of what a later change leaves unchanged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from particle_gui.core.io.databar import analysis_rows, detect_data_bar
from particle_gui.core.network.dl import predict_probabilities
from particle_gui.core.network.dl_adapt import decoded
from particle_gui.core.statistics.distributions import miles_lantuejoul_weights
from particle_gui.core.network.dl_segment import probability_mask, split_probabilities
from particle_gui.core.analysis.edges import with_half_maximum_sizes
from particle_gui.core.analysis.measure import add_calibrated_columns, add_confidence_column, measure_particles
from particle_gui.core.analysis.suspects import add_suspect_columns
from particle_gui.core.analysis.outliers import replace_outlier_pixels
from particle_gui.core.analysis.preprocess import preprocess
from particle_gui.core.io.scalebar import detect_scale_bar
from particle_gui.core.analysis.clean import FilterLoss, clean_mask_with_losses
from particle_gui.core.analysis.segment import (
    annotation_ids, fill_particle_holes, prepare_split, remove_labels, split_particles, touching_edge_ids,
)
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN, add_shape_columns, shapes_pending
from particle_gui.core.statistics.stats import summarise
from particle_gui.core.analysis.threshold import analyse_histogram, threshold_image


def frozen(array: np.ndarray) -> np.ndarray:
    """The same array, made read-only in place."""
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Region:
    """What the region stage found.

    The data bar, the scale bar, the image with its hot and cold pixels replaced (``outliers`` of
    them), and the half-open row range analysed.
    """

    data_bar: Any
    scale_bar: Any
    grey: np.ndarray
    outliers: int
    rows: tuple[int, int]


@dataclass
class RunContext:
    """One run: its inputs and the outputs of the stages so far (``out[name]``)."""

    image: Any
    params: Any
    pixel_size: float | None
    unit: str
    progress: Callable | None
    should_cancel: Callable[[], bool] | None
    out: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """One row of a stage table (see the module text)."""

    name: str
    reads: Callable[[RunContext], Any]
    compute: Callable[[RunContext], Any]
    after: str | None = ""  # "" = the stage before it; None = nothing (the first stage)
    kind: str = "stage"


def _region(c: RunContext):
    # The data bar and the scale bar are read from the image as it is (a label's "." is a lone pixel);
    # hot and cold pixels are replaced, and counted, in the specimen's rows only.
    grey, replaced = c.image.grey, 0
    hint = c.image.instrument.databar_height_px if c.image.instrument is not None else None
    bar = detect_data_bar(grey, height_hint=hint) if c.params.region.detect_data_bar else None
    scale = detect_scale_bar(grey, bar)
    start, end = analysis_rows(bar, grey.shape[0])
    if c.params.region.remove_outlier_pixels:
        specimen, replaced = replace_outlier_pixels(grey[start:end])
        if replaced:
            grey = grey.copy()
            grey[start:end] = specimen
            grey = frozen(grey)
    return Region(bar, scale, grey, replaced, (start, end))


def _inference(c: RunContext):
    report = None if c.progress is None else (lambda done, total: c.progress("inference", done, total))
    layers = decoded(c.params.dl.adapted_layers) if c.params.dl.adapted_layers else None
    return predict_probabilities(c.out["region"].grey, expected_diameter_px=c.params.dl.expected_diameter_px,
                                 progress=report, should_cancel=c.should_cancel, layers=layers,
                                 intensity_range=c.image.network_intensity_range,
                                 scale_factor=c.params.dl.scale_factor)


def _threshold(c: RunContext):
    top, rows = c.out["region"].rows
    result = threshold_image(c.out["preprocess"], c.params.threshold, analysis_top=top, analysis_rows=rows,
                             analysis=c.out["histogram"])
    frozen(result.mask)
    return result


def _probability_threshold(c: RunContext):
    top, rows = c.out["region"].rows
    return probability_mask(c.out["inference"], c.params.dl.probability, analysis_rows=rows, analysis_top=top)


@dataclass(frozen=True, eq=False)
class Cleaned:
    """The cleaned mask and what each filter removed (see :mod:`particle_gui.core.analysis.clean`)."""

    mask: np.ndarray
    losses: dict[str, FilterLoss]


def _clean(c: RunContext):
    # Holes are filled per particle after the split, not in the mask: the gaps between touching
    # particles are what separates them.
    unfilled = dataclasses.replace(c.params.clean, fill_holes=False)
    mask, losses = clean_mask_with_losses(c.out["threshold"].mask, unfilled, pixel_size_nm=c.pixel_size)
    return Cleaned(frozen(mask), losses)


def _clean_reads(c: RunContext):
    uses_pixel_size = c.pixel_size is not None and c.params.clean.min_area_nm2 > 0
    return c.params.clean, c.pixel_size if uses_pixel_size else None


def _filled(c: RunContext, labels: np.ndarray) -> np.ndarray:
    return frozen(fill_particle_holes(labels) if c.params.clean.fill_holes else labels)


def _split(c: RunContext):
    return _filled(c, split_particles(c.out["clean"].mask, c.params.split, prepared=c.out["split_inputs"]))


def _probability_split(c: RunContext):
    dl = c.params.dl
    return _filled(c, split_probabilities(c.out["clean"].mask, c.out["inference"], c.params.split, dl.probability,
                                          core_level=dl.core_level))


def _edges(c: RunContext):
    """Labels without the objects that are not measurable particles, the edge ids and exclusion counts.

    The edge ids are those of the particles kept that touch an edge; the counts say how many objects
    each exclusion removed.
    """
    split, params = c.out["split"], c.params
    top, rows = c.out["region"].rows
    edge_ids = touching_edge_ids(split, analysis_top=top, analysis_rows=rows)
    none = np.zeros(0, dtype=np.int64)
    # Cut by the data bar (the analysed rows' end where a bar was excluded), then by the border.
    bar_rows = ([top] if top > 0 else []) + ([rows - 1] if rows < split.shape[0] else [])
    at_bar = np.unique(split[bar_rows]) if bar_rows else none
    at_bar = at_bar[at_bar > 0]
    groups = {"data_bar": at_bar if params.edge.exclude_edge else none,
              "edge": edge_ids if params.edge.exclude_edge else none}
    if params.edge.exclude_annotations:
        groups["annotation"] = annotation_ids(split, c.out["region"].grey)
    drop = np.unique(np.concatenate(list(groups.values()))).astype(np.int64)
    removed, counted = {}, np.zeros(0, dtype=np.int64)
    for name, ids in groups.items():  # an object is counted once, under the first exclusion it meets
        removed[name] = int(np.setdiff1d(ids, counted).size)
        counted = np.union1d(counted, ids)
    if drop.size == 0:
        return split, frozen(edge_ids.astype(np.int64)), removed
    labels = remove_labels(split, drop)
    kept = np.unique(labels[np.isin(split, edge_ids) & (labels > 0)]) if not params.edge.exclude_edge else []
    return frozen(labels), frozen(np.asarray(kept, dtype=np.int64)), removed


def _measure(c: RunContext):
    labels, edge_ids, _ = c.out["edge"]
    grey = c.out["region"].grey
    table = measure_particles(labels, grey, edge_ids=edge_ids,
                              intensity_offset=c.image.intensity_offset, intensity_scale=c.image.intensity_scale)
    if c.params.edge.half_maximum_sizes:
        table = with_half_maximum_sizes(table, grey, labels)
    table = add_confidence_column(table, labels, c.out["threshold"].certainty)
    return add_suspect_columns(table, method=c.params.method)


def _shapes(c: RunContext):
    return add_shape_columns(c.out["measure"], c.out["region"].grey, c.out["edge"][0],
                             enabled=c.params.summary.classify_shapes, should_cancel=c.should_cancel)


def _summary(c: RunContext):
    particles = add_calibrated_columns(c.out["shapes"][0], c.pixel_size)
    diameters = particles["ecd_nm"] if c.pixel_size is not None else particles["ecd"]
    return summarise(diameters.to_numpy(), c.params.summary, unit=c.unit, classes=particles[CLASS_COLUMN].to_numpy(),
                     edge_weights=edge_weights(particles, c.out["region"].rows, c.image.shape[1], c.params),
                     nm_per_unit=1.0 if c.pixel_size is not None else None)


def edge_weights(particles, rows: tuple[int, int], width: int, params) -> np.ndarray | None:
    """Miles-Lantuéjoul weights of the particles seen whole in the analysed frame.

    None when particles cut by the edge are kept: they are measured cut, and no weight undoes that.
    """
    if not params.edge.exclude_edge or "bbox_width" not in particles.columns:
        return None
    frame = (float(rows[1] - rows[0]), float(width))
    return miles_lantuejoul_weights(particles["bbox_width"].to_numpy(), particles["bbox_height"].to_numpy(), frame)


def _nothing(c: RunContext) -> None:
    return None


_REGION = Stage("region", lambda c: c.params.region, _region, after=None)
_PREPROCESS = Stage("preprocess", lambda c: c.params.preprocess, lambda c: frozen(preprocess(c.out["region"].grey,
                                                                                           c.params.preprocess)))
_CLEAN = Stage("clean", _clean_reads, _clean)
_EDGE = Stage("edge", lambda c: c.params.edge, _edges)
_MEASURE = Stage("measure", lambda c: c.params.edge.half_maximum_sizes, _measure)
_SHAPES = Stage("shapes", lambda c: c.params.summary.classify_shapes, _shapes, kind="cache")
_SUMMARY = Stage("summary", lambda c: (c.params.summary, c.pixel_size, shapes_pending(c.out["shapes"][0])),
                 _summary, after="measure")

#: The stages of each segmentation method, in order.
TABLES: dict[str, tuple[Stage, ...]] = {
    "classical": (
        _REGION, _PREPROCESS,
        Stage("histogram", _nothing, lambda c: analyse_histogram(c.out["preprocess"], analysis_top=c.out["region"].rows[0],
                                                                 analysis_rows=c.out["region"].rows[1]), kind="cache"),
        Stage("threshold", lambda c: c.params.threshold, _threshold),
        _CLEAN,
        Stage("split_inputs", _nothing, lambda c: prepare_split(c.out["clean"].mask), kind="cache"),
        Stage("split", lambda c: c.params.split, _split),
        _EDGE, _MEASURE, _SHAPES, _SUMMARY,
    ),
    "dl": (
        _REGION, _PREPROCESS,
        Stage("inference", lambda c: (c.params.dl.expected_diameter_px, c.params.dl.scale_factor, c.params.dl.adapted_layers), _inference,
              after="region", kind="pass"),
        Stage("threshold", lambda c: (c.params.method, c.params.dl.probability), _probability_threshold),
        _CLEAN,
        Stage("split", lambda c: (c.params.split, c.params.dl.core_level), _probability_split),
        _EDGE, _MEASURE, _SHAPES, _SUMMARY,
    ),
}

#: The steps progress reports, in order (the same for both methods).
STAGES: tuple[str, ...] = ("region", "preprocess", "threshold", "clean", "split", "edge", "measure", "summary")
