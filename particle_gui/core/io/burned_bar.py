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
