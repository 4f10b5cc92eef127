"""Multi-sample reports: analyse every image of every sample, compare the samples, write the report.

:func:`build_report` is what the command line (``particle-gui report``) and the GUI call. Into
``out_dir`` it writes, per sample, a sub-folder with each image's usual outputs (labels, particle
table, overlay) and that sample's ``summary.csv`` and ``run.json``; then ``report.pdf``,
``report.xlsx`` (a "summary" sheet, a "comparison" sheet and one sheet of pooled particles per
sample) and ``comparison.json``. A failed image is listed in the report and never stops it.
"""

from __future__ import annotations

import functools
import io
import json
import platform
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import particle_gui
from particle_gui.core.io.loading import MAX_PIXELS
from particle_gui.core.output import export, parallel
from particle_gui.core.output.batch import RECORDED_PACKAGES, BatchReport, failed_outcome, recorded_options
from particle_gui.core.output.inputs import unique_stems
from particle_gui.core.statistics.compare import GroupComparison, comparisons_for, json_safe, stability_warning
from particle_gui.core.errors import CancelledError, ExportError
from particle_gui.core.params import PipelineParams
from particle_gui.core.output.report_pdf import ReportContent, page_count, render_pdf
from particle_gui.core.output.samples import (
    ImageRecord, SampleData, analyse_image, folder_names, image_rows, pool_sample, sample_rows,
)

PDF_NAME = "report.pdf"
EXCEL_NAME = "report.xlsx"
JSON_NAME = "comparison.json"
DEFAULT_TITLE = "Particle size report"
#: Sheets of the workbook besides the samples' (sample sheets never take these names).
RESERVED_SHEETS = ("summary", "comparison")
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")

#: ``progress(done, total, message)``: first ``(0, total, ...)``, then after each step.
ReportProgress = Callable[[int, int, str], None]


@dataclass(frozen=True, eq=False)
class ReportResult:
    """What :func:`build_report` did.

    Attributes
    ----------
    out_dir : Path
    pdf_path, excel_path, json_path : Path
        The report files.
    samples : tuple of SampleData
        Per sample: every image's record and the pooled distribution.
    comparisons : tuple of GroupComparison
        One per unit with two or more samples.
    verdicts : tuple of str
        Plain-language comparison lines, as printed in the report.
    warnings : tuple of str
        Unit mix-ups, unstable D50s, images left out (failures are in :attr:`failed`).
    paths : tuple of Path
        Every file written.
    pages : int
        Pages of the PDF.
    timings_s : dict of str to float
        Seconds spent in ``analysis``, ``pdf``, ``excel`` and ``total``.
    """

    out_dir: Path
    pdf_path: Path
    excel_path: Path
    json_path: Path
    samples: tuple[SampleData, ...]
    comparisons: tuple[GroupComparison, ...]
    verdicts: tuple[str, ...]
    warnings: tuple[str, ...]
    paths: tuple[Path, ...]
    pages: int
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[ImageRecord, ...]:
        """Images that could not be analysed (each has ``outcome.error``)."""
        return tuple(record for sample in self.samples for record in sample.failed)

    @property
    def n_images(self) -> int:
        return sum(len(sample.images) for sample in self.samples)


def build_report(
    samples: Mapping[str, Sequence[Path]],
    out_dir: str | Path,
    params: PipelineParams,
    *,
    pixel_size_nm: float | None = None,
    scale_bar_nm: float | None = None,
    profiles: Sequence[Any] = (),
    progress: ReportProgress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    command: Sequence[str] = (),
    title: str = DEFAULT_TITLE,
    provenance: dict[str, Any] | None = None,
    jobs: int = 1,
    montage_above_px: int = MAX_PIXELS,
) -> ReportResult:
    """Analyse the samples' images, compare the samples and write the report files.

    Parameters
    ----------
    samples : mapping of str to sequence of Path
        ``{sample name: image paths}`` in the order to report them (see
        :func:`~particle_gui.core.output.samples.samples_from_folder`).
    out_dir : str or Path
        Output folder, created if needed.
    params : PipelineParams
        Analysis parameters for every image; ``params.summary`` also drives the pooled statistics.
    pixel_size_nm, scale_bar_nm : float, optional
        As in :func:`~particle_gui.core.output.batch.analyze_file`.
    progress : callable, optional
        See :data:`ReportProgress`; the steps are the images, then the PDF pages, then the tables.
    should_cancel : callable, optional
        Checked before each image, at each pipeline stage and before each PDF page.
    command : sequence of str
        The command line, recorded for provenance.
    title : str
        Title of the PDF.
    provenance : dict, optional
        Further provenance for ``run.json``, ``comparison.json`` and the PDF (the adapted profile applied).
    jobs : int
        Images analysed at once in worker processes (1: here, one after another).
    montage_above_px : int
        TIFFs of more pixels are analysed in tiles (default: the in-memory limit).

    Returns
    -------
    ReportResult

    Raises
    ------
    ValueError
        ``samples`` is empty or a sample has no images.
    CancelledError
        ``should_cancel`` returned True; outputs of the images done so far stay, the report
        files are not written.
    ExportError
        A file cannot be written.
    """
    if not samples or any(len(paths) == 0 for paths in samples.values()):
        raise ValueError("build_report needs at least one sample, each with at least one image.")
    started = time.perf_counter()
    extra_provenance = dict(provenance or {})
    out_dir = Path(out_dir)
    _mkdir(out_dir)
    n_images = sum(len(paths) for paths in samples.values())
    total = 2 * n_images + len(samples) + 3 + 2
    done = 0

    def step(message: str) -> None:
        nonlocal done
        if should_cancel is not None and should_cancel():
            raise CancelledError("The report was cancelled.")
        if progress is not None:
            progress(done, total, message)
        done += 1

    options = {"pixel_size_nm": pixel_size_nm, "scale_bar_nm": scale_bar_nm, "profiles": tuple(profiles),
               "montage_above_px": montage_above_px}
    pooled, written = [], []
    tasks = []  # (sample name, path, stem, sample folder), in report order
    for (name, paths), folder in zip(samples.items(), folder_names(samples)):
        _mkdir(out_dir / folder)
        tasks += [(name, path, stem, out_dir / folder)
                  for path, stem in zip(map(Path, paths), unique_stems([Path(p) for p in paths]))]
    analysed = _analyse_all(tasks, params, options, jobs, should_cancel, step)
    for (name, paths), folder in zip(samples.items(), folder_names(samples)):
        sample_dir = out_dir / folder
        records = [analysed[i] for i, task in enumerate(tasks) if task[0] == name]
        batch = BatchReport(out_dir=sample_dir, params=params, options=options, command=tuple(command),
                            outcomes=[r.outcome for r in records], provenance=extra_provenance)
        batch.finished_at = _now()
        batch.write_records()
        written += [p for r in records for p in r.outcome.outputs]
        written += [sample_dir / "summary.csv", sample_dir / "run.json"]
        pooled.append(pool_sample(name, records, params.summary, folder_name=folder))
    analysed_at = time.perf_counter()

    comparisons, unit_warnings = comparisons_for(
        {s.name: s.diameters() for s in pooled}, {s.name: s.unit for s in pooled},
        levels={s.name: s.images_level for s in pooled},
    )
    warnings = [w for s in pooled for w in s.warnings] + unit_warnings
    warnings += [w for s in pooled if s.unit is not None and (w := stability_warning(s.name, s.summary))]
    warnings += [note for c in comparisons for note in c.notes]
    verdicts = [v for c in comparisons for v in c.verdicts]
    if not comparisons:
        verdicts = ["Only one sample: nothing to compare." if len(pooled) == 1
                    else "No two samples share a unit (nm or px): nothing to compare."]
    provenance = {
        **extra_provenance,
        "software": "particle-gui",
        "version": particle_gui.__version__,
        "created_at": _now(),
        "command_line": list(command),
        "out_dir": str(out_dir),
        "params": params.to_dict(),
        "options": recorded_options(options),
        "environment": {"python": platform.python_version(),
                        **{name: _version(name) for name in (*RECORDED_PACKAGES, "matplotlib")}},
    }
    content = ReportContent(title=title, created_at=provenance["created_at"], samples=tuple(pooled),
                            comparisons=tuple(comparisons), verdicts=tuple(verdicts), warnings=tuple(warnings),
                            provenance=provenance)
    pdf_bytes = render_pdf(content, step=step)
    pdf_at = time.perf_counter()
    step("writing report.xlsx")
    paths = {name: out_dir / name for name in (PDF_NAME, EXCEL_NAME, JSON_NAME)}
    export.atomic_write_bytes(paths[PDF_NAME], pdf_bytes)
    write_report_excel(paths[EXCEL_NAME], pooled, comparisons, verdicts, warnings)
    excel_at = time.perf_counter()
    step("writing comparison.json")
    record = {**provenance, "samples": sample_rows(pooled), "images": image_rows(pooled),
              "comparisons": [c.to_dict() for c in comparisons], "verdicts": verdicts, "warnings": warnings}
    export.atomic_write_text(paths[JSON_NAME], json.dumps(json_safe(record), indent=2, ensure_ascii=False) + "\n")
    if progress is not None:
        progress(total, total, "done")
    timings = {"analysis": analysed_at - started, "pdf": pdf_at - analysed_at, "excel": excel_at - pdf_at,
               "total": time.perf_counter() - started}
    return ReportResult(
        out_dir=out_dir, pdf_path=paths[PDF_NAME], excel_path=paths[EXCEL_NAME], json_path=paths[JSON_NAME],
        samples=tuple(pooled), comparisons=tuple(comparisons), verdicts=tuple(verdicts), warnings=tuple(warnings),
        paths=(*written, *paths.values()), pages=page_count(content), timings_s=timings,
    )


def excel_sheet_names(names: Iterable[str]) -> list[str]:
    r"""Valid, unique sheet names for samples.

    At most 31 characters, none of ``[]:*?/\``, never "summary" or "comparison" (compared ignoring
    case, as Excel does).

    >>> excel_sheet_names(["A", "summary", "a", "x/y" + "z" * 40])
    ['A', 'summary_2', 'a_2', 'x_yzzzzzzzzzzzzzzzzzzzzzzzzzzzz']
    """
    used = {name.casefold() for name in RESERVED_SHEETS}
    result = []
    for name in names:
        base = _SHEET_UNSAFE.sub("_", name).strip("'")[:31] or "sample"
        candidate, number = base, 1
        while candidate.casefold() in used:
            number += 1
            suffix = f"_{number}"
            candidate = base[: 31 - len(suffix)] + suffix
        used.add(candidate.casefold())
        result.append(candidate)
    return result


def comparison_table(comparisons: Iterable[GroupComparison]) -> pd.DataFrame:
    """The tests and pairwise comparisons as rows (the workbook's "comparison" sheet)."""
    rows: list[dict[str, Any]] = []
    for c in comparisons:
        listed = ", ".join(c.samples)
        rows.append({"unit": c.unit, "test": "Kruskal-Wallis (diameter)", "samples": listed,
                     "statistic": c.kruskal_h, "p_value": c.kruskal_pvalue})
        rows.append({"unit": c.unit, "test": "one-way ANOVA (ln diameter)", "samples": listed,
                     "statistic": c.anova_f, "p_value": c.anova_pvalue})
        for p in c.pairs:
            rows.append({
                "unit": c.unit, "test": "pair: Tukey HSD (ln diameter), KS", "samples": f"{p.first} vs {p.second}",
                "median_first": p.median_first, "median_second": p.median_second, "change_percent": p.change_percent,
                "p_value": p.tukey_pvalue, "statistic": p.ks_statistic, "ks_pvalue": p.ks_pvalue,
                "ks_pvalue_holm": p.ks_pvalue_holm, "larger": p.larger, "verdict": p.verdict,
            })
    columns = ["unit", "test", "samples", "statistic", "p_value", "median_first", "median_second", "change_percent",
               "ks_pvalue", "ks_pvalue_holm", "larger", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def write_report_excel(
    path: str | Path, samples: Sequence[SampleData], comparisons: Sequence[GroupComparison],
    verdicts: Sequence[str], warnings: Sequence[str],
) -> None:
    """Write the workbook: a "summary" sheet, a "comparison" sheet and one sheet per sample.

    "summary" holds per-image, then per-sample rows; "comparison" the tests, pairs, then verdicts and
    warnings; each sample's sheet its pooled particles.
    """
    buffer = io.BytesIO()
    summary = pd.DataFrame(image_rows(samples) + sample_rows(samples))
    table = comparison_table(comparisons)
    notes = pd.DataFrame({"verdicts and warnings": [*verdicts, *warnings]})
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name="summary", index=False)
        table.to_excel(writer, sheet_name="comparison", index=False)
        notes.to_excel(writer, sheet_name="comparison", index=False, startrow=len(table) + 2)
        for sample, sheet in zip(samples, excel_sheet_names(s.name for s in samples)):
            sample.particles.to_excel(writer, sheet_name=sheet, index=False)
    export.atomic_write_bytes(path, buffer.getvalue())


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot create the folder {folder}: {exc.strerror or exc}.") from exc


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _analyse_all(tasks, params, options, jobs, should_cancel, step) -> dict[int, Any]:
    """Every task's :class:`ImageRecord` by index: here one after another, or in ``jobs`` worker processes."""
    analysed: dict[int, Any] = {}
    if min(jobs, len(tasks)) <= 1:
        for i, (name, path, stem, folder) in enumerate(tasks):
            step(f"analysing {name}/{path.name}")
            analysed[i] = analyse_image(name, path, stem, folder, params, should_cancel=should_cancel, **options)
        return analysed

    def finish(i: int, record) -> None:
        analysed[i] = record
        step(f"analysed {tasks[i][0]}/{tasks[i][1].name}")

    def failed(i: int, reason: str):
        name, path, stem, _ = tasks[i]
        return ImageRecord(sample=name, outcome=failed_outcome(path, stem, reason))

    items = [(i, (name, path, stem, folder, params)) for i, (name, path, stem, folder) in enumerate(tasks)]
    parallel.run_elsewhere(functools.partial(analyse_image, **options), items, jobs, None, should_cancel, finish, failed,
                           sorted({folder for *_, folder in tasks}))
    return analysed
