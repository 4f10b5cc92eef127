"""Read-only summary of one result: counts, percentiles, intervals, log-normal fit, families, calibration."""

from __future__ import annotations

import html
import math

from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from particle_gui.core.analysis.pipeline import PipelineResult, particle_class_summaries
from particle_gui.core.analysis.shape_classes import PENDING
from particle_gui.core.statistics.stats import MIN_FOR_FIT, MIN_PER_FAMILY, Summary

#: A Kolmogorov-Smirnov p-value below this rejects the log-normal fit.
KS_ALPHA = 0.05
PLACEHOLDER = "No analysis result yet."
WARNING_COLOUR = "#a05000"


def format_number(value: float | None, unit: str = "") -> str:
    """A number with 4 significant digits (no exponent below 10⁴) and its unit.

    >>> format_number(30.2566, "px"), format_number(12345.6, "nm"), format_number(None)
    ('30.26 px', '12346 nm', '—')
    """
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    return f"{text} {unit}" if unit else text


def format_pvalue(p: float) -> str:
    """``p = 0.776``, or ``p < 0.001`` for tiny values."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


def summary_rows(result: PipelineResult) -> list[tuple[str, str]]:
    """(label, value) rows of the summary of ``result``, every length with its unit."""
    s: Summary = result.summary
    u = s.unit
    rows = [("Particles", f"{result.count:d}")]
    if s.count == 0:
        return rows
    rows += [
        ("Mean ± std", f"{format_number(s.mean, u)} ± {format_number(s.std, u)}"),
        ("Mean, 95 % CI", _interval(s.mean_ci95, u)),
        ("D10", format_number(s.d10, u)),
        ("D50", f"{format_number(s.d50, u)} (95 % CI {_interval(s.d50_ci95, u)})"),
        ("D90", format_number(s.d90, u)),
        ("Geometric mean", f"{format_number(s.geometric_mean, u)}, GSD {format_number(s.gsd)}"),
    ]
    fit = s.lognormal
    if fit is None:
        rows.append(("Log-normal fit", f"needs at least {MIN_FOR_FIT} particles"))
    elif fit.sigma <= 0:
        rows.append(("Log-normal fit", "all diameters are equal: nothing to fit"))
    else:
        verdict = ("no evidence against it" if fit.lilliefors_pvalue >= KS_ALPHA
                   else f"not log-normal (p < {KS_ALPHA:g})")
        fit_text = f"median {format_number(fit.median, u)}, σ(ln d) {format_number(fit.sigma)}"
        rows.append(("Log-normal fit", f"{fit_text}; Lilliefors {format_pvalue(fit.lilliefors_pvalue)}: {verdict}"))
    if not s.families:
        rows.append(("Size families", f"needs at least {MIN_PER_FAMILY} particles"))
    for index, family in enumerate(s.families, start=1):
        weight = format_number(100 * family.weight, "%")
        text = f"{index}: {weight} by number, median {format_number(family.median, u)}, GSD {format_number(family.gsd)}"
        rows.append(("Size families" if index == 1 else "", text))
    rows += iso_rows(result)
    rows += shape_class_rows(result)
    if result.trust is not None and math.isfinite(result.trust.confidence):
        verdict = "suspect: check it" if result.trust.suspect else "no doubt raised"
        rows.append(("Confidence", f"median {result.trust.confidence:.2f}, {result.trust.unsure_particles} unsure "
                                   f"particle(s); {verdict}"))
    return rows


def iso_rows(result: PipelineResult) -> list[tuple[str, str]]:
    """The ISO 9276-2 rows: weighted D50s, moment means, edge correction, nanomaterial fraction, sample size."""
    iso, u = result.summary.iso, result.summary.unit
    if iso is None:
        return []
    rows = [("D50 by area / volume", f"{format_number(iso.area.d50, u)} / {format_number(iso.volume.d50, u)}"),
            ("D[3,2] / D[4,3]", f"{format_number(iso.sauter_mean, u)} / {format_number(iso.de_brouckere_mean, u)}")]
    if iso.edge_corrected:
        rows.append(("D50 edge-corrected", f"{format_number(iso.number.d50, u)} (Miles-Lantuéjoul)"))
    if iso.nano_fraction is not None and iso.nano_fraction_ci95 is not None:
        low, high = iso.nano_fraction_ci95
        rows.append(("Under 100 nm", f"{100 * iso.nano_fraction:.1f} % by number (95 % CI {100 * low:.1f}–{100 * high:.1f} %)"))
    if iso.particles_for_5_percent_d50 is not None:
        rows.append(("For ±5 % on D50", f"{iso.particles_for_5_percent_d50} particles needed "
                                        f"({result.summary.count} measured)"))
    excluded = sum(result.removed.values())
    if excluded:
        names = {"edge": "at the image's edge", "data_bar": "at the data bar", "annotation": "burned-in text"}
        rows.append(("Left out", ", ".join(f"{n} {names.get(k, k)}" for k, n in result.removed.items() if n)))
    pixel = result.calibration.pixel_size_nm
    for name, title in (("opening", "Removed by opening"), ("min_area", "Under minimum area")):
        loss = result.filtered.get(name)
        if loss is not None and loss.count:
            rows.append((title, loss.describe(pixel)))
    rows.append(("Reliable from", f"ECD {format_number(result.reliable_min_ecd_px * (pixel or 1.0), u)} "
                                  "(smaller sizes are biased by the pixels and the filters)"))
    return rows


def shape_class_rows(result: PipelineResult) -> list[tuple[str, str]]:
    """One row per shape class: count, share by number, D50."""
    rows = []
    for index, c in enumerate(particle_class_summaries(result)):
        share = format_number(100 * c.fraction, "%")
        text = f"{c.shape_class}: {c.count} ({share}), D50 {format_number(c.d50, result.summary.unit)}"
        if c.shape_class == PENDING:
            text = f"being classified: {c.count} ({share})"
        rows.append(("Shape classes" if index == 0 else "", text))
    return rows


def _interval(interval: tuple[float, float] | None, unit: str) -> str:
    if interval is None:
        return f"needs at least {MIN_FOR_FIT} particles"
    low, high = interval
    return f"{format_number(low, unit)} – {format_number(high, unit)}"


def summary_html(result: PipelineResult) -> str:
    """The summary of ``result`` as an HTML table, then calibration and warnings."""
    rows = summary_rows(result) + [("Calibration", result.calibration.describe())]
    lines = ["<table cellspacing='0' cellpadding='2'>"]
    for label, value in rows:
        lines.append(f"<tr><td><b>{html.escape(label)}</b>&nbsp;&nbsp;</td><td>{html.escape(value)}</td></tr>")
    lines.append("</table>")
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        lines.append(f"<p style='color:{WARNING_COLOUR}'><b>Warnings</b></p>")
        lines.append(f"<ul style='color:{WARNING_COLOUR}'>{items}</ul>")
    return "\n".join(lines)


def summary_text(result: PipelineResult) -> str:
    """The same as :func:`summary_html`, as plain ``label: value`` lines."""
    rows = summary_rows(result) + [("Calibration", result.calibration.describe())]
    lines = [f"{label}: {value}" if label else f"    {value}" for label, value in rows]
    if result.warnings:
        lines += ["Warnings:"] + [f"- {w}" for w in result.warnings]
    return "\n".join(lines)


class SummaryPanel(QWidget):
    """Read-only rich-text summary of the size distribution; the text can be selected and copied."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._browser = QTextBrowser()
        self._browser.setOpenLinks(False)
        self._browser.setReadOnly(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._browser)
        self.set_result(None)

    def set_result(self, result: PipelineResult | None) -> None:
        """Show the summary of ``result``; None shows a placeholder."""
        if result is None:
            self._text = ""
            self._browser.setHtml(f"<p style='color:gray'>{PLACEHOLDER}</p>")
        else:
            self._text = summary_text(result)
            self._browser.setHtml(summary_html(result))

    def text(self) -> str:
        """The summary as plain ``label: value`` lines; empty when there is no result."""
        return self._text
