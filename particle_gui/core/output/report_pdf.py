"""The pages of the PDF report, drawn with matplotlib's Figure and PDF backend (never pyplot, no Qt).

Pages, in order (A4 landscape):

1. summary: samples table, verdicts, warnings, failed images;
2. provenance: software and package versions, command line, calibration sources, manual
   edits, every analysis parameter;
3. one comparison page per unit with two or more samples: overlaid histograms, cumulative
   distributions, box plots, test results and pairwise comparisons;
4. per sample: a page with the pooled histogram and log-normal fit, the shape plots and the
   summary with confidence intervals, followed by one page per analysed image (original,
   overlay, calibration).

Text is embedded as TrueType (``pdf.fonttype`` 42), so it can be searched and extracted.
"""

from __future__ import annotations

from pathlib import Path

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib import colormaps, rc_context
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from particle_gui.core.statistics.compare import (
    GroupComparison, d50_ci_halfwidth_percent, format_change, format_length, format_number, format_p,
)
from particle_gui.core.output.report_layout import (
    MARGIN, RC, draw_table, new_page, range_text, short_name, with_ci, write_lines,
)
from particle_gui.core.output.samples import ImageRecord, SampleData

MAX_HISTOGRAM_BINS = 60
Step = Callable[[str], None]


@dataclass(frozen=True)
class ReportContent:
    """What the PDF shows (the same data as the Excel workbook and ``comparison.json``)."""

    title: str
    created_at: str
    samples: tuple[SampleData, ...]
    comparisons: tuple[GroupComparison, ...]
    verdicts: tuple[str, ...]
    warnings: tuple[str, ...]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def colours(self) -> dict[str, tuple[float, ...]]:
        palette = colormaps["tab10"].colors
        return {s.name: palette[i % len(palette)] for i, s in enumerate(self.samples)}


def page_count(content: ReportContent) -> int:
    """Pages of the report: 2 + comparison pages + one per sample + one per analysed image."""
    images = sum(record.ok for sample in content.samples for record in sample.images)
    return 2 + len(content.comparisons) + len(content.samples) + images


def render_pdf(content: ReportContent, *, step: Step | None = None) -> bytes:
    """Draw the report and return the PDF file's bytes.

    Parameters
    ----------
    content : ReportContent
    step : callable, optional
        Called with a short description before the summary, the provenance and the comparison
        pages and before each sample and each image (also a failed one, which gets no page);
        it may raise to stop (e.g. :class:`~particle_gui.core.errors.CancelledError`).
    """
    step = step or (lambda message: None)
    buffer = io.BytesIO()
    total = page_count(content)
    metadata = {"Title": content.title, "Creator": f"particle-gui {content.provenance.get('version', '')}"}
    with rc_context(RC), PdfPages(buffer, metadata=metadata) as pdf:
        page = _Pages(pdf, total, content)
        step("summary page")
        page.add(_summary_page(content))
        step("provenance page")
        page.add(_provenance_page(content))
        step("comparison pages")
        for comparison in content.comparisons:
            page.add(_comparison_page(content, comparison))
        for sample in content.samples:
            step(f"sample {sample.name}")
            page.add(_sample_page(content, sample))
            for record in sample.images:
                step(f"{sample.name}/{record.name}")
                if record.ok:
                    page.add(_image_page(content, sample, record))
    return buffer.getvalue()


class _Pages:
    """Adds pages to the PDF, each with a footer: title, version, date, "page n of N"."""

    def __init__(self, pdf: PdfPages, total: int, content: ReportContent) -> None:
        self.pdf, self.total, self.number, self.content = pdf, total, 0, content

    def add(self, fig: Figure) -> None:
        self.number += 1
        footer = f"{self.content.title} - particle-gui {self.content.provenance.get('version', '')} - " \
                 f"{self.content.created_at} - page {self.number} of {self.total}"
        fig.text(0.5, 0.018, footer, ha="center", va="bottom", fontsize=6.5, color="0.4")
        self.pdf.savefig(fig)


def _summary_page(content: ReportContent) -> Figure:
    fig = new_page(content.title, f"Created {content.created_at}; results in {content.provenance.get('out_dir', '')}")
    header = ["Sample", "Images (ok / failed)", "Particles", "Unit", "D10", "D50 [95 % CI]", "D90", "GSD"]
    rows = []
    for sample in content.samples:
        s, unit = sample.summary, sample.unit or "px"
        analysed = sum(r.ok for r in sample.images)
        rows.append([
            sample.name, f"{len(sample.images)} ({analysed} / {len(sample.failed)})", str(s.count), sample.unit or "-",
            format_length(s.d10, unit), with_ci(s.d50, s.d50_ci95, unit), format_length(s.d90, unit),
            format_number(s.gsd) if s.gsd else "n/a",
        ])
    bottom = draw_table(fig, MARGIN, 0.86, 1 - 2 * MARGIN, header, rows, [0.16, 0.14, 0.08, 0.05, 0.11, 0.22, 0.11, 0.07],
                    size=8.5, row_height=0.034)
    y = bottom - 0.04
    y = write_lines(fig, MARGIN, y, content.verdicts, width=1 - 2 * MARGIN, size=9, heading="Comparison")
    failed = [f"{s.name}/{r.name}: {r.outcome.row['status']}" for s in content.samples for r in s.failed]
    y = write_lines(fig, MARGIN, y, list(content.warnings) or ["none"], width=1 - 2 * MARGIN, heading="Warnings",
               colour="#8a3b00")
    write_lines(fig, MARGIN, y, failed or ["none"], width=1 - 2 * MARGIN, heading="Failed images", colour="#a00000")
    return fig


#: What each size and shape column means, as the README's table says it (ImageJ's and ISO's names).
DEFINITIONS = (
    "Area: pixels inside the outline, or with the edge at half maximum when that option is on; "
    "ECD: diameter of the disc of that area (ISO x_A).",
    "Perimeter: hull of pixel centres grown by half a pixel, times the outline/hull ratio when concave; "
    "independent of orientation (ImageJ Perim. is not).",
    "Feret max/min: caliper widths of the hull of pixel centres + 1 px (ImageJ Feret/MinFeret; ISO Feret).",
    "Feret ratio: Feret max / min (1 / ISO aspect ratio). Ellipse ratio: major/minor axis (ImageJ AR).",
    "Circularity: 4 pi A / P^2, at most 1 (ImageJ Circ.; ISO form factor). Solidity: A / convex area.",
    "D50 interval: over image medians (the image is the unit). D10-D90 by number unless marked area/volume.",
    "Left out: particles cut by the border or data bar (edge-corrected D50 by Miles-Lantuejoul weights), "
    "burned-in text, objects removed by the opening and the minimum area.",
    "Suspect particle: confidence under 0.6 (network) / 0.4 (classical), solidity under 0.85, or ECD over 3x or "
    "under 0.4x the image median: likely wrong, to check first (flags 76 % of wrong and 2 % of right particles "
    "on EMPS validation with the network).",
)


def _provenance_page(content: ReportContent) -> Figure:
    info = content.provenance
    fig = new_page("Provenance", "How these results were made: software, inputs, calibration, parameters.")
    packages = ", ".join(f"{k} {v}" for k, v in info.get("environment", {}).items() if v)
    options = info.get("options", {})
    given = [f"{label}: {format_length(options[key], 'nm') if options.get(key) else 'not given'}"
             for key, label in (("pixel_size_nm", "pixel size"), ("scale_bar_nm", "scale bar length"))]
    lines = [f"particle-gui {info.get('version', '')}", packages, f"Created {content.created_at}",
             "Command: " + (" ".join(info.get("command_line", [])) or "(called from Python)"), "; ".join(given)]
    adapted = info.get("adapted_profile")
    if adapted:
        lines.append(f"Adapted profile {Path(adapted['path']).name} ({adapted['method']}, {adapted['created'][:10]}) "
                     f"from {len(adapted['images'])} corrected image(s): " + (", ".join(adapted["changed"]) or "no change"))
    y = write_lines(fig, MARGIN, 0.87, lines, width=0.45, heading="Software and run")
    sources: dict[str, int] = {}
    edits = []
    records = [r for s in content.samples for r in s.images]
    for record in records:
        if record.calibration is not None:
            key = record.calibration.describe()
            sources[key] = sources.get(key, 0) + 1
        if record.manual_edits:
            edits.append(f"{record.sample}/{record.name}: {record.manual_edits} manual edit(s)")
    y = write_lines(fig, MARGIN, y, [f"{count} image(s): {text}" for text, count in sources.items()] or ["none"],
               width=0.45, heading="Calibration sources")
    y = write_lines(fig, MARGIN, y, edits or [f"no manual edits (0 in all {len(records)} images)"],
               width=0.45, heading="Manual edits")
    inputs = [f"{s.name}: {len(s.images)} image(s) from {s.images[0].outcome.path.parent if s.images else '-'}"
              for s in content.samples]
    y = write_lines(fig, MARGIN, y, [*inputs, "SHA-256 of every input: run.json in each sample folder"], width=0.45,
                    heading="Inputs")
    write_lines(fig, MARGIN, y, DEFINITIONS, width=0.45, size=7, heading="Definitions (ImageJ; ISO 9276-6)")
    params = _flatten(info.get("params", {}))
    half = (len(params) + 1) // 2
    fig.text(0.52, 0.87, "Analysis parameters", fontsize=10, fontweight="bold", va="top")
    for column, chunk in enumerate((params[:half], params[half:])):
        write_lines(fig, 0.52 + column * 0.24, 0.835, chunk, width=0.23, size=7.5)
    return fig


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    lines = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines.extend(_flatten(value, f"{prefix}{key}."))
        else:
            lines.append(f"{prefix}{key} = {value}")
    return lines


def _comparison_page(content: ReportContent, comparison: GroupComparison) -> Figure:
    unit = comparison.unit
    samples = [s for s in content.samples if s.unit == unit]
    fig = new_page(f"Comparison of samples ({unit})", ", ".join(s.name for s in samples))
    data = [(s.name, s.diameters()) for s in samples if s.diameters().size]
    colours = content.colours
    ax_hist, ax_cdf, ax_box = (fig.add_axes([0.06 + i * 0.32, 0.52, 0.26, 0.33]) for i in range(3))
    if data:
        every = np.concatenate([d for _, d in data])
        bins = np.histogram_bin_edges(every, bins=min(MAX_HISTOGRAM_BINS, max(10, int(np.sqrt(every.size)))))
        for name, d in data:
            ax_hist.hist(d, bins=bins, density=True, histtype="step", lw=1.4, color=colours[name], label=name)
            ax_cdf.step(np.sort(d), np.arange(1, d.size + 1) / d.size, where="post", color=colours[name], label=name)
        box = ax_box.boxplot([d for _, d in data], showfliers=True, flierprops={"markersize": 2}, patch_artist=True)
        for patch, (name, _) in zip(box["boxes"], data):
            patch.set_facecolor(colours[name])
            patch.set_alpha(0.5)
        ax_box.set_xticks(range(1, len(data) + 1), [name for name, _ in data])
        ax_hist.legend(frameon=False)
    ax_hist.set(title="Size distributions", xlabel=f"ECD ({unit})", ylabel=f"density (1/{unit})")
    ax_cdf.set(title="Cumulative distributions", xlabel=f"ECD ({unit})", ylabel="fraction smaller", ylim=(0, 1.02))
    ax_box.set(title="Box plots (median, quartiles, 1.5 IQR)", ylabel=f"ECD ({unit})")
    tests = [
        f"Kruskal-Wallis on diameters: H = {format_number(comparison.kruskal_h)}, "
        f"{format_p(comparison.kruskal_pvalue)}",
        f"One-way ANOVA on ln(diameter): F = {format_number(comparison.anova_f)}, {format_p(comparison.anova_pvalue)}",
    ] if len(comparison.samples) >= 2 else []
    y = write_lines(fig, MARGIN, 0.43, [*tests, *comparison.notes], width=0.42, heading="Tests")
    header = ["Pair", "Medians", "Change", "Tukey p (ln d)", "KS D", "KS p (Holm)"]
    rows = [[f"{p.first} vs {p.second}", f"{format_number(p.median_first)} vs {format_number(p.median_second)} {unit}",
             f"{format_change(p.change_percent)} %", format_p(p.tukey_pvalue), f"{p.ks_statistic:.2f}",
             format_p(p.ks_pvalue_holm)]
            for p in comparison.pairs]
    bottom = draw_table(fig, 0.5, 0.43, 1 - 0.5 - MARGIN, header, rows, [0.16, 0.26, 0.1, 0.18, 0.1, 0.2])
    write_lines(fig, MARGIN, min(y, bottom - 0.03), comparison.verdicts, width=1 - 2 * MARGIN, size=9, heading="Verdicts")
    return fig


def _sample_page(content: ReportContent, sample: SampleData) -> Figure:
    s, unit = sample.summary, sample.unit or "px"
    analysed = sum(r.ok for r in sample.images)
    fig = new_page(f"Sample {sample.name}", f"{len(sample.images)} image(s), {analysed} analysed, "
                f"{len(sample.pooled)} pooled, {len(sample.failed)} failed; {s.count} particles; sizes in {unit}")
    colour = content.colours[sample.name]
    d = sample.diameters()
    ax_hist = fig.add_axes([0.06, 0.5, 0.38, 0.34])
    ax_circ, ax_aspect = (fig.add_axes([0.52 + i * 0.24, 0.5, 0.19, 0.34]) for i in range(2))
    if d.size:
        bins = np.histogram_bin_edges(d, bins=min(MAX_HISTOGRAM_BINS, max(8, int(np.sqrt(d.size)))))
        ax_hist.hist(d, bins=bins, density=True, color=colour, alpha=0.55, edgecolor="white", lw=0.4, label="particles")
        if s.lognormal is not None and s.lognormal.sigma > 0:
            x = np.linspace(bins[0], bins[-1], 300)[1:] if bins[0] <= 0 else np.linspace(bins[0], bins[-1], 300)
            fit = s.lognormal
            density = np.exp(-((np.log(x) - fit.mu) ** 2) / (2 * fit.sigma**2)) / (x * fit.sigma * np.sqrt(2 * np.pi))
            ax_hist.plot(x, density, color="black", lw=1.2,
                         label=f"log-normal fit: median {format_length(fit.median, unit)}, σ = {fit.sigma:.2f}")
        # Staggered down the axis and on a white ground: close percentiles never print over each other or the bars.
        for (value, name), height in zip(((s.d10, "D10"), (s.d50, "D50"), (s.d90, "D90")), (0.98, 0.72, 0.46)):
            ax_hist.axvline(value, color="0.3", ls="--", lw=0.8)
            ax_hist.text(value, height, name, transform=ax_hist.get_xaxis_transform(), fontsize=6.5, ha="center",
                         va="top", rotation=90, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.8})
        ax_hist.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=6.5)
        for ax, column in ((ax_circ, "circularity"), (ax_aspect, "feret_ratio")):
            ax.scatter(d, sample.particles[column], s=7, alpha=0.5, color=colour, lw=0, rasterized=True)
    else:
        ax_hist.text(0.5, 0.5, "no particles", ha="center", transform=ax_hist.transAxes)
    ax_hist.set_title("Size distribution (pooled)", loc="left")
    ax_hist.set(xlabel=f"ECD ({unit})", ylabel=f"density (1/{unit})")
    ax_circ.set(title="Shape: circularity", xlabel=f"ECD ({unit})", ylabel="circularity 4πA/P²")
    ax_aspect.set(title="Shape: aspect ratio", xlabel=f"ECD ({unit})", ylabel="aspect ratio (Feret max / min)")
    half = d50_ci_halfwidth_percent(s)
    stats_rows = [
        ["Particles", f"{s.count} from {len(sample.pooled)} image(s)", ""],
        ["Mean", format_length(s.mean, unit), range_text(s.mean_ci95)],
        ["Std", format_length(s.std, unit), ""],
        ["D10", format_length(s.d10, unit), ""],
        ["D50", format_length(s.d50, unit), range_text(s.d50_ci95) + (f" (±{half:.1f} %)" if half is not None else "")],
        ["D90", format_length(s.d90, unit), ""],
        ["Geometric mean / GSD",
         f"{format_length(s.geometric_mean, unit)} / {format_number(s.gsd) if s.gsd else 'n/a'}", ""],
        ["Log-normal fit", f"median {format_length(s.lognormal.median, unit)}, σ = {s.lognormal.sigma:.3f}"
         if s.lognormal else "n/a", f"Lilliefors {format_p(s.lognormal.lilliefors_pvalue)}" if s.lognormal else ""],
        ["Size families (share)", ", ".join(f"{format_number(f.median)} ({f.weight:.0%})" for f in s.families)
         + f" {unit}" if s.families else "n/a", ""],
    ]
    draw_table(fig, MARGIN, 0.4, 0.44, ["Statistic", "Value", "95 % CI"], stats_rows, [0.27, 0.46, 0.27])
    image_rows = [[short_name(r.name, 20), str(r.outcome.row["n_particles"] if r.ok else "-"),
                   format_length(r.summary.d50, r.unit) if r.ok and r.summary else "-",
                   _calibration_short(r),
                   _image_status(sample, r)] for r in sample.images]
    draw_table(fig, 0.52, 0.4, 1 - 0.52 - MARGIN, ["Image", "Particles", "D50", "Calibration", "Status"], image_rows,
           [0.28, 0.1, 0.12, 0.32, 0.18], row_height=0.02, max_rows=12)
    notes = list(sample.warnings)
    if notes:
        write_lines(fig, MARGIN, 0.085, notes, width=1 - 2 * MARGIN, size=7.5, colour="#8a3b00", bottom=0.03)
    return fig


def _calibration_short(record: ImageRecord) -> str:
    calibration = record.calibration
    if calibration is None:
        return "-"
    if not calibration.is_calibrated:
        return "uncalibrated"
    return f"{format_number(calibration.pixel_size_nm)} nm/px ({calibration.source.replace('_', ' ')})"


def _image_status(sample: SampleData, record: ImageRecord) -> str:
    if not record.ok:
        return "failed"
    return "left out (unit)" if record.name in sample.excluded else "pooled"


def _left_out_line(row: dict, unit: str) -> str:
    """Objects left out by the edge, the filters and burned-in text, and the smallest reliable size."""
    parts = [f"{row.get(key) or 0} {what}" for key, what in (
        ("excluded_at_edge", "at the image's edge"), ("excluded_at_data_bar", "at the data bar"),
        ("excluded_annotations", "burned-in text"),
        ("removed_by_opening", "by the opening"), ("removed_below_min_area", "under the minimum area"))]
    largest = row.get("removed_ecd_max")
    text = "Left out: " + ", ".join(parts)
    if largest:
        text += f" (filtered objects up to ECD {format_length(largest, unit)})"
    if row.get("reliable_min_ecd"):
        text += f"; sizes reliable from ECD {format_length(row['reliable_min_ecd'], unit)}"
    return text


def _image_page(content: ReportContent, sample: SampleData, record: ImageRecord) -> Figure:
    row = record.outcome.row
    fig = new_page(f"{sample.name} / {record.name}", str(record.outcome.path))
    for i, (picture, title) in enumerate(((record.preview, "Original"),
                                         (record.overlay_preview, f"Particles ({row['n_particles']} outlined)"))):
        ax = fig.add_axes([MARGIN + i * 0.465, 0.3, 0.445, 0.56])
        ax.imshow(picture, cmap="gray", vmin=0, vmax=255, interpolation="none")
        ax.set_title(title)
        ax.set_axis_off()
    unit = record.unit or "px"
    s = record.summary
    height, width = record.image_shape or (0, 0)
    if row.get("scale_bar_label"):
        scale_bar = f"scale bar {row['scale_bar_px']} px labelled '{row['scale_bar_label']}'"
    elif row.get("scale_bar_px"):
        scale_bar = f"scale bar {row['scale_bar_px']} px in the data bar, label not read"
    else:
        scale_bar = "no scale bar found"
    if row.get("outlier_pixels"):
        scale_bar += f"; {row['outlier_pixels']} hot/cold pixels replaced"
    if row.get("suspect"):
        scale_bar += "; SUSPECT result (see the warnings)"
    lines = [
        f"Calibration: {record.calibration.describe() if record.calibration else 'none'}",
        f"Image {width} x {height} px; data bar: {row.get('data_bar_rows') or 0} rows excluded; {scale_bar}",
        f"Particles: {row['n_particles']}; D10 {format_length(s.d10, unit)}, D50 {with_ci(s.d50, s.d50_ci95, unit)}, "
        f"D90 {format_length(s.d90, unit)}" if s else "",
        _left_out_line(row, unit),
        "Manual edits: " + (f"{record.manual_edits}" if record.manual_edits else "no manual edits")
        + (f"; suspect particles (likely wrong, to check first): {row['suspect_particles']}"
           if row.get("suspect_particles") is not None else ""),
        "Pooled into the sample: " + ("yes" if record.name not in sample.excluded else "no (its unit differs)"),
        "Outputs: " + ", ".join(f"{sample.folder_name}/{path.name}" for path in record.outcome.outputs),
    ]
    y = write_lines(fig, MARGIN, 0.26, lines, width=1 - 2 * MARGIN, size=8.5)
    if row.get("warnings"):
        write_lines(fig, MARGIN, y, row["warnings"].split("; "), width=1 - 2 * MARGIN, size=8, colour="#8a3b00",
               heading=None)
    return fig
