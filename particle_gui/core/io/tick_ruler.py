"""Scale rulers drawn as a row of ticks without a line (Hitachi SEMs: ``' ' ' ' | ' ' ' ' '``).

Hitachi's data bar (S-4800, SU8000, SU8010, ...) shows its scale as eleven short vertical ticks,
evenly spaced, with no line between them and the length ("1.00um") under the right part of the
row. No bar finder that looks for a line sees it. A ruler here is a run of at least
:data:`MIN_TICKS` ticks (thin vertical dashes of one height, bottoms level) at one spacing; its
length runs from the first tick's centre to the last one's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from particle_gui.core.io.scalebar import ScaleBar

#: A ruler has at least this many ticks (Hitachi draws 11).
MIN_TICKS = 6
#: A tick is at most this wide and at least this many times as high as wide, 3-30 px high.
MAX_TICK_WIDTH, MIN_TICK_ASPECT, TICK_HEIGHTS = 6, 1.5, (3, 30)
#: Consecutive ticks' spacing differs from the run's first by this share of it at most (and a pixel).
SPACING_TOLERANCE = 0.15
#: A tick stands out from its row's surroundings by this many grey levels.
TICK_CONTRAST = 50
#: Width of the opening that leaves only thin things (ticks, small type) in the top-hat images.
OPENING_WIDTH = 15


def thin_ink(image: np.ndarray) -> list[np.ndarray]:
    """Masks of the thin bright and of the thin dark things in a uint8 image."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (OPENING_WIDTH, 1))
    bright = cv2.morphologyEx(image, cv2.MORPH_TOPHAT, kernel) > TICK_CONTRAST
    dark = cv2.morphologyEx(image, cv2.MORPH_BLACKHAT, kernel) > TICK_CONTRAST
    return [bright, dark]


def find_rulers(ink: np.ndarray) -> list[tuple[ScaleBar, np.ndarray]]:
    """Rulers of ticks in ``ink``, longest first, each with the mask of its ticks."""
    from particle_gui.core.io.scalebar import ScaleBar

    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    ticks = sorted((int(i) for i in np.flatnonzero(_are_ticks(stats)) if i > 0), key=lambda i: stats[i, cv2.CC_STAT_LEFT])
    bottoms = stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT]
    by_bottom: dict[int, list[int]] = defaultdict(list)  # left to right on each row
    for index in ticks:
        by_bottom[int(bottoms[index])].append(index)
    rulers = []
    used: set[int] = set()
    for bottom in sorted(by_bottom):
        near = sorted((i for row in (bottom - 1, bottom, bottom + 1) for i in by_bottom.get(row, ()) if i not in used),
                      key=lambda i: stats[i, cv2.CC_STAT_LEFT])
        if len(near) < MIN_TICKS:
            continue
        run = _evenly_spaced(near, stats)
        if len(run) < MIN_TICKS:
            continue
        used.update(run)
        first, last = stats[run[0]], stats[run[-1]]
        width = int(np.median([stats[i, cv2.CC_STAT_WIDTH] for i in run]))
        short = int(np.median([stats[i, cv2.CC_STAT_HEIGHT] for i in run]))
        bar = ScaleBar(int(first[cv2.CC_STAT_LEFT]), int(last[cv2.CC_STAT_LEFT] + last[cv2.CC_STAT_WIDTH]),
                       int(bottom - (short + 1) // 2), width, end_marks=(True, True))
        ticks_mask = np.zeros(labels.shape, dtype=bool)  # only around the ruler: the image may be large
        rows = slice(int(stats[run, cv2.CC_STAT_TOP].min()), int(bottoms[run].max()))
        columns = slice(bar.x_start, bar.x_end)
        ticks_mask[rows, columns] = np.isin(labels[rows, columns], run)
        rulers.append((bar, ticks_mask))
    return sorted(rulers, key=lambda bm: -bm[0].length_px)


def _are_ticks(stats: np.ndarray) -> np.ndarray:
    """Which connected components (rows of OpenCV's stats) are shaped as ticks: thin, upright, solid."""
    w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    return (w <= MAX_TICK_WIDTH) & (h >= TICK_HEIGHTS[0]) & (h <= TICK_HEIGHTS[1]) & (h >= MIN_TICK_ASPECT * w) \
        & (area >= 0.6 * w * h)


def _evenly_spaced(row: list[int], stats: np.ndarray) -> list[int]:
    """The longest run of ``row`` 's ticks (left to right) whose spacings all agree.

    One tick may be missing here and there (a particle in front of it).
    """
    centres = np.array([stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] / 2 for i in row])
    widths = np.array([stats[i, cv2.CC_STAT_WIDTH] for i in row])
    heights = np.array([stats[i, cv2.CC_STAT_HEIGHT] for i in row])
    best: list[int] = []
    for start in range(len(row) - 1):
        spacing = centres[start + 1] - centres[start]
        if spacing < 2 * widths[start : start + 2].max():  # the ground between ticks is wider than they are
            continue
        if heights[start : start + 2].min() > 2 * spacing:  # ticks are short marks; letters ("IIIIIII") stand taller
            continue
        end = start + 1
        while end + 1 < len(row):
            step = (centres[end + 1] - centres[end]) / spacing
            # one spacing, or two where a particle hides a tick; a pixel either way is rounding
            # (ticks 4.9 px apart are drawn 5, 5, 5, 5, 4, ...)
            if min(abs(step - 1), abs(step - 2)) > SPACING_TOLERANCE + 1.0 / spacing:
                break
            end += 1
        if end - start + 1 > len(best):
            best = row[start : end + 1]
    return best


def read_rulers(image: np.ndarray, reader, search) -> tuple[ScaleBar | None, ScaleBar | None]:
    """The best-read ruler of ticks in a uint8 image and the longest one, as (best, candidate).

    ``search`` is the scale-bar module's label search, called as for a data bar (the ruler is one)
    with the ink of a band of rows around the ruler: what differs from the ground the ticks stand on
    by half their contrast, at least 30 levels and at most 60 (the data bar's own ink level: thin
    antialiased type, FreeMono's "5", fell apart at half the black ticks' contrast), the ticks
    themselves taken out.
    """
    best = candidate = None
    height = image.shape[0]
    found = [ruler for mask in thin_ink(image) for ruler in find_rulers(mask)[:3]]
    for ruler, tick_mask in found:
        if any(_inside(ruler, other) for other, _ in found):
            continue  # the ground between a ruler's ticks, as wide as they are, seen as ticks of the other ink
        reach = max(30, 6 * (ruler.thickness + 4))
        top, bottom = max(0, ruler.y - reach), min(height, ruler.y + reach)
        band = image[top:bottom].astype(np.int16)
        # the ground the ticks stand on: the data bar's colour, not the specimen's above it
        rows = slice(max(0, ruler.y - ruler.thickness), ruler.y + 2 * ruler.thickness + 2)
        ground = image[rows, ruler.x_start : ruler.x_end][~tick_mask[rows, ruler.x_start : ruler.x_end]]
        background = int(np.median(ground)) if ground.size else int(np.median(band))
        contrast = float(np.median(np.abs(image[tick_mask].astype(np.int16) - background)))
        ink = (np.abs(band - background) > max(30.0, min(60.0, contrast / 2))) & ~tick_mask[top:bottom]
        shifted = replace(ruler, y=ruler.y - top)
        best, candidate = search(image, top, ink, [shifted], background, 0, True, reader, best, candidate)
        if best is not None and best.confident:
            return best, candidate
    return best, candidate


def _inside(ruler: ScaleBar, other: ScaleBar) -> bool:
    """Whether ``ruler`` lies within ``other`` 's span, on its rows, and is shorter."""
    return (other.x_start <= ruler.x_start and ruler.x_end <= other.x_end and ruler.length_px < other.length_px
            and abs(ruler.y - other.y) <= max(ruler.thickness, other.thickness) + 2)
