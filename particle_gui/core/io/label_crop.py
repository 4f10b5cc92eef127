"""Reading a scale bar's label from its box in the image, and when to trust the reading.

A label's box can miss a character: burned into the image, its ink is found against a specimen
("5 um" found as "um", or half of the 5); in a data bar, a monospaced font sets the number a field
away from its unit. The rest then reads with confidence as another length ("1um"). A label is
trusted only when its reading holds: the box grown over the characters its ink missed
(:func:`particle_gui.core.io.burned_bar.completed_box`, burned-in labels) and a wider crop read
the same length, and its type has a number (:func:`number_stands_taller`).
"""

from __future__ import annotations

import cv2
import numpy as np

from particle_gui.core.errors import CalibrationError
from particle_gui.core.io.burned_bar import completed_box
from particle_gui.core.io.label_text import is_scale_label
from particle_gui.core.units import parse_length_nm

#: Below this reading confidence a label is not trusted.
MIN_LABEL_CONFIDENCE = 0.8
#: A label's text is at least this many pixels high.
MIN_LABEL_HEIGHT = 5
#: A label is read again in a box this many of its heights wider on each side.
WIDER = 0.6
#: A label box this close to the image's border (pixels) may have lost characters beyond it.
BORDER_PX = 2
#: The confidence given to a label whose reading changes with its box (below the threshold).
UNSTABLE_CONFIDENCE = 0.5

Box = tuple[int, int, int, int]
Reading = tuple[str, float, float]  # text, length in nm, confidence


def read_box(grey_u8: np.ndarray, box: Box, reader, polarity: int = 0) -> Reading | None:
    """(text, length in nm, confidence) of the label in ``box``, or None if it is not a length.

    With the ink's polarity known (+1 bright, -1 dark: a bar burned into the image), whatever lies on
    the other side of the crop's background (dark particles behind white text) is set to the
    background first, so that the reader sees only the text against a plain ground.
    """
    x0, y0, x1, y1 = box
    if y1 - y0 < MIN_LABEL_HEIGHT or x1 - x0 < y1 - y0:
        return None  # not a legible "number unit" line (a run of a wide line's pieces can be a sliver)
    pad = max(2, (y1 - y0) // 4)
    crop = grey_u8[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
    if polarity and crop.size:
        background = np.median(crop).astype(crop.dtype)
        crop = np.maximum(crop, background) if polarity > 0 else np.minimum(crop, background)
    text, confidence = reader(crop)
    if not is_scale_label(text):
        return None  # a bare number, metres, or a number no instrument puts on a bar
    if not number_stands_taller(crop):
        return None  # a unit alone ("nm" read "1nm"): its number is elsewhere
    try:
        return text, parse_length_nm(text), confidence
    except CalibrationError:
        return None


def read_checked(grey_u8: np.ndarray, box: Box, reader, polarity: int) -> tuple[Box, Reading] | None:
    """The box and reading of a label, its confidence lowered if the reading is unstable.

    ``polarity`` is +1 (bright) or -1 (dark) for a label burned into the image, 0 in a data bar.
    The box as found and (burned in) the box grown over missed characters are both read; when they
    read lengths that differ, or a crop :data:`WIDER` on each side reads another length (or none),
    or the box runs into the image's border (the label may go on beyond it: "50 nm" cut after its
    "n" read "1nm"), the reading is kept but marked unsure (:data:`UNSTABLE_CONFIDENCE`): the window asks, the
    command line refuses.
    """
    grown = completed_box(grey_u8, box, polarity)
    readings = [(b, r) for b in dict.fromkeys((box, grown)) if (r := read_box(grey_u8, b, reader, polarity))]
    if not readings:
        return None
    chosen, (text, nm, confidence) = max(readings, key=lambda br: br[1][2])
    stable = all(r[1] == nm for _, r in readings) and not cut_by_border(chosen, grey_u8.shape)
    if stable and confidence >= MIN_LABEL_CONFIDENCE and WIDER > 0:
        x0, y0, x1, y1 = chosen
        grow = int(round(WIDER * (y1 - y0)))
        wider = (max(1, x0 - grow), y0, min(grey_u8.shape[1] - 1, x1 + grow), y1)
        again = read_box(grey_u8, wider, reader, polarity)
        stable = again is not None and again[1] == nm
        confidence = min(confidence, again[2]) if stable else confidence
    return chosen, (text, nm, confidence if stable else min(confidence, UNSTABLE_CONFIDENCE))


def cut_by_border(box: Box, shape: tuple[int, ...], margin: int = BORDER_PX) -> bool:
    """Whether a label's box reaches the image's border.

    Its left or right edge within ``margin`` pixels (1: touches it), its top or bottom edge touching
    it. The image may have cut the label there, and what is left reads as another length ("50 nm" cut
    after its "n" read "1nm"). Above and below, only a box that touches the edge is cut: papers crop
    a figure a pixel under its label, whose antialiased bottom row then lies one row from the edge.
    """
    x0, y0, x1, y1 = box
    height, width = shape[:2]
    return x0 < margin or x1 > width - margin or y0 < 1 or y1 > height - 1


def number_stands_taller(crop: np.ndarray) -> bool:
    """Whether some type in the crop stands taller than the rest: a number beside its unit.

    A label's unit is lower-case letters of x-height (n, m, u, µ, p), its digits are as tall as
    capitals. The reader, which has only seen labels, reads a unit alone ("µm" of a label whose
    number is a field away in a monospaced font) as "1µm" with full confidence; in such a crop all
    glyphs' tops are level. Crops with fewer than two glyphs are not judged (True).
    """
    if crop.ndim != 2 or min(crop.shape) < 4:
        return True
    _, binary = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if binary.mean() > 0.5:  # the type is the minority
        binary = 1 - binary
    _, parts, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    keep = [i + 1 for i, (_, _, _, h, area) in enumerate(stats[1:]) if h >= 0.25 * crop.shape[0] and area >= 3]
    if len(keep) < 2:
        return True
    tops, heights = stats[keep, cv2.CC_STAT_TOP], stats[keep, cv2.CC_STAT_HEIGHT]
    if tops.max() - tops.min() >= 0.12 * float(np.median(heights)):
        return True
    return _columns_stand_taller(np.isin(parts, keep))


def _columns_stand_taller(glyphs: np.ndarray) -> bool:
    """Whether the tops of the glyphs' columns stand at two levels, side by side.

    At small sizes a number's last digit joins its unit in one piece ("00nm"), whose top is the
    digit's. Each column's top is taken as the highest within a window of 0.4 text heights (so that
    the open top of a "u" or "µ" takes its stems'); a number and its unit then make a block of
    columns a fifth of the text's height lower than the rest, each block at least a quarter of them.
    """
    rows = np.flatnonzero(glyphs.any(axis=1))
    cap, bottom = int(rows.min()), int(rows.max())
    inked = glyphs.any(axis=0)
    tops = np.where(inked, glyphs.argmax(axis=0), glyphs.shape[0]).astype(np.float32)
    window = max(3, int(round(0.4 * (bottom - cap + 1))))
    tops = cv2.erode(tops[None, :], np.ones((1, window), np.uint8), borderType=cv2.BORDER_REPLICATE)[0][inked]
    low = tops >= cap + 0.2 * (bottom - cap + 1)
    changes = int(np.count_nonzero(np.diff(low.astype(np.int8))))
    return bool(0.25 <= low.mean() <= 0.75 and changes <= 4)
