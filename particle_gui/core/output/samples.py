"""Samples: images grouped by sample, analysed one by one, their particles pooled per sample.

A sample is a named list of images (in the command line, one sub-folder of the input folder).
Each image is analysed with the batch code (:func:`~particle_gui.core.output.batch.analyse_and_write`) and
its usual outputs are written into the sample's output folder; the particles of a sample's
images are then pooled into one size distribution, but only images that share one length unit:
nanometres and pixels are never mixed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from particle_gui.core.analysis.montage import MontageResult
from particle_gui.core.io.loading import MAX_PIXELS
from particle_gui.core.output.batch import ImageOutcome, analyse_and_write
from particle_gui.core.output.inputs import images_in_folder, unique_names
from particle_gui.core.io.calibration import Calibration
from particle_gui.core.statistics.image_level import MIN_IMAGES, ImageLevel, agreement_warning, image_level
from particle_gui.core.params import PipelineParams, SummaryParams
from particle_gui.core.output.render import display_image_uint8, render_overlay_rgb
from particle_gui.core.statistics.stats import Summary, summarise

#: Longest side (px) of the image previews kept for the PDF report (about 150 dpi on its page).
PREVIEW_MAX_PX = 768
_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


@dataclass(frozen=True, eq=False)
class ImageRecord:
    """One image of a sample after analysis.

    Attributes
    ----------
    sample : str
        Name of the sample the image belongs to.
    outcome : ImageOutcome
        The batch outcome: path, output stem, ``summary.csv`` row, calibration, error, outputs.
    particles : pandas.DataFrame or None
        The image's particle table; None when the analysis failed.
    summary : Summary or None
        Size statistics of this image alone.
    preview : ndarray of uint8, shape (h, w), or None
        Downsampled display image (longest side at most :data:`PREVIEW_MAX_PX`).
    overlay_preview : ndarray of uint8, shape (h, w, 3), or None
        The same size, with particle outlines drawn at that size.
    image_shape : (int, int) or None
        Full image size (rows, columns).
    manual_edits : int
        Hand corrections applied to the labels (0 until the correction layer fills it).
    """

    sample: str
    outcome: ImageOutcome
    particles: pd.DataFrame | None = None
    summary: Summary | None = None
    preview: np.ndarray | None = None
    overlay_preview: np.ndarray | None = None
    image_shape: tuple[int, int] | None = None
    manual_edits: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    @property
    def name(self) -> str:
        return self.outcome.path.name

    @property
    def calibration(self) -> Calibration | None:
        return self.outcome.calibration

    @property
    def unit(self) -> str | None:
        """``"nm"`` or ``"px"`` for an analysed image, None for a failed one."""
        return self.outcome.calibration.unit if self.outcome.calibration is not None else None

    def diameters(self) -> np.ndarray:
        """Equivalent circular diameters in :attr:`unit` (empty for a failed image)."""
        if self.particles is None or self.unit is None:
            return np.zeros(0)
        return self.particles[diameter_column(self.unit)].to_numpy(dtype=np.float64)


@dataclass(frozen=True, eq=False)
class SampleData:
    """A sample: its images and the pooled size distribution of those that share its unit.

    Attributes
    ----------
    name : str
    folder_name : str
        Name of its output sub-folder (the name made safe for a file system).
    images : tuple of ImageRecord
        All its images, failed ones included, in input order.
    unit : str or None
        ``"nm"``, ``"px"``, or None when no image was analysed.
    particles : pandas.DataFrame
        The pooled particles, with the image's file name in a first column ``image``.
    summary : Summary
        Statistics of the pooled diameters (ECD in ``unit``).
    excluded : tuple of str
        Analysed images left out of the pool because their unit differs.
    warnings : tuple of str
    """

    name: str
    folder_name: str
    images: tuple[ImageRecord, ...]
    unit: str | None
    particles: pd.DataFrame
    summary: Summary
    excluded: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The sample image by image (:mod:`particle_gui.core.statistics.image_level`): its D50 interval and tests.
    images_level: ImageLevel | None = None

    @property
    def pooled(self) -> tuple[ImageRecord, ...]:
        """The analysed images whose particles are in the pool."""
        return tuple(r for r in self.images if r.ok and r.name not in self.excluded)

    @property
    def failed(self) -> tuple[ImageRecord, ...]:
        return tuple(r for r in self.images if not r.ok)

    def diameters(self) -> np.ndarray:
        """Pooled equivalent circular diameters in ``unit``."""
        if self.unit is None or self.particles.empty:
            return np.zeros(0)
        return self.particles[diameter_column(self.unit)].to_numpy(dtype=np.float64)


def diameter_column(unit: str) -> str:
    """Column of the particle table holding the ECD in ``unit`` (``ecd_nm`` or ``ecd``)."""
    return "ecd_nm" if unit == "nm" else "ecd"


def samples_from_folder(folder: str | Path) -> dict[str, list[Path]]:
    """Samples of a folder: each sub-folder holding images is one sample, named after it.

    When no sub-folder holds images, the images directly inside ``folder`` form one sample
    named after ``folder``. Hidden folders are skipped; samples and images are sorted by name.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    dict of str to list of Path
        Empty when there are no images.

    Raises
    ------
    OSError
        ``folder`` (or a sub-folder) cannot be listed.
    """
    folder = Path(folder)
    samples = {}
    for sub in sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name):
        images = images_in_folder(sub)
        if images:
            samples[sub.name] = images
    if not samples:
        images = images_in_folder(folder)
        if images:
            samples[folder.resolve().name or "sample"] = images
    return samples


def folder_names(names: Iterable[str]) -> list[str]:
    """File-system-safe, case-insensitively unique folder names for samples, in order.

    >>> folder_names(["A", "a", "x/y", ""])
    ['A', 'a_2', 'x_y', 'sample']
    """
    return unique_names(_UNSAFE_NAME.sub("_", name).strip(" .") or "sample" for name in names)


def analyse_image(
    sample: str,
    path: Path,
    stem: str,
    out_dir: Path,
    params: PipelineParams,
    *,
    pixel_size_nm: float | None = None,
    scale_bar_nm: float | None = None,
    profiles: Sequence[Any] = (),
    should_cancel: Callable[[], bool] | None = None,
    montage_above_px: int = MAX_PIXELS,
) -> ImageRecord:
    """Analyse one image, write its usual outputs into ``out_dir`` and keep previews.

    A TIFF of more than ``montage_above_px`` pixels is analysed in tiles (see
    :func:`~particle_gui.core.output.batch.analyse_and_write`).

    Any failure becomes a failed record (as in ``particle-gui analyze``), so one bad file never
    stops a report.

    Raises
    ------
    CancelledError
        ``should_cancel`` returned True during the analysis.
    """
    outcome, image, result = analyse_and_write(
        path, stem, out_dir, params, pixel_size_nm=pixel_size_nm, scale_bar_nm=scale_bar_nm, profiles=profiles,
        should_cancel=should_cancel, montage_above_px=montage_above_px,
    )
    if result is None:
        return ImageRecord(sample=sample, outcome=outcome)
    if isinstance(result, MontageResult):  # analysed in tiles: previews from its reduced display and labels
        edge_ids = result.particles["id"][result.particles["touches_edge"]].to_numpy() if result.count else ()
        preview, overlay = _previews(result.preview_display, result.preview_labels, None, edge_ids)
        return ImageRecord(sample=sample, outcome=outcome, particles=result.particles, summary=result.summary,
                           preview=preview, overlay_preview=overlay, image_shape=result.shape)
    bar_row = result.data_bar.first_row if result.data_bar is not None else None
    preview, overlay = _previews(display_image_uint8(image), result.labels, bar_row, result.edge_ids)
    return ImageRecord(
        sample=sample,
        outcome=outcome,
        particles=result.particles,
        summary=result.summary,
        preview=preview,
        overlay_preview=overlay,
        image_shape=(int(result.labels.shape[0]), int(result.labels.shape[1])),
    )


def _previews(display: np.ndarray, labels: np.ndarray, bar_row: int | None,
              edge_ids=()) -> tuple[np.ndarray, np.ndarray]:
    """Downsampled grey image and an overlay drawn at the downsampled size (outlines stay 1 px).

    The overlay's grey is kept to 127 even levels, so that with the tinted data bar and the two
    outline colours (particles, edge particles) it has at most 256 colours and the PDF stores it as an indexed image, a
    third of the size of full RGB.
    """
    height, width = display.shape
    scale = min(1.0, PREVIEW_MAX_PX / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        display = cv2.resize(display, size, interpolation=cv2.INTER_AREA)
        labels = cv2.resize(labels.astype(np.int32), size, interpolation=cv2.INTER_NEAREST)
        bar_row = round(bar_row * scale) if bar_row is not None else None
    coarse = np.minimum(display, 253) & np.uint8(0xFE)
    return display, render_overlay_rgb(coarse, labels, edge_ids=edge_ids, data_bar_first_row=bar_row)


def pool_sample(
    name: str, images: Sequence[ImageRecord], params: SummaryParams = SummaryParams(), *, folder_name: str | None = None
) -> SampleData:
    """Pool the particles of a sample's analysed images that share one unit.

    Calibrated images (nm) win: uncalibrated ones in the same sample are left out of the pool,
    with a warning, because sizes in nm and px cannot be combined.

    Parameters
    ----------
    name : str
    images : sequence of ImageRecord
    params : SummaryParams
        Bootstrap and size-family settings of the pooled summary.
    folder_name : str, optional
        Output sub-folder; by default ``name`` made safe.

    Returns
    -------
    SampleData
    """
    analysed = [r for r in images if r.ok]
    units = {r.unit for r in analysed}
    unit = "nm" if "nm" in units else ("px" if analysed else None)
    excluded = tuple(r.name for r in analysed if r.unit != unit)
    pooled = [r for r in analysed if r.unit == unit]
    warnings = []
    if excluded:
        warnings.append(
            f"Sample {name}: {len(excluded)} of {len(analysed)} analysed images are uncalibrated (sizes in px) and are "
            f"left out of its pooled nm distribution ({', '.join(excluded)}); calibrate them (--pixel-size or "
            "--scale-bar) to include them."
        )
    if unit == "px":
        warnings.append(
            f"Sample {name} is uncalibrated: sizes are in pixels, comparable only between images taken at the "
            "same magnification."
        )
    if not analysed:
        warnings.append(f"Sample {name}: no image could be analysed.")
    tables = [r.particles.assign(image=r.name) for r in pooled if r.particles is not None and len(r.particles)]
    if tables:
        particles = pd.concat(tables, ignore_index=True)
        particles = particles[["image", *[c for c in particles.columns if c != "image"]]]
    else:
        particles = pd.DataFrame({"image": pd.Series(dtype=str)})
    diameters = particles[diameter_column(unit)].to_numpy(np.float64) if unit and len(particles) else np.zeros(0)
    summary = summarise(diameters, params, unit=unit or "px")
    level = image_level([r.diameters() for r in pooled])
    if level is not None and level.d50_ci95 is not None:  # images, not particles, are the independent units
        summary = dataclasses.replace(summary, d50_ci95=level.d50_ci95)
    elif summary.count:
        warnings.append(f"Sample {name}: fewer than {MIN_IMAGES} usable images, so its D50 interval counts particles "
                        "as independent and is too narrow when images differ; measure more images.")
    if (text := agreement_warning(name, level)) is not None:
        warnings.append(text)
    return SampleData(
        name=name,
        folder_name=folder_name or folder_names([name])[0],
        images=tuple(images),
        unit=unit,
        particles=particles,
        summary=summary,
        excluded=excluded,
        warnings=tuple(warnings),
        images_level=level,
    )


def image_rows(samples: Iterable[SampleData]) -> list[dict[str, Any]]:
    """Per-image summary rows: the ``summary.csv`` columns plus sample, pooling and manual edits."""
    rows = []
    for sample in samples:
        for record in sample.images:
            pooled = record.ok and record.name not in sample.excluded
            rows.append({
                "level": "image", "sample": sample.name, **record.outcome.row,
                "pooled": pooled, "manual_edits": record.manual_edits,
                "output_folder": sample.folder_name, "output_stem": record.outcome.stem,
                "path": str(record.outcome.path),
            })
    return rows


def sample_row(sample: SampleData) -> dict[str, Any]:
    """The summary row of a pooled sample: counts, unit, statistics with 95 % intervals."""
    s = sample.summary
    mean_ci = s.mean_ci95 or (None, None)
    d50_ci = s.d50_ci95 or (None, None)
    fit = s.lognormal
    return {
        "level": "sample",
        "sample": sample.name,
        "images": len(sample.images),
        "images_analysed": sum(r.ok for r in sample.images),
        "images_failed": len(sample.failed),
        "images_pooled": len(sample.pooled),
        "n_particles": s.count,
        "unit": sample.unit,
        "mean": s.mean,
        "mean_ci_low": mean_ci[0],
        "mean_ci_high": mean_ci[1],
        "std": s.std,
        "d10": s.d10,
        "d50": s.d50,
        "d50_ci_low": d50_ci[0],
        "d50_ci_high": d50_ci[1],
        "d90": s.d90,
        "geometric_mean": s.geometric_mean,
        "gsd": s.gsd,
        "lognormal_median": fit.median if fit else None,
        "lognormal_sigma": fit.sigma if fit else None,
        "lognormal_lilliefors_pvalue": fit.lilliefors_pvalue if fit else None,
        "families": "; ".join(f"{f.weight:.0%} at {f.median:.4g} (GSD {f.gsd:.3g})" for f in s.families),
        "manual_edits": sum(r.manual_edits for r in sample.images),
        "warnings": "; ".join(sample.warnings),
    }


def sample_rows(samples: Iterable[SampleData]) -> list[dict[str, Any]]:
    """:func:`sample_row` for each sample."""
    return [sample_row(sample) for sample in samples]

