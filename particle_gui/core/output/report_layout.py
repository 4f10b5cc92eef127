"""The report's page furniture: A4 landscape pages, wrapped text, grid tables, short labels."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from matplotlib.figure import Figure

from particle_gui.core.statistics.compare import format_length, format_number

PAGE_SIZE_IN = (11.69, 8.27)  # A4 landscape
RC = {
    "pdf.fonttype": 42,
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
MAX_TABLE_ROWS = 14
LINE_IN = 1.45 / 72  # line height per point of font size, in inches
MARGIN = 0.045  # left/right margin, fraction of the page width


def new_page(title: str, subtitle: str = "") -> Figure:
    """An empty A4 landscape page with a bold title and an optional grey subtitle at the top."""
    fig = Figure(figsize=PAGE_SIZE_IN)
    fig.text(MARGIN, 0.955, title, fontsize=15, fontweight="bold", va="top")
    if subtitle:
        fig.text(MARGIN, 0.912, subtitle, fontsize=8.5, va="top", color="0.25")
    return fig


def write_lines(
    fig: Figure, x: float, y: float, lines: Sequence[str], *, width: float, size: float = 8.5,
    heading: str | None = None, colour: str = "black", bottom: float = 0.05,
) -> float:
    """Write wrapped lines from figure position (x, y) downwards; return the next free y.

    ``width`` is the text column's width as a fraction of the page; lines that would pass
    ``bottom`` are replaced by one line saying how many were left out.
    """
    step = LINE_IN * size / PAGE_SIZE_IN[1]
    if heading:
        fig.text(x, y, heading, fontsize=size + 1.5, fontweight="bold", va="top")
        y -= step * 1.5
    chars = max(20, int(width * PAGE_SIZE_IN[0] * 72 / (size * 0.52)))
    wrapped = [part for line in lines for part in (textwrap.wrap(line, chars, subsequent_indent="   ") or [""])]
    room = max(0, int((y - bottom) / step))
    if len(wrapped) > room:
        wrapped = [*wrapped[: max(0, room - 1)], f"... {len(wrapped) - room + 1} more line(s) in comparison.json"]
    for line in wrapped:
        fig.text(x, y, line, fontsize=size, va="top", color=colour)
        y -= step
    return y - step * 0.6


def draw_table(fig: Figure, left: float, top: float, width: float, header: Sequence[str], rows: Sequence[Sequence[str]],
           widths: Sequence[float], *, size: float = 7.5, row_height: float = 0.03, max_rows: int = MAX_TABLE_ROWS,
           ) -> float:
    """A grid table whose top left corner is at (left, top) of the figure; return its bottom y.

    Past ``max_rows`` rows, one last row says how many more are in the workbook.
    """
    shown = [list(row) for row in rows[:max_rows]]
    if len(rows) > max_rows:
        shown.append([f"... {len(rows) - max_rows} more in report.xlsx", *[""] * (len(header) - 1)])
    if not shown:
        return top
    height = row_height * (len(shown) + 1)
    ax = fig.add_axes([left, top - height, width, height])
    ax.axis("off")
    table = ax.table(cellText=shown, colLabels=list(header), colWidths=list(widths), bbox=[0, 0, 1, 1],
                     cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(size)
    for (row, _), cell in table.get_celld().items():
        cell.set_edgecolor("0.8")
        cell.PAD = 0.03
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("0.93")
    return top - height


def with_ci(value: float | None, ci: tuple[float, float] | None, unit: str) -> str:
    """A length with its unit, followed by its confidence interval in brackets when there is one."""
    text = format_length(value, unit)
    return f"{text} [{format_number(ci[0])}–{format_number(ci[1])}]" if ci and value is not None else text


def short_name(text: str, length: int = 22) -> str:
    """``text`` cut in the middle to at most ``length`` characters.

    >>> short_name("emps_30da4fa249_long_name.png", 16)
    'emps_30d…ame.png'
    """
    if len(text) <= length:
        return text
    tail = (length - 1) // 2
    return f"{text[: length - 1 - tail]}…{text[-tail:]}"


def range_text(ci: tuple[float, float] | None) -> str:
    """A confidence interval as ``low–high``; empty when there is none."""
    return f"{format_number(ci[0])}–{format_number(ci[1])}" if ci else ""
