"""Writing results to disk: label images, particle tables, overlays and the batch summary.

Every file is written atomically: the bytes go to a temporary file in the destination
folder, which then replaces the destination with :func:`os.replace`. A reader never sees a
half-written file, and an interrupted run leaves the previous version (or nothing) in place.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import cv2
import numpy as np
import pandas as pd
import tifffile

from particle_gui.core.errors import ExportError
from particle_gui.core.output.inputs import short_stem
from particle_gui.core.output.render import display_image_uint8, render_overlay_rgb

if TYPE_CHECKING:
    from particle_gui.core.analysis.pipeline import PipelineResult
    from particle_gui.core.io.loading import LoadedImage
    from particle_gui.core.statistics.stats import Summary

#: Columns of ``summary.csv`` in order; rows may carry further columns after these.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "image", "status", "n_particles", "pixel_size_nm", "calibration_source", "d50", "unit",
    "mean", "std", "d10", "d90", "d50_ci_low", "d50_ci_high", "data_bar_rows", "scale_bar_px", "warnings",
    "calibration_detail", "scale_bar_label", "outlier_pixels", "confidence", "suspect", "suspect_particles",
    "d50_edge_corrected", "d10_area", "d50_area", "d90_area", "d10_volume", "d50_volume", "d90_volume",
    "d32", "d43", "fraction_below_100nm", "fraction_below_100nm_ci_low", "fraction_below_100nm_ci_high",
    "particles_for_5pct_d50", "excluded_at_edge", "excluded_at_data_bar", "excluded_annotations",
    "removed_by_opening", "removed_below_min_area", "removed_ecd_max", "reliable_min_ecd",
)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    Raises
    ------
    ExportError
        The folder does not exist or is not writable, the disk is full, or ``path`` is a folder;
        the message names the file and says why in words.
    """
    atomic_write_with(path, lambda stream: stream.write(data))


def atomic_write_with(path: str | Path, write: Callable[[BinaryIO], Any]) -> None:
    """Let ``write(stream)`` fill a temporary file beside ``path``, then put it in place atomically.

    For files written piece by piece (a montage's labels, larger than memory); the errors are
    those of :func:`atomic_write_bytes`.
    """
    path = Path(path)
    # At most 40 characters of the name (160 bytes), so that the temporary name fits the
    # 255-byte limit wherever the name itself does.
    temporary = path.with_name(f".{path.name[:40]}.{secrets.token_hex(6)}.tmp")
    created = False
    try:
        # "x": O_EXCL, never follow or clobber anything already there; mode 0o666 honours the umask.
        # A named file object: writers such as tifffile ask for the stream's name.
        raw = io.FileIO(temporary, "xb")
        created = True
        with io.BufferedWriter(raw) as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        if created:
            with contextlib.suppress(OSError):
                temporary.unlink()
        if isinstance(exc, OSError):
            raise ExportError(f"Cannot write {path}: {describe_os_error(exc)}.") from exc
        raise


#: The temporary files :func:`atomic_write_bytes` makes: ``.<name>.<12 hex digits>.tmp``.
_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")


def remove_temporaries(folder: str | Path) -> int:
    """Remove the temporary files a writer killed mid-write left in ``folder`` (and its subfolders); how many.

    Only names :func:`atomic_write_bytes` makes are touched.
    """
    removed = 0
    for path in Path(folder).rglob(".*.tmp"):
        if _TEMPORARY.match(path.name):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


#: What common write failures mean, in words (``errno`` -> explanation).
_WRITE_ERRORS = {
    errno.ENOSPC: "the disk is full",
    getattr(errno, "EDQUOT", -1): "the disk quota is used up",  # not defined on Windows
    errno.EFBIG: "the file is larger than this disk or account allows",
    errno.EACCES: "permission denied (the folder is not writable)",
    errno.EPERM: "permission denied (the folder is not writable)",
    errno.EROFS: "the disk is read-only",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "part of the folder path is a file, not a folder",
    errno.EISDIR: "a folder of that name is in the way",
    errno.ENAMETOOLONG: "the file name or path is too long",
    errno.EIO: "input/output error (a failing disk or a lost network share)",
}


def describe_os_error(exc: OSError) -> str:
    """An OS error in words, with the system's own text.

    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device"))
    'the disk is full (No space left on device)'
    """
    meaning = _WRITE_ERRORS.get(exc.errno) if exc.errno is not None else None
    system = exc.strerror or str(exc)
    return f"{meaning} ({system})" if meaning else system


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` atomically, encoded as ``encoding``, with line endings as given."""
    atomic_write_bytes(path, text.encode(encoding))


def label_dtype(max_label: int) -> np.dtype:
    """The smallest unsigned type for a label image: uint16, or uint32 past 65535.

    >>> label_dtype(65535), label_dtype(65536)
    (dtype('uint16'), dtype('uint32'))
    """
    if max_label <= np.iinfo(np.uint16).max:
        return np.dtype(np.uint16)
    if max_label <= np.iinfo(np.uint32).max:
        return np.dtype(np.uint32)
    raise ExportError(f"A label image with labels up to {max_label} cannot be stored as uint32.")


def write_labels_tiff(path: str | Path, labels: np.ndarray) -> None:
    """Write a label image as a zlib-compressed TIFF, uint16 (uint32 past 65535).

    Parameters
    ----------
    path : str or Path
    labels : ndarray of int, shape (H, W)
        0 = background, particles 1..N; values are kept, so they match the ``id`` column of
        the particle table.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "ui":
        raise ValueError(f"labels must be a 2-D integer array, not {labels.dtype} of shape {labels.shape}")
    low = int(labels.min()) if labels.size else 0
    if low < 0:
        raise ValueError(f"labels must not be negative (minimum {low})")
    top = int(labels.max()) if labels.size else 0
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, labels.astype(label_dtype(top), copy=False), compression="zlib", photometric="minisblack")
    atomic_write_bytes(path, buffer.getvalue())


def write_particles_csv(path: str | Path, table: pd.DataFrame) -> None:
    """Write the particle table as CSV (comma-separated, header row, no index, UTF-8)."""
    atomic_write_text(path, table.to_csv(index=False, lineterminator="\n"))


def write_particles_excel(path: str | Path, table: pd.DataFrame, summary: Summary | None = None) -> None:
    """Write the particle table (sheet "particles") and the summary (sheet "summary") as .xlsx."""
    buffer = io.BytesIO()
    try:
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            table.to_excel(writer, sheet_name="particles", index=False)
            if summary is not None:
                flat = {k: v for k, v in summary.to_dict().items() if not isinstance(v, (dict, list, tuple)) or k.endswith("ci95")}
                rows = [(key, ", ".join(f"{x:.6g}" for x in value) if isinstance(value, (list, tuple)) else value)
                        for key, value in flat.items()]
                pd.DataFrame(rows, columns=["statistic", "value"]).to_excel(writer, sheet_name="summary", index=False)
                if summary.shape_classes:
                    pd.DataFrame([asdict(c) for c in summary.shape_classes]).to_excel(
                        writer, sheet_name="shape classes", index=False
                    )
    except ImportError as exc:
        raise ExportError("Excel export needs the openpyxl package.") from exc
    atomic_write_bytes(path, buffer.getvalue())


def write_overlay_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write an RGB uint8 image of shape (H, W, 3) as PNG."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be a uint8 array of shape (H, W, 3), not {rgb.dtype} of shape {rgb.shape}")
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise ExportError(f"Cannot encode the overlay for {path} as PNG.")
    atomic_write_bytes(path, encoded.tobytes())


def summary_row(name: str, result: PipelineResult, *, warnings: Iterable[str] | None = None) -> dict[str, Any]:
    """One ``summary.csv`` row for an analysed image.

    Parameters
    ----------
    name : str
        The image's file name.
    result : PipelineResult
    warnings : iterable of str, optional
        Warnings to report; by default ``result.warnings``.

    Returns
    -------
    dict
        Keyed by :data:`SUMMARY_COLUMNS`; missing values (e.g. the pixel size of an
        uncalibrated image, d50 of an image without particles) are None.
    """
    summary = result.summary
    d50_ci = summary.d50_ci95 or (None, None)
    bar = result.scale_bar
    return {
        "image": name,
        "status": "ok",
        "n_particles": result.count,
        "pixel_size_nm": result.calibration.pixel_size_nm,
        "calibration_source": result.calibration.source,
        "d50": summary.d50,
        "unit": summary.unit,
        "mean": summary.mean,
        "std": summary.std,
        "d10": summary.d10,
        "d90": summary.d90,
        "d50_ci_low": d50_ci[0],
        "d50_ci_high": d50_ci[1],
        "data_bar_rows": result.data_bar.height if result.data_bar is not None else 0,
        "scale_bar_px": bar.length_px if bar is not None and bar.trusted_geometry else None,
        "warnings": "; ".join(result.warnings if warnings is None else warnings),
        "calibration_detail": result.calibration.detail,
        "scale_bar_label": bar.label if bar is not None and bar.confident else None,
        "outlier_pixels": result.outlier_pixels,
        "confidence": result.trust.confidence if result.trust is not None else None,
        "suspect": result.trust.suspect if result.trust is not None else None,
        "suspect_particles": int(result.particles["suspect"].sum()) if "suspect" in result.particles.columns else None,
        **iso_columns(summary.iso),
        "excluded_at_edge": result.removed.get("edge", 0),
        "excluded_at_data_bar": result.removed.get("data_bar", 0),
        "excluded_annotations": result.removed.get("annotation", 0),
        **filter_columns(result),
        "shape_classes": shape_class_text(summary),
    }


def filter_columns(result) -> dict:
    """Objects the clean-up filters removed, their largest ECD and the smallest reliable ECD.

    Sizes are in the summary's unit (nm when calibrated, else px).
    """
    scale = result.calibration.pixel_size_nm or 1.0
    losses = result.filtered
    largest = [loss.max_ecd_px for loss in losses.values() if loss.count]
    return {
        "removed_by_opening": losses["opening"].count if "opening" in losses else 0,
        "removed_below_min_area": losses["min_area"].count if "min_area" in losses else 0,
        "removed_ecd_max": max(largest) * scale if largest else None,
        "reliable_min_ecd": result.reliable_min_ecd_px * scale,
    }


def iso_columns(iso) -> dict:
    """The ISO 9276-2 columns of ``summary.csv`` (None where they do not apply)."""
    if iso is None:
        return dict.fromkeys(SUMMARY_COLUMNS[SUMMARY_COLUMNS.index("d50_edge_corrected"):
                                             SUMMARY_COLUMNS.index("excluded_at_edge")])
    interval = iso.nano_fraction_ci95 or (None, None)
    return {
        "d50_edge_corrected": iso.number.d50 if iso.edge_corrected else None,
        "d10_area": iso.area.d10, "d50_area": iso.area.d50, "d90_area": iso.area.d90,
        "d10_volume": iso.volume.d10, "d50_volume": iso.volume.d50, "d90_volume": iso.volume.d90,
        "d32": iso.sauter_mean, "d43": iso.de_brouckere_mean,
        "fraction_below_100nm": iso.nano_fraction,
        "fraction_below_100nm_ci_low": interval[0], "fraction_below_100nm_ci_high": interval[1],
        "particles_for_5pct_d50": iso.particles_for_5_percent_d50,
    }


def shape_class_text(summary: Summary) -> str:
    """Per-class counts and D50 in one line, e.g. ``round 40 (D50 31.2 nm); elongated 3 (D50 80.1 nm)``."""
    return "; ".join(
        f"{c.shape_class} {c.count}" + (f" (D50 {c.d50:.4g} {summary.unit})" if c.d50 is not None else "")
        for c in summary.shape_classes
    )


def failed_row(name: str, reason: str) -> dict[str, Any]:
    """A ``summary.csv`` row for an image that could not be analysed: status ``failed: <reason>``."""
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(image=name, status=f"failed: {' '.join(str(reason).split())}", warnings="")
    return row


def summary_csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV text of summary rows: :data:`SUMMARY_COLUMNS`, then any other keys in order of appearance."""
    columns = list(SUMMARY_COLUMNS)
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: ("" if value is None else value) for key, value in row.items()})
    return buffer.getvalue()


def write_summary_csv(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``summary.csv`` atomically (see :func:`summary_csv_text`)."""
    atomic_write_text(path, summary_csv_text(rows))


#: Suffixes of the per-image outputs, appended to the image's output stem.
OUTPUT_SUFFIXES = ("_labels.tif", "_particles.csv", "_overlay.png")


def write_image_outputs(out_dir: Path, stem: str, image: LoadedImage, result: PipelineResult) -> tuple[Path, ...]:
    """Write ``<stem>_labels.tif``, ``<stem>_particles.csv`` and ``<stem>_overlay.png``.

    A stem too long for file names is shortened (:func:`~particle_gui.core.output.inputs.short_stem`). When one file cannot be
    written, those already written by this call are removed, so that an image has all its
    outputs or none, and :class:`ExportError` is raised.
    """
    stem = short_stem(stem)
    labels_path, particles_path, overlay_path = (out_dir / f"{stem}{suffix}" for suffix in OUTPUT_SUFFIXES)
    written: list[Path] = []
    try:
        write_labels_tiff(labels_path, result.labels)
        written.append(labels_path)
        write_particles_csv(particles_path, result.particles)
        written.append(particles_path)
        first_row = result.data_bar.first_row if result.data_bar is not None else None
        overlay = render_overlay_rgb(display_image_uint8(image), result.labels, edge_ids=result.edge_ids,
                                     data_bar_first_row=first_row)
        write_overlay_png(overlay_path, overlay)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return labels_path, particles_path, overlay_path
