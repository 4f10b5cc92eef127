"""Finding the instrument data bar and the scale bar in it, with no per-microscope settings.

SEMs (Zeiss, FEI/Thermo, JEOL, Hitachi, Tescan) burn a strip into the bottom of the image: a
flat background in one colour, text, and a scale bar. Its rows are dominated by a single
grey value, unlike the specimen above, and its top is a straight horizontal edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: A row belongs to a bar when at least this fraction of it is within +-2 of the bar colour.
BAR_ROW_FRACTION = 0.5
#: The specimen row just above the bar must have less than this fraction of the bar colour.
SPECIMEN_ROW_FRACTION = 0.35
#: A data bar is at least this many rows and at most this fraction of the height.
MIN_BAR_ROWS = 8
MAX_BAR_FRACTION = 0.3


@dataclass(frozen=True)
class DataBar:
    """The excluded strip: rows ``first_row`` to the bottom of the image."""

    first_row: int
    height: int
    colour: int

    @property
    def rows(self) -> tuple[int, int]:
        """Half-open row range ``(first, end)`` of the strip."""
        return self.first_row, self.first_row + self.height


@dataclass(frozen=True)
class ScaleBar:
    """A detected scale bar: a horizontal bar from ``x_start`` to ``x_end`` (exclusive) at row ``y``."""

    x_start: int
    x_end: int
    y: int
    thickness: int

    @property
    def length_px(self) -> int:
        return self.x_end - self.x_start


def to_uint8(grey: np.ndarray) -> np.ndarray:
    """Quantise a [0, 1] float image to uint8."""
    scaled = grey * 255.0  # one temporary, updated in place: same values as clip(grey * 255 + 0.5)
    scaled += 0.5
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


def _row_mode_fractions(image_u8: np.ndarray, colour: int) -> np.ndarray:
    near = np.abs(image_u8.astype(np.int16) - colour) <= 2
    return near.mean(axis=1)


def detect_data_bar(grey: np.ndarray) -> DataBar | None:
    """Find the instrument data bar at the bottom of the image.

    Parameters
    ----------
    grey : ndarray of float, shape (H, W)
        Image scaled to [0, 1].

    Returns
    -------
    DataBar or None
        None when the bottom of the image is specimen.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> image = rng.uniform(0.2, 0.8, (100, 80))
    >>> image[80:] = 0.0
    >>> image[90, 10:40] = 1.0
    >>> detect_data_bar(image).first_row
    80
    """
    height, width = grey.shape
    if height < 4 * MIN_BAR_ROWS or width < 16:
        return None
    search_rows = int(height * MAX_BAR_FRACTION) + 1
    bottom = to_uint8(grey[height - search_rows :])
    # The bar colour is the commonest value of the bottom rows.
    histogram = np.bincount(bottom[-MIN_BAR_ROWS:].ravel(), minlength=256)
    colour = int(np.argmax(histogram))
    fractions = _row_mode_fractions(bottom, colour)
    is_bar_row = fractions >= BAR_ROW_FRACTION
    if not is_bar_row[-MIN_BAR_ROWS:].all():
        return None
    # Walk up from the bottom while rows look like bar; tolerate single text-heavy rows.
    first = search_rows - 1
    gap = 0
    for index in range(search_rows - 1, -1, -1):
        if is_bar_row[index]:
            first = index
            gap = 0
        else:
            gap += 1
            if gap > 2:
                break
    else:
        return None  # bar-like all the way up: a flat specimen background, not a data bar
    bar_rows = search_rows - first
    if bar_rows < MIN_BAR_ROWS or first == 0:
        return None
    above = fractions[max(first - 3, 0) : first]
    if above.size == 0 or above.max() >= SPECIMEN_ROW_FRACTION:
        return None
    # A data bar carries text or a scale bar: some of its pixels differ strongly from its colour.
    strip = bottom[first:]
    ink = np.abs(strip.astype(np.int16) - colour) > 40
    if ink.mean() < 0.002:
        return None
    return DataBar(first_row=height - search_rows + first, height=bar_rows, colour=colour)


def detect_scale_bar(grey: np.ndarray, data_bar: DataBar | None = None) -> ScaleBar | None:
    """Find the longest straight horizontal bar, in the data bar if there is one.

    Without a data bar, the bottom third of the image is searched for a saturated
    (pure white or pure black) bar, as burned in by image software.

    Parameters
    ----------
    grey : ndarray of float, shape (H, W)
    data_bar : DataBar, optional

    Returns
    -------
    ScaleBar or None
    """
    height, width = grey.shape
    if data_bar is not None:
        top = data_bar.first_row
        region = to_uint8(grey[top:])
        masks = [np.abs(region.astype(np.int16) - data_bar.colour) > 60]
    else:
        top = height - height // 3
        region = to_uint8(grey[top:])
        masks = [region >= 235, region <= 20]
    if region.size == 0:  # fewer than 3 rows: no room for a bar (and OpenCV crashes on empty input)
        return None
    best: ScaleBar | None = None
    for mask in masks:
        candidate = _longest_bar(mask.astype(np.uint8), width)
        if candidate is not None and (best is None or candidate.length_px > best.length_px):
            best = candidate
    if best is None:
        return None
    return ScaleBar(best.x_start, best.x_end, best.y + top, best.thickness)


def _longest_bar(mask: np.ndarray, image_width: int) -> ScaleBar | None:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    best = None
    min_length = max(10, int(0.03 * image_width))
    for index in range(1, count):
        x, y, w, h, area = stats[index]
        if w < min_length or x == 0 or x + w >= image_width:  # frames and borders touch the edge
            continue
        # The bar body: rows of the component that span (nearly) its full width.
        component = labels[y : y + h, x : x + w] == index
        full_rows = np.flatnonzero(component.sum(axis=1) >= 0.9 * w)
        if full_rows.size == 0 or full_rows.size > max(3, w // 4):
            continue
        if best is None or w > best.length_px:
            best = ScaleBar(int(x), int(x + w), int(y + full_rows[full_rows.size // 2]), int(full_rows.size))
    return best
