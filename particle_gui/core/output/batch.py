"""Batch analysis: find the images, analyse each one, write its results and the run's records.

The loop reports progress through a callback and checks a cancel flag between images, so the
command line and the GUI drive the same code. One image that fails is recorded as failed
and the batch goes on.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import particle_gui
from particle_gui.core.output import export, montage_files, parallel
from particle_gui.core.io.calibration import Calibration, resolve_calibration
from particle_gui.core.errors import CalibrationError, CancelledError, ParticleGuiError
from particle_gui.core.io.loading import MAX_PIXELS, LoadedImage, file_sha256, load_image
from particle_gui.core.output.inputs import unique_stems
from particle_gui.core.params import DEFAULT_OVERLAP_PX, DEFAULT_TILE_PX, PipelineParams
from particle_gui.core.io.profiles import CalibrationProfile, matching_profile
from particle_gui.core.analysis.montage import MontageResult
from particle_gui.core.analysis.pipeline import Pipeline, PipelineResult
from particle_gui.core.output.export import OUTPUT_SUFFIXES as OUTPUT_SUFFIXES  # re-exported: the batch's file names
from particle_gui.core.output.export import write_image_outputs

SUMMARY_NAME = "summary.csv"
RUN_RECORD_NAME = "run.json"
#: Packages whose versions are recorded in ``run.json``.
RECORDED_PACKAGES = (
    "numpy", "scipy", "scikit-image", "opencv-python-headless", "tifffile", "pandas", "onnxruntime",
)


@dataclass(frozen=True)
class ImageOutcome:
    """What happened to one input image.

    ``stem`` starts its output file names (unique in the batch); ``row`` is its line of
    ``summary.csv``; ``sha256`` is None only when the file could not be read at all;
    ``calibration`` is None and ``error`` says why when the analysis failed.
    """

    path: Path
    stem: str
    row: dict[str, Any]
    sha256: str | None = None
    calibration: Calibration | None = None
    error: str | None = None
    outputs: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def record(self) -> dict[str, Any]:
        """The image's entry in ``run.json``."""
        return {
            "path": str(self.path),
            "output_stem": self.stem,
            "sha256": self.sha256,
            "status": self.row["status"],
            "calibration": dataclasses.asdict(self.calibration) if self.calibration is not None else None,
            "outputs": [path.name for path in self.outputs],
        }


@dataclass
class BatchReport:
    """A batch: its settings and, in input order, the outcome of each image done so far."""

    out_dir: Path
    params: PipelineParams
    options: dict[str, Any]
    command: tuple[str, ...] = ()
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    cancelled: bool = False
    outcomes: list[ImageOutcome] = field(default_factory=list)
    #: Further provenance for ``run.json`` (for example the adapted profile the params came from).
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(not outcome.ok for outcome in self.outcomes)

    def summary_rows(self) -> list[dict[str, Any]]:
        """Rows of ``summary.csv``."""
        return [{**outcome.row, "output_stem": outcome.stem, "path": str(outcome.path)} for outcome in self.outcomes]

    def record(self) -> dict[str, Any]:
        """The provenance written to ``run.json``."""
        return {
            "software": "particle-gui",
            "version": particle_gui.__version__,
            "command_line": list(self.command),
            "working_directory": os.getcwd(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "cancelled": self.cancelled,
            "params": self.params.to_dict(),
            **self.provenance,
            "options": recorded_options(self.options),
            "environment": _package_versions(),
            "inputs": [outcome.record() for outcome in self.outcomes],
        }

    def write_records(self) -> None:
        """Write ``summary.csv`` and ``run.json`` into ``out_dir`` (atomically)."""
        export.write_summary_csv(self.out_dir / SUMMARY_NAME, self.summary_rows())
        text = json.dumps(self.record(), indent=2, ensure_ascii=False) + "\n"
        export.atomic_write_text(self.out_dir / RUN_RECORD_NAME, text)


#: ``progress(done, total, outcome)``: once with ``(0, total, None)``, then after every image.
BatchProgress = Callable[[int, int, "ImageOutcome | None"], None]


def analyze_file(
    path: str | Path,
    params: PipelineParams,
    *,
    pixel_size_nm: float | None = None,
    scale_bar_nm: float | None = None,
    profiles: Sequence[CalibrationProfile] = (),
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[LoadedImage, PipelineResult, list[str]]:
    """Load one image, calibrate it and run the pipeline.

    Parameters
    ----------
    path : str or Path
    params : PipelineParams
    pixel_size_nm : float, optional
        Pixel size given by the user; used without metadata and scale-bar calibration.
    scale_bar_nm : float, optional
        Physical length of the image's scale bar; with the detected bar it calibrates the image.
    profiles : sequence of CalibrationProfile
        Reference-standard corrections; one matching the image's instrument and magnification
        corrects its metadata (:mod:`particle_gui.core.io.profiles`).
    should_cancel : callable, optional
        Passed to :meth:`Pipeline.run`.

    Returns
    -------
    image : LoadedImage
    result : PipelineResult
    warnings : list of str
        The pipeline's warnings and the calibration's, each once.

    Raises
    ------
    ImageLoadError
        The file cannot be read.
    """
    image = load_image(path)
    pipeline = Pipeline(image)
    scale_bar = pipeline.region(params).scale_bar
    if scale_bar_nm is not None and pixel_size_nm is None and (scale_bar is None or not scale_bar.trusted_geometry):
        found = "no scale bar was found" if scale_bar is None else (
            f"the only bar-like line ({scale_bar.length_px} px) is outside a data bar and has no readable label")
        raise CalibrationError(
            f"{path}: --scale-bar was given but {found}; give --pixel-size, or calibrate this image in the window."
        )
    metadata = image.metadata_calibration
    profile = matching_profile(list(profiles), image.instrument)
    if profile is not None:
        metadata = profile.apply(metadata)
    calibration, calibration_warnings = resolve_calibration(
        metadata,
        scale_bar_length_nm=scale_bar_nm,
        scale_bar_length_px=scale_bar.length_px if scale_bar is not None else None,
        manual_pixel_size_nm=pixel_size_nm,
        detected=scale_bar,
    )
    result = pipeline.run(params, calibration, should_cancel=should_cancel)
    warnings = list(dict.fromkeys([*result.warnings, *calibration_warnings]))
    return image, result, warnings


def analyse_and_write(
    path: Path,
    stem: str,
    out_dir: Path,
    params: PipelineParams,
    *,
    pixel_size_nm: float | None = None,
    scale_bar_nm: float | None = None,
    profiles: Sequence[CalibrationProfile] = (),
    should_cancel: Callable[[], bool] | None = None,
    montage_tile_px: int = DEFAULT_TILE_PX,
    montage_overlap_px: int = DEFAULT_OVERLAP_PX,
    montage_above_px: int = MAX_PIXELS,
) -> tuple[ImageOutcome, LoadedImage | None, PipelineResult | MontageResult | None]:
    """Analyse one image and write its outputs; any failure becomes a failed outcome.

    Returns the outcome, and the image and result when the analysis succeeded (for callers
    that need more than the written files, such as reports). A TIFF of more than ``montage_above_px``
    pixels (by default the in-memory limit) is analysed in tiles of ``montage_tile_px`` with ``montage_overlap_px`` of overlap
    (:mod:`~particle_gui.core.output.montage_files`); only its outcome comes back.

    Raises
    ------
    CancelledError
        ``should_cancel`` returned True during the analysis.
    """
    try:
        if montage_files.is_montage(path, montage_above_px):  # above the in-memory limit: in tiles, outputs only
            montage, sha256, outputs = montage_files.analyse_montage_file(
                path, stem, out_dir, params, pixel_size_nm=pixel_size_nm, scale_bar_nm=scale_bar_nm,
                profiles=profiles, should_cancel=should_cancel, tile_px=montage_tile_px, overlap_px=montage_overlap_px)
            return ImageOutcome(path=path, stem=stem, row=export.summary_row(path.name, montage), sha256=sha256,
                                calibration=montage.calibration, outputs=outputs), None, montage
        image, result, warnings = analyze_file(
            path, params, pixel_size_nm=pixel_size_nm, scale_bar_nm=scale_bar_nm, profiles=profiles,
            should_cancel=should_cancel
        )
        outputs = write_image_outputs(out_dir, stem, image, result)
    except CancelledError:
        raise
    except ParticleGuiError as exc:
        # The summary row names the image already; drop the path the message starts with.
        return failed_outcome(path, stem, str(exc).removeprefix(f"{path}: ")), None, None
    except MemoryError:
        return failed_outcome(path, stem, "not enough memory to analyse this image."), None, None
    except Exception as exc:  # an engine bug on one image must not end the batch
        reason = " ".join(str(exc).split()) or "no message"
        return failed_outcome(path, stem, f"unexpected error in the analysis ({type(exc).__name__}: {reason})"), None, None
    outcome = ImageOutcome(
        path=path,
        stem=stem,
        row=export.summary_row(path.name, result, warnings=warnings),
        sha256=image.sha256,
        calibration=result.calibration,
        outputs=outputs,
    )
    return outcome, image, result


def process_image(path: Path, stem: str, out_dir: Path, params: PipelineParams, **options: Any) -> ImageOutcome:
    """:func:`analyse_and_write`, keeping only the outcome."""
    return analyse_and_write(path, stem, out_dir, params, **options)[0]


def recorded_options(options: dict[str, Any]) -> dict[str, Any]:
    """The run's calibration options as recorded in ``run.json`` (profiles in full, as applied)."""
    return {**options, "profiles": [dataclasses.asdict(p) for p in options.get("profiles", ())]}


def failed_outcome(path: Path, stem: str, reason: str) -> ImageOutcome:
    """The outcome of an image that could not be analysed (hash kept when the file is readable)."""
    try:
        sha256: str | None = file_sha256(path)
    except OSError:  # missing or unreadable
        sha256 = None
    return ImageOutcome(path=path, stem=stem, row=export.failed_row(path.name, reason), sha256=sha256, error=reason)


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


@functools.cache
def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def run_batch(
    paths: Sequence[Path],
    out_dir: str | Path,
    params: PipelineParams,
    *,
    pixel_size_nm: float | None = None,
    scale_bar_nm: float | None = None,
    profiles: Sequence[CalibrationProfile] = (),
    command: Sequence[str] = (),
    progress: BatchProgress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    provenance: dict[str, Any] | None = None,
    jobs: int = 1,
    resume: bool = False,
    shard: tuple[int, int] | None = None,
    executor: Any = None,
    montage_tile_px: int = DEFAULT_TILE_PX,
    montage_overlap_px: int = DEFAULT_OVERLAP_PX,
    montage_above_px: int = MAX_PIXELS,
) -> BatchReport:
    """Analyse every image into ``out_dir``, with ``summary.csv`` and ``run.json``.

    Both records are rewritten after each image, so an interrupted batch keeps what it did; each
    image also leaves ``records/<stem>.json`` (see :mod:`particle_gui.core.output.parallel`).

    Parameters
    ----------
    paths : sequence of Path
        Files to analyse (see :func:`~particle_gui.core.output.inputs.find_inputs`), written to the existing folder ``out_dir``.
    params, pixel_size_nm, scale_bar_nm
        See :func:`analyze_file`.
    command : sequence of str
        The command line, recorded in ``run.json``.
    progress : callable, optional
        See :data:`BatchProgress`.
    should_cancel : callable, optional
        Checked before each image (and at each pipeline stage when run here); the batch then
        stops, with ``cancelled`` set and the images in progress left out.
    provenance : dict, optional
        Further entries for ``run.json`` (the adapted profile the params came from).
    jobs : int
        Worker processes (1: here, one image after another).
    resume : bool
        Keep the images done before with the same parameters, options, models and version.
    shard : (int, int), optional
        ``(i, n)``: only every n-th image from the i-th.
    executor : concurrent.futures.Executor, optional
        Where to run the images instead of new worker processes (a Dask cluster's executor).
    montage_tile_px, montage_overlap_px, montage_above_px : int
        TIFFs of more than ``montage_above_px`` pixels are analysed in tiles (see :func:`analyse_and_write`).

    Returns
    -------
    BatchReport

    Raises
    ------
    ExportError
        ``summary.csv`` or ``run.json`` cannot be written.
    """
    options = {"pixel_size_nm": pixel_size_nm, "scale_bar_nm": scale_bar_nm, "profiles": tuple(profiles),
               "montage_tile_px": montage_tile_px, "montage_overlap_px": montage_overlap_px,
               "montage_above_px": montage_above_px}
    report = BatchReport(out_dir=Path(out_dir), params=params, options=options, command=tuple(command),
                         provenance=dict(provenance or {}))
    stems = unique_stems(paths)
    chosen = parallel.shard_indices(len(paths), shard)
    key = parallel.run_key(params, recorded_options(options))
    done: dict[int, ImageOutcome] = {}
    if resume:
        for i in chosen:
            outcome = parallel.resumed_outcome(report.out_dir, paths[i], stems[i], key, ImageOutcome)
            if outcome is not None:
                done[i] = outcome
    todo = [i for i in chosen if i not in done]
    if progress is not None:
        progress(len(done), len(chosen), None)

    def finish(i: int, outcome: ImageOutcome) -> None:
        done[i] = outcome
        report.outcomes = [done[j] for j in sorted(done)]
        report.write_records()  # summary.csv and run.json first: they are what a full disk must not lose
        parallel.write_record(report.out_dir, outcome, key)
        if progress is not None:
            progress(len(done), len(chosen), outcome)

    try:
        if executor is None and min(jobs, len(todo)) <= 1:
            for i in todo:
                if should_cancel is not None and should_cancel():
                    raise CancelledError("The batch was cancelled.")
                finish(i, process_image(paths[i], stems[i], report.out_dir, params, should_cancel=should_cancel,
                                        **options))
        else:
            parallel.run_elsewhere(functools.partial(process_image, **options), [(i, (paths[i], stems[i], report.out_dir, params)) for i in todo],
                                   jobs, executor, should_cancel, finish,
                                   lambda i, reason: failed_outcome(paths[i], stems[i], reason), [report.out_dir])
    except CancelledError:
        report.cancelled = True
    report.outcomes = [done[j] for j in sorted(done)]
    report.finished_at = _now()
    report.write_records()
    return report
