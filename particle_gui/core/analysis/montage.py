"""Montages of any size: analysed in overlapping tiles and stitched, each particle counted once.

The image is cut into a grid of *cores* (``tile_px`` square); each core is analysed inside a
*window* that reaches ``overlap_px`` further on every side, so that a particle crossing a seam is
seen whole by at least one window when it is narrower than the overlap. A window's particle is
kept when it does not touch the window's inner border (the image's own border is not inner),
its centroid lies in the window's core (give or take :data:`SEAM_TOLERANCE_PX`), and it is not
already placed by an earlier window (half its pixels or more taken): one outline per particle,
measured whole in the window that owns it. Labels go to a :class:`LabelStore` on disk, so memory
is bounded by the window, not the image.

Everything that the whole image decides is decided once, before the tiles: the intensity range
(:mod:`~particle_gui.core.io.montage_source`), the global threshold and polarity (on an overview of
the preprocessed montage) and, for the network, the scale (from the central window), so that the
tiles agree where they overlap.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from particle_gui.core.analysis.clean import FilterLoss, reliable_min_ecd_px
from particle_gui.core.analysis.measure import add_calibrated_columns
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.analysis.preprocess import preprocess
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN
from particle_gui.core.analysis.stages import edge_weights
from particle_gui.core.analysis.threshold import HISTOGRAM_SIDE, threshold_image
from particle_gui.core.analysis.trust import ImageTrust, assess
from particle_gui.core.errors import CancelledError
from particle_gui.core.io.calibration import Calibration
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.io.montage_source import MontageSource
from particle_gui.core.network.dl import load_model
from particle_gui.core.network.dl_scale import intensity_range
from particle_gui.core.params import DEFAULT_OVERLAP_PX, DEFAULT_TILE_PX, PipelineParams
from particle_gui.core.statistics.stats import Summary, summarise

#: A particle whose centroid lies this close outside a core is still taken by that core's window
#: when no earlier window placed it (two windows may put a centroid on a seam a fraction apart).
SEAM_TOLERANCE_PX = 2.0

#: ``progress(tiles_done, tiles_total)``.
TileProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Tile:
    """One tile: its core and its window, each ``(top, bottom, left, right)`` in image pixels."""

    core: tuple[int, int, int, int]
    window: tuple[int, int, int, int]


def plan_tiles(shape: tuple[int, int], *, tile_px: int = DEFAULT_TILE_PX,
               overlap_px: int = DEFAULT_OVERLAP_PX) -> list[Tile]:
    """The tiles of an image, row by row.

    >>> [t.core for t in plan_tiles((100, 250), tile_px=100, overlap_px=20)]
    [(0, 100, 0, 100), (0, 100, 100, 200), (0, 100, 200, 250)]
    >>> plan_tiles((100, 250), tile_px=100, overlap_px=20)[1].window
    (0, 100, 80, 220)
    """
    if tile_px < 64 or overlap_px < 0:
        raise ValueError(f"tiles must be at least 64 px (got {tile_px}) and the overlap not negative (got {overlap_px})")
    height, width = shape
    tiles = []
    for top in range(0, height, tile_px):
        for left in range(0, width, tile_px):
            bottom, right = min(top + tile_px, height), min(left + tile_px, width)
            window = (max(0, top - overlap_px), min(height, bottom + overlap_px),
                      max(0, left - overlap_px), min(width, right + overlap_px))
            tiles.append(Tile((top, bottom, left, right), window))
    return tiles


class LabelStore:
    """The montage's labels (uint32) in a raw file, read and written a window at a time."""

    def __init__(self, path: str | Path, shape: tuple[int, int]) -> None:
        self.path, self.shape = Path(path), shape
        with self.path.open("wb") as handle:
            handle.truncate(int(shape[0]) * int(shape[1]) * 4)  # sparse: zeros cost no disk until written

    def _mapped(self, mode: str) -> np.memmap:
        return np.memmap(self.path, dtype=np.uint32, mode=mode, shape=self.shape)

    def read(self, top: int, bottom: int, left: int, right: int) -> np.ndarray:
        mapped = self._mapped("r")
        try:
            return np.array(mapped[top:bottom, left:right])
        finally:
            mapped._mmap.close()  # type: ignore[attr-defined]

    def values_at(self, flat_indices: np.ndarray) -> np.ndarray:
        """The labels at the given pixels (flat indices into the image)."""
        mapped = self._mapped("r")
        try:
            return np.array(mapped.reshape(-1)[flat_indices])
        finally:
            mapped._mmap.close()  # type: ignore[attr-defined]

    def write(self, top: int, left: int, values: np.ndarray) -> None:
        mapped = self._mapped("r+")
        try:
            mapped[top:top + values.shape[0], left:left + values.shape[1]] = values
            mapped.flush()
        finally:
            mapped._mmap.close()  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class MontageResult:
    """A montage's particles and statistics; its labels are in the :class:`LabelStore`.

    Has the attributes of a :class:`~particle_gui.core.analysis.pipeline.PipelineResult` that the
    summary row and the run records read.
    """

    params: PipelineParams
    calibration: Calibration
    particles: pd.DataFrame
    summary: Summary
    shape: tuple[int, int]
    tiles: int
    warnings: tuple[str, ...] = ()
    trust: ImageTrust | None = None
    removed: dict[str, int] = field(default_factory=dict)
    filtered: dict[str, FilterLoss] = field(default_factory=dict)
    reliable_min_ecd_px: float = 0.0
    #: Particles wider than the overlap that every window saw cut (left out; see the warning).
    cut_by_seams: int = 0
    data_bar: None = None
    scale_bar: None = None
    outlier_pixels: int = 0
    #: Every ``preview_step``-th pixel of the display image (uint8) and of the labels, once written.
    preview_display: np.ndarray | None = None
    preview_labels: np.ndarray | None = None
    preview_step: int = 1

    @property
    def count(self) -> int:
        return int(len(self.particles))


def tile_params(source: MontageSource, params: PipelineParams, tiles: list[Tile],
                calibration: Calibration) -> tuple[PipelineParams, list[str], tuple[float, float] | None]:
    """The params every tile runs with: what depends on the whole image fixed once, edges kept.

    No data bar is looked for (a stitched montage has none), particles touching a window's border
    are kept so that the stitching can tell the inner borders from the image's own. Returns the
    params, notes for the warnings, and (network) the grey range every tile is normalised with.
    """
    fixed = dataclasses.replace(
        params, region=dataclasses.replace(params.region, detect_data_bar=False),
        edge=dataclasses.replace(params.edge, exclude_edge=False))
    notes: list[str] = []
    network_range = None
    if params.method == "classical":
        overview = _overview(source, tiles, lambda grey: preprocess(grey, params.preprocess))
        found = threshold_image(overview, params.threshold)
        notes.extend(found.warnings)
        threshold = dataclasses.replace(params.threshold, polarity=found.polarity)
        if params.threshold.method not in ("manual", "local"):
            threshold = dataclasses.replace(threshold, method="manual", manual_value=float(np.clip(found.value, 0, 1)))
        fixed = dataclasses.replace(fixed, threshold=threshold)
        return fixed, notes, network_range
    network_range = intensity_range(_overview(source, tiles, lambda grey: grey), percentiles=load_model().info.percentiles)
    if params.dl.expected_diameter_px <= 0:
        middle = tiles[len(tiles) // 2]
        pipeline = Pipeline(_window_image(source, middle.window, network_range))
        pipeline.run(fixed, calibration)
        maps = pipeline.stage_output("inference")
        if np.isfinite(maps.diameter_px) and maps.diameter_px > 0:
            # The diameter for which every tile runs the network at the scale the probe chose.
            diameter = load_model().info.target_diameter_px / maps.scale
            fixed = dataclasses.replace(fixed, dl=dataclasses.replace(params.dl, expected_diameter_px=diameter))
            notes.append(f"The network's scale was set once for the whole montage, for particles of "
                         f"{maps.diameter_px:.0f} px (measured on its central tile).")
    return fixed, notes, network_range


def analyse_montage(
    source: MontageSource,
    params: PipelineParams,
    calibration: Calibration,
    store: LabelStore,
    *,
    tile_px: int = DEFAULT_TILE_PX,
    overlap_px: int = DEFAULT_OVERLAP_PX,
    progress: TileProgress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> MontageResult:
    """Analyse a montage tile by tile into ``store`` and measure each particle once.

    Raises
    ------
    CancelledError
        ``should_cancel`` returned True between tiles.
    """
    tiles = plan_tiles(source.shape, tile_px=tile_px, overlap_px=overlap_px)
    fixed, notes, network_range = tile_params(source, params, tiles, calibration)
    tables: list[pd.DataFrame] = []
    tile_warnings: Counter[str] = Counter()
    losses: dict[str, list[FilterLoss]] = {}
    removed: Counter[str] = Counter()
    next_id, wide_pieces = 1, []
    for done, tile in enumerate(tiles):
        if should_cancel is not None and should_cancel():
            raise CancelledError("The montage analysis was cancelled.")
        result = Pipeline(_window_image(source, tile.window, network_range)).run(fixed, calibration)
        tile_warnings.update(set(result.warnings))
        for name, loss in result.filtered.items():
            losses.setdefault(name, []).append(loss)
        removed["annotation"] += result.removed.get("annotation", 0)
        placed, edge_dropped, pieces = _stitch(tile, result.labels, result.particles, store, next_id, source.shape,
                                                 params.edge.exclude_edge, overlap_px)
        removed["edge"] += edge_dropped
        wide_pieces.extend(pieces)
        next_id += len(placed)
        tables.append(placed)
        del result  # before the next tile's pipeline runs: one window's arrays at a time
        if progress is not None:
            progress(done + 1, len(tiles))
    table_px = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    cut = _lost_at_seams(wide_pieces, store)
    return _montage_result(source, params, calibration, table_px, tiles, notes, tile_warnings, losses, removed, cut,
                           overlap_px)


def _stitch(tile: Tile, labels: np.ndarray, table: pd.DataFrame, store: LabelStore, first_id: int,
            shape: tuple[int, int], exclude_edge: bool, overlap_px: int) -> tuple[pd.DataFrame, int, list[np.ndarray]]:
    """Place the window's particles that this tile owns.

    Returns their rows, how many cut by the image's border were dropped, and the pixels (flat indices
    in the image) of each piece at least ``overlap_px`` wide cut by the window's inner border.
    """
    top, bottom, left, right = tile.window
    height, width = shape
    inner = [labels[0] if top > 0 else None, labels[-1] if bottom < height else None,
             labels[:, 0] if left > 0 else None, labels[:, -1] if right < width else None]
    at_inner = np.unique(np.concatenate([side for side in inner if side is not None] or [np.zeros(0, labels.dtype)]))
    core_top, core_bottom, core_left, core_right = tile.core
    x = table["centroid_x"].to_numpy() + left
    y = table["centroid_y"].to_numpy() + top
    tol = SEAM_TOLERANCE_PX
    owned = ((y >= core_top - tol) & (y < core_bottom + tol) & (x >= core_left - tol) & (x < core_right + tol))
    strict = (y >= core_top) & (y < core_bottom) & (x >= core_left) & (x < core_right)
    ids = table["id"].to_numpy()
    inner_cut = np.isin(ids, at_inner)
    wide = (table["bbox_width"].to_numpy() >= overlap_px) | (table["bbox_height"].to_numpy() >= overlap_px)
    wide_pieces = [_flat_in_image(labels == i, top, left, width) for i in ids[inner_cut & wide]]
    edge = table["touches_edge"].to_numpy().astype(bool) & ~inner_cut
    edge_dropped = int(np.sum(edge & strict)) if exclude_edge else 0
    keep = owned & ~inner_cut & ~(edge & exclude_edge)
    existing = store.read(top, bottom, left, right)
    taken = np.bincount(labels[existing > 0].ravel(), minlength=int(labels.max()) + 1)
    area = table["area"].to_numpy()
    keep &= taken[ids] < 0.5 * area
    kept = table[keep].copy()
    lut = np.zeros(int(labels.max()) + 1, dtype=np.uint32)
    new_ids = np.arange(first_id, first_id + len(kept), dtype=np.uint32)
    lut[kept["id"].to_numpy()] = new_ids
    placed = lut[labels]
    store.write(top, left, np.where(existing == 0, placed, existing))
    kept["id"] = new_ids.astype(np.int64)
    kept["centroid_x"] += left
    kept["centroid_y"] += top
    kept["touches_edge"] = edge[keep]
    return kept, edge_dropped, wide_pieces


def _flat_in_image(mask: np.ndarray, top: int, left: int, width: int) -> np.ndarray:
    """Flat indices in an image ``width`` wide of a window's pixels (the window's corner at ``top, left``)."""
    rows, cols = np.nonzero(mask)
    return (rows.astype(np.int64) + top) * width + cols + left


def _lost_at_seams(pieces: list[np.ndarray], store: LabelStore) -> int:
    """How many particles no window saw whole: wide cut pieces mostly unplaced, pieces sharing pixels counted once."""
    lost = [piece for piece in pieces if np.mean(store.values_at(piece) > 0) < 0.5]
    group = list(range(len(lost)))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i in range(len(lost)):
        for j in range(i + 1, len(lost)):
            if np.intersect1d(lost[i], lost[j], assume_unique=True).size:
                group[root(j)] = root(i)
    return len({root(i) for i in range(len(lost))})


def _window_image(source: MontageSource, window: tuple[int, int, int, int],
                  network_range: tuple[float, float] | None) -> LoadedImage:
    original = source.read(*window)
    return LoadedImage(path=source.path, original=original, grey=source.to_grey(original),
                       intensity_offset=source.intensity_offset, intensity_scale=source.intensity_scale,
                       metadata_calibration=None, sha256=source.sha256, instrument=source.instrument,
                       network_intensity_range=network_range)


def _overview(source: MontageSource, tiles: list[Tile], transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The pixels of the (transformed) montage that a whole-image analysis samples.

    Every ``H // 512``-th row and ``W // 512``-th column, as
    :func:`~particle_gui.core.analysis.threshold.analyse_histogram` and the network's normalisation
    sample a whole image, so that what they find is what the image would get analysed whole; each
    core is transformed (preprocessed) in its window.
    """
    height, width = source.shape
    row_step, col_step = max(1, height // HISTOGRAM_SIDE), max(1, width // HISTOGRAM_SIDE)
    overview = np.zeros((-(-height // row_step), -(-width // col_step)), dtype=np.float32)
    for tile in tiles:
        top, bottom, left, right = tile.window
        done = transform(source.grey(top, bottom, left, right))
        core_top, core_bottom, core_left, core_right = tile.core
        first_row, first_col = -(-core_top // row_step) * row_step, -(-core_left // col_step) * col_step
        part = done[first_row - top:core_bottom - top:row_step, first_col - left:core_right - left:col_step]
        overview[first_row // row_step:first_row // row_step + part.shape[0],
                 first_col // col_step:first_col // col_step + part.shape[1]] = part
    return overview


def _montage_result(source, params, calibration, table_px, tiles, notes, tile_warnings, losses, removed, cut,
                    overlap_px) -> MontageResult:
    pixel_size = calibration.pixel_size_nm
    particles = add_calibrated_columns(table_px, pixel_size) if len(table_px) else table_px
    height, width = source.shape
    if len(particles):
        diameters = particles["ecd_nm"] if pixel_size is not None else particles["ecd"]
        summary = summarise(diameters.to_numpy(), params.summary, unit=calibration.unit,
                            classes=particles[CLASS_COLUMN].to_numpy() if CLASS_COLUMN in particles else None,
                            edge_weights=edge_weights(particles, (0, height), width, params),
                            nm_per_unit=1.0 if pixel_size is not None else None)
    else:
        summary = summarise(np.zeros(0), params.summary, unit=calibration.unit)
    warnings = [*source.warnings, *notes]
    warnings.append(f"Analysed in {len(tiles)} tiles of up to {tiles[0].core[1] - tiles[0].core[0]} px "
                    f"with {overlap_px} px of overlap; each particle crossing a seam is counted once.")
    for text, count in tile_warnings.items():
        warnings.append(text if count == len(tiles) else f"{text} (in {count} of {len(tiles)} tiles)")
    if cut:
        warnings.append(f"{cut} particles wider than the tile overlap ({overlap_px} px) were cut by seams in every "
                        "tile and left out; analyse again with a larger overlap.")
    if not len(particles):
        warnings.append("No particles were found with these parameters.")
    trust = assess(particles, warnings, method=params.method) if len(particles) else None
    filtered = {name: FilterLoss(sum(loss.count for loss in group),
                                 min((loss.min_ecd_px for loss in group if loss.count), default=None),
                                 max((loss.max_ecd_px for loss in group if loss.count), default=None))
                for name, group in losses.items()}
    return MontageResult(params=params, calibration=calibration, particles=particles, summary=summary,
                         shape=source.shape, tiles=len(tiles), warnings=tuple(dict.fromkeys(warnings)), trust=trust,
                         removed=dict(removed), filtered=filtered, cut_by_seams=cut,
                         reliable_min_ecd_px=reliable_min_ecd_px(params.clean, pixel_size))
