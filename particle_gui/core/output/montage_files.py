"""A montage analysed in tiles into the batch's files: labels, particle table and a reduced overlay.

Used by :func:`~particle_gui.core.output.batch.analyse_and_write` for TIFFs above the in-memory limit
(:data:`~particle_gui.core.io.loading.MAX_PIXELS`); what it writes has the names and formats of an
ordinary image's outputs, except that the overlay is reduced to at most
:data:`OVERLAY_LONG_SIDE_PX` on its long side (said in the image's warnings) and the labels are
a tiled BigTIFF.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tifffile

from particle_gui.core.analysis.montage import LabelStore, MontageResult, analyse_montage
from particle_gui.core.errors import CalibrationError
from particle_gui.core.io.calibration import resolve_calibration
from particle_gui.core.io.loading import MAX_PIXELS
from particle_gui.core.io.montage_source import BAND_ROWS, MontageSource, open_montage, tiff_pixel_count
from particle_gui.core.io.profiles import CalibrationProfile, matching_profile
from particle_gui.core.output import export
from particle_gui.core.output.inputs import short_stem
from particle_gui.core.io.databar import to_uint8
from particle_gui.core.output.render import DISPLAY_PERCENTILES, render_overlay_rgb
from particle_gui.core.params import DEFAULT_OVERLAP_PX, DEFAULT_TILE_PX, PipelineParams

#: The overlay of a montage is reduced to this many pixels on its long side.
OVERLAY_LONG_SIDE_PX = 4096
#: Tile edge of the written label TIFF (px).
LABEL_TILE_PX = 256


def is_montage(path: Path, max_pixels: int = MAX_PIXELS) -> bool:
    """Whether ``path`` is a TIFF with more pixels than an image analysed in memory."""
    count = tiff_pixel_count(path)
    return count is not None and count > max_pixels


def analyse_montage_file(
    path: Path,
    stem: str,
    out_dir: Path,
    params: PipelineParams,
    *,
    pixel_size_nm: float | None = None,
    scale_bar_nm: float | None = None,
    profiles: Sequence[CalibrationProfile] = (),
    should_cancel: Callable[[], bool] | None = None,
    tile_px: int = DEFAULT_TILE_PX,
    overlap_px: int = DEFAULT_OVERLAP_PX,
) -> tuple[MontageResult, str, tuple[Path, ...]]:
    """Analyse a montage in tiles and write ``<stem>_labels.tif``, ``_particles.csv``, ``_overlay.png``.

    Returns the result (with its reduced display and labels, for previews), the file's SHA-256 and
    the files written (all three, or none: a failure removes what this call wrote, and the labels'
    scratch file always goes).

    Raises
    ------
    CalibrationError
        ``scale_bar_nm`` without ``pixel_size_nm``: montages are not searched for a scale bar.
    ImageLoadError, ExportError, CancelledError
    """
    if scale_bar_nm is not None and pixel_size_nm is None:
        raise CalibrationError(f"{path}: montages analysed in tiles are not searched for a scale bar; "
                               "give --pixel-size (or rely on the TIFF's metadata).")
    source = open_montage(path)
    metadata = source.metadata_calibration
    profile = matching_profile(list(profiles), source.instrument)
    if profile is not None:
        metadata = profile.apply(metadata)
    calibration, calibration_warnings = resolve_calibration(metadata, manual_pixel_size_nm=pixel_size_nm)
    scratch = out_dir / f".{stem[:24]}_labels.raw.{secrets.token_hex(6)}.tmp"  # removed by remove_temporaries too
    written: list[Path] = []
    try:
        store = LabelStore(scratch, source.shape)
        result = analyse_montage(source, params, calibration, store, tile_px=tile_px, overlap_px=overlap_px,
                                 should_cancel=should_cancel)
        step = _overlay_step(source.shape)
        note = f"The overlay is reduced {step}x (to {-(-source.shape[1] // step)} px wide); the labels are full size."
        extra = [*calibration_warnings, *([note] if step > 1 else [])]
        result = _with_warnings(result, extra)
        paths = [out_dir / f"{short_stem(stem)}{suffix}" for suffix in export.OUTPUT_SUFFIXES]
        _write_labels_tiff(paths[0], store, result.count)
        written.append(paths[0])
        export.write_particles_csv(paths[1], result.particles)
        written.append(paths[1])
        display, labels = _reduced(source, store, step)
        result = dataclasses.replace(result, preview_display=display, preview_labels=labels, preview_step=step)
        edge_ids = result.particles["id"][result.particles["touches_edge"]].to_numpy() if result.count else ()
        export.write_overlay_png(paths[2], render_overlay_rgb(display, labels, edge_ids=edge_ids))
        written.append(paths[2])
    except BaseException:
        for done in written:
            with contextlib.suppress(OSError):
                done.unlink()
        raise
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink()
    return result, source.sha256, tuple(written)


def _with_warnings(result: MontageResult, extra: list[str]) -> MontageResult:
    return dataclasses.replace(result, warnings=tuple(dict.fromkeys([*result.warnings, *extra])))


def _overlay_step(shape: tuple[int, int]) -> int:
    return max(1, -(-max(shape) // OVERLAY_LONG_SIDE_PX))


def _write_labels_tiff(path: Path, store: LabelStore, count: int) -> None:
    """The store as a zlib-compressed tiled BigTIFF (uint16, or uint32 past 65535), written atomically."""
    height, width = store.shape
    dtype = export.label_dtype(count)

    def tiles():
        for top in range(0, height, LABEL_TILE_PX):
            band = store.read(top, min(top + LABEL_TILE_PX, height), 0, width).astype(dtype)
            for left in range(0, width, LABEL_TILE_PX):
                yield band[:, left:left + LABEL_TILE_PX]

    export.atomic_write_with(path, lambda stream: tifffile.imwrite(
        stream, tiles(), shape=(height, width), dtype=dtype, tile=(LABEL_TILE_PX, LABEL_TILE_PX), compression="zlib",
        bigtiff=True, photometric="minisblack"))


def _reduced(source: MontageSource, store: LabelStore, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``step``-th pixel of the display image (grey stretched as a whole image's display) and of the labels."""
    height, width = source.shape
    band = max(step, BAND_ROWS // step * step)
    size = (-(-height // step), -(-width // step))
    grey = np.empty(size, np.float32)
    labels = np.empty(size, np.uint32)
    for top in range(0, height, band):
        bottom, row = min(top + band, height), top // step
        part = source.grey(top, bottom, 0, width)[::step, ::step]
        grey[row:row + part.shape[0]] = part
        labels[row:row + part.shape[0]] = store.read(top, bottom, 0, width)[::step, ::step]
    if source.dtype != np.uint8:
        low, high = (float(v) for v in np.percentile(grey[::4, ::4], DISPLAY_PERCENTILES))
        if high <= low:
            return np.zeros(size, np.uint8), labels
        grey -= np.float32(low)
        grey *= np.float32(1.0 / (high - low))
    return to_uint8(grey), labels
