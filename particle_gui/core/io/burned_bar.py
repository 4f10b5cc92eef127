"""Ink of a scale bar's label burned into the image, measured against the bar's own surroundings.

A label burned into a micrograph is often thinner or fainter than its bar: small antialiased type
whose strokes never reach the grey levels that are surely ink, white text on a light specimen.
Around a bar already found, the label's ink is taken relative to the background next to the bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from particle_gui.core.io.scalebar import ScaleBar

#: Grey levels (of 255) that are surely ink of a bar burned into the image, bright or dark.
STRONG_BRIGHT, STRONG_DARK = 235, 20


def placed(band: np.ndarray, top: int, height: int) -> np.ndarray:
    """A band of rows placed in an all-False image of ``height`` rows."""
    whole = np.zeros((height, band.shape[1]), dtype=bool)
    whole[top : top + band.shape[0]] = band
    return whole


def local_ink(image: np.ndarray, bar: ScaleBar, bright: bool) -> tuple[int, np.ndarray, int] | None:
    """(first row, ink, background) of a band of rows around a bar burned into the image.

    The ink is what stands out from the bar's surroundings by at least half the bar's own contrast
    and touches a pixel that is surely ink; None when the bar hardly stands out (< 40 levels).
    """
    height = image.shape[0]
    half = bar.thickness // 2 + 1
    line = image[max(0, bar.y - half + 1) : bar.y + half, bar.x_start : bar.x_end]
    around = np.concatenate([image[max(0, bar.y - half - 3) : max(0, bar.y - half), bar.x_start : bar.x_end].ravel(),
                             image[bar.y + half + 1 : bar.y + half + 4, bar.x_start : bar.x_end].ravel()])
    if line.size == 0 or around.size == 0:
        return None
    ink_level, background = float(np.median(line)), float(np.median(around))
    contrast = (ink_level - background) if bright else (background - ink_level)
    if contrast < 40:
        return None
    reach = max(30, height // 6)
    top, bottom = max(0, bar.y - reach), min(height, bar.y + reach)
    band = image[top:bottom].astype(np.int16)
    strong = band >= STRONG_BRIGHT if bright else band <= STRONG_DARK
    weak = (band - background > contrast / 2) if bright else (background - band > contrast / 2)
    # Hysteresis: the weak ink counts where it joins the strong ink (a thin stroke's antialiased
    # pixels around its dark core), so the specimen's own texture does not become text.
    count, parts = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[np.unique(parts[strong & weak])] = True
    keep[0] = False
    return top, keep[parts], int(round(background))


#: Grey levels (of 255) by which a box behind a burned-in bar may vary.
BOX_TOLERANCE = 12


def boxed_ink(image: np.ndarray, bar: ScaleBar) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(image, ink, box colour) of a bar and label drawn on a plain box; None when there is no box.

    The image returned is the box alone: all around it is painted the box's colour, so that a label
    crop reaching past the box shows no specimen.

    Burned-in scale bars often sit on a filled rectangle (white behind black type, or black behind
    white). The box is the flat ground around the bar, filled from just above or below it; what lies
    inside its bounding rectangle but is not ground is the bar and its label, with nothing of the
    specimen (particles' dark outlines next to black type no longer join the text).
    """
    height, width = image.shape
    half = bar.thickness // 2 + 1
    writable = image if image.flags.writeable else image.copy()  # OpenCV's fill wants it, even for a mask
    mask = np.zeros((height + 2, width + 2), np.uint8)
    for row in (bar.y - half - 1, bar.y + half + 1):
        for column in (bar.x_start + bar.length_px // 2, bar.x_start + 2, bar.x_end - 3):
            if not (0 <= row < height and 0 <= column < width) or mask[row + 1, column + 1]:
                continue  # outside, or in the ground a fill from another point already found no box
            mask[:] = 0
            flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
            cv2.floodFill(writable, mask, (int(column), int(row)), 0, loDiff=BOX_TOLERANCE, upDiff=BOX_TOLERANCE,
                          flags=flags)
            ground = mask[1:-1, 1:-1] > 0
            box = _rectangle(ground, bar, height * width / 6)
            if box is None:
                continue
            y0, y1, x0, x1 = box
            ink = np.zeros_like(ground)
            ink[y0:y1, x0:x1] = ~ground[y0:y1, x0:x1]
            colour = image[row, column]
            alone = np.full_like(image, colour)
            alone[y0:y1, x0:x1] = image[y0:y1, x0:x1]
            return alone, ink, int(colour)
    return None


def _rectangle(ground: np.ndarray, bar: ScaleBar, max_area: float) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the plain rectangle around a bar in the ``ground`` filled from beside it.

    The rectangle starts on the bar and grows by a row or column while at least half of it is ground
    (the label's rows are, the specimen beyond the box is not, even where a particle of the box's
    colour touches it). Its outermost rows and columns must then be ground almost throughout: a
    box's margin, not the edge of a flat patch of specimen. None when it is no such box.
    """
    height, width = ground.shape
    half = bar.thickness // 2 + 1
    y0, y1 = max(0, bar.y - half - 1), min(height, bar.y + half + 2)
    x0, x1 = max(0, bar.x_start - 1), min(width, bar.x_end + 1)
    grown = True
    while grown:
        if (y1 - y0) * (x1 - x0) > max_area:
            return None  # a flat region of the specimen, not a box
        grown = False
        if y0 > 0 and ground[y0 - 1, x0:x1].mean() >= 0.5:
            y0, grown = y0 - 1, True
        if y1 < height and ground[y1, x0:x1].mean() >= 0.5:
            y1, grown = y1 + 1, True
        if x0 > 0 and ground[y0:y1, x0 - 1].mean() >= 0.5:
            x0, grown = x0 - 1, True
        if x1 < width and ground[y0:y1, x1].mean() >= 0.5:
            x1, grown = x1 + 1, True
    rim = [ground[y0, x0:x1], ground[y1 - 1, x0:x1], ground[y0:y1, x0], ground[y0:y1, x1 - 1]]
    if min(line.mean() for line in rim) < 0.9 or y1 - y0 < bar.thickness + 8:
        return None  # no margin all round, or no room for a label
    return y0, y1, x0, x1


def completed_box(image: np.ndarray, box: tuple[int, int, int, int], polarity: int) -> tuple[int, int, int, int]:
    """A burned-in label's box grown over the characters that its ink missed.

    The box comes from ink found with levels set for the bar: small antialiased type can lose a
    whole character ("5 um" found as "um") or half of one, and the rest then reads with confidence
    as another length. Here the box's own text sets the level: halfway between its ink (the 5 % most
    extreme pixels) and its background (the median). Pieces on the box's rows, of a character's size
    and within one text height of the box, join it, until none is left.
    """
    x0, y0, x1, y1 = box
    height = y1 - y0
    if height < 3 or polarity == 0:
        return box
    inside = image[y0:y1, x0:x1].astype(np.float32)
    background = float(np.median(inside))
    ink = float(np.percentile(inside, 95 if polarity > 0 else 5))
    if abs(ink - background) < 30:
        return box
    reach = 2 * height
    wx0, wx1 = max(0, x0 - reach), min(image.shape[1], x1 + reach)
    wy0, wy1 = max(0, y0 - height // 2), min(image.shape[0], y1 + height // 2)
    window = image[wy0:wy1, wx0:wx1].astype(np.float32)
    mask = (window - background) * polarity > abs(ink - background) / 2
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    pieces = [(x + wx0, y + wy0, x + w + wx0, y + h + wy0) for x, y, w, h, area in stats[1:]
              if 0.4 * height <= h <= 2 * height and w <= 2 * height and area >= 0.1 * height * height]
    grown = list(box)
    for _ in range(6):
        before = tuple(grown)
        for px0, py0, px1, py1 in pieces:
            on_rows = min(py1, y1) - max(py0, y0) >= 0.5 * min(py1 - py0, height)
            near = px1 >= grown[0] - height and px0 <= grown[2] + height
            if on_rows and near and max(x0 - px0, px1 - x1) <= 3 * height:
                grown = [min(grown[0], px0), min(grown[1], py0), max(grown[2], px1), max(grown[3], py1)]
        if tuple(grown) == before:
            break
    return tuple(int(v) for v in grown)

