"""A scale bar's ink taken out of a data bar's or an image's ink, before its label is looked for.

The bars are not text: without them a label next to a bar is not read with the bar's line in its
crop, and a bar is never taken for a line of text. A data bar's frame, when its lines join the bar
into one piece, goes first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from particle_gui.core.io.scalebar import ScaleBar


def without_frame(ink: np.ndarray) -> np.ndarray:
    """A data bar's ink without its frame: rows and columns inked across nine tenths of it.

    Zeiss draws its fields in cells; a scale bar whose end ticks reach the cell's line was one
    piece with the whole frame, never a bar. Only where no bar is found with the frame: FEI/Thermo
    cells' inner lines, freed from the frame, would be bars.
    """
    out = ink.copy()
    out[ink.mean(axis=1) >= 0.9] = False
    out[:, ink.mean(axis=0) >= 0.9] = False
    return out


def without_bars(
    ink: np.ndarray, segments: list[ScaleBar], image: np.ndarray, top: int, background: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ink and the image without the bars: their lines and end ticks cleared and painted over.

    A bar is the ink of long horizontal runs on its rows; the small connected pieces it belongs
    to (the line with its ticks) go with it, a label in a bar's gap ("-- 5 nm --") stays.
    """
    _, components, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    cleared = np.zeros_like(ink, dtype=bool)
    for bar in segments:
        half = bar.thickness // 2 + 1
        y0, y1 = max(0, bar.y - half), bar.y + half + 1
        min_run = max(8, 3 * (y1 - y0))
        # Only under the bar's own line (the runs of its middle row from either end, or over half its
        # length): a bar drawn in two halves has its label in the gap between them, on the bar's
        # rows ("500.00 nm" lost its m's top stroke there).
        middle = ink[bar.y, bar.x_start : bar.x_end]
        line = _end_runs(middle) | _long_runs(middle, max(min_run, bar.length_px // 2))
        band = ink[y0:y1, bar.x_start : bar.x_end] & line
        for r, row in enumerate(band):
            cleared[y0 + r, bar.x_start : bar.x_end] |= _long_runs(row, min_run)
        pieces = np.unique(components[y0:y1, bar.x_start : bar.x_end][cleared[y0:y1, bar.x_start : bar.x_end]])
        pieces = pieces[(pieces > 0) & (heights[pieces] <= max(24, 8 * bar.thickness))]
        cleared |= _ticks(np.isin(components, pieces) & ~cleared, bar.thickness)
    painted = image.copy()
    painted[top : top + ink.shape[0]][cleared] = background
    return ink & ~cleared, painted


def _long_runs(row: np.ndarray, min_run: int) -> np.ndarray:
    """The pixels of ``row`` that lie in runs of ink at least ``min_run`` long."""
    edges = np.diff(np.r_[False, row, False].astype(np.int8))
    out = np.zeros(row.shape, dtype=bool)
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if b - a >= min_run:
            out[a:b] = True
    return out


def _end_runs(row: np.ndarray) -> np.ndarray:
    """The pixels of ``row`` in its runs of ink that start at its first or end at its last pixel."""
    out = np.zeros(row.shape, dtype=bool)
    if row.size:
        gaps = np.flatnonzero(~row)
        first, last = (gaps[0], gaps[-1] + 1) if gaps.size else (row.size, row.size)
        out[:first] = True
        out[last:] = True
    return out


def _ticks(rest: np.ndarray, thickness: int) -> np.ndarray:
    """What is left of the pieces joined to a bar once its line is cleared: its ticks and caps.

    Those are thin upright lines (at most two line widths wide) or small; a letter that touches the
    bar ("20nm" sitting on its end) is wider and stays, so that the label keeps its unit.
    """
    count, parts, stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
    if count <= 1:
        return rest
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    narrow = (widths <= max(2, 2 * thickness)) & (heights >= 1.5 * widths)  # a tick: a thin upright line
    small = stats[1:, cv2.CC_STAT_AREA] <= 2 * max(1, thickness) ** 2
    return np.isin(parts, 1 + np.flatnonzero(narrow | small))
