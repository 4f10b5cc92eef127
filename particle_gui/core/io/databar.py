"""Finding the instrument data bar, with no per-microscope settings.

SEMs (Zeiss, FEI/Thermo, JEOL, Hitachi, Tescan) and some TEM software burn a strip into the
image, usually at the bottom, sometimes at the top: a flat background in one colour (light or
dark), text, frame lines and a scale bar. Its rows are dominated by one grey value, unlike the
specimen beside it, and it meets the specimen along a straight horizontal edge. The strip need
not reach the image's last row: Zeiss leaves a few specimen rows below it. FEI/Thermo files
record its height (``[PrivateFei] DatabarHeight``), which is used when present.

The scale bar inside the strip (or burned into the image) is found by :mod:`scalebar`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: A row belongs to a bar when at least this fraction of it is within +-2 of the bar colour ...
BAR_ROW_FRACTION = 0.5
#: ... or when it is a frame line: at least this fraction of it within +-2 of any one value.
LINE_ROW_FRACTION = 0.85
#: A data bar is at least this many rows and at most this fraction of the height.
MIN_BAR_ROWS = 8
MAX_BAR_FRACTION = 0.3
#: Strip rows are at least this fraction two-toned (strip colour or ink; see :func:`_two_tone`).
TWO_TONE_FRACTION = 0.72
#: Specimen rows allowed between the strip and the image's edge (Zeiss leaves two).
MAX_ROWS_OUTSIDE = 4
#: A row at least this fraction the strip's colour is a strip row (its text blurred into many greys).
BLURRED_TEXT_FRACTION = 0.3
#: Half the strip's rows are at least this fraction its colour (frame lines count as all).
MIN_FLAT_MEDIAN = 0.55
#: The strip's row next to its last is at least this fraction its colour (the last row: 0.8).
SHARP_NEXT_ROW = 0.6
#: Text rows inside the bar may interrupt its bar-coloured rows for at most this many rows.
MAX_GAP_ROWS = 2
#: A frame line is at most this many rows wide; more rows of one other grey are a flat specimen.
MAX_FRAME_ROWS = 5


@dataclass(frozen=True)
class DataBar:
    """The excluded strip: ``height`` rows from ``first_row``, at the ``side`` of the image.

    For a bottom bar everything from ``first_row`` down is excluded (with the few specimen rows
    an instrument may leave below the strip); for a top bar everything above ``end_row``.
    """

    first_row: int
    height: int
    colour: int
    side: str = "bottom"
    source: str = "image"  # "image" (found in the pixels) or "metadata" (the file says where it is)

    @property
    def rows(self) -> tuple[int, int]:
        """Half-open row range ``(first, end)`` of the strip."""
        return self.first_row, self.first_row + self.height

    @property
    def end_row(self) -> int:
        return self.first_row + self.height

    def analysis_rows(self, image_height: int) -> tuple[int, int]:
        """Half-open row range of the specimen that is analysed."""
        if self.side == "top":
            return self.end_row, image_height
        return 0, self.first_row


def to_uint8(grey: np.ndarray) -> np.ndarray:
    """Quantise a [0, 1] float image to uint8."""
    scaled = grey * 255.0  # one temporary, updated in place: same values as clip(grey * 255 + 0.5)
    scaled += 0.5
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


def analysis_rows(data_bar: DataBar | None, image_height: int) -> tuple[int, int]:
    """Half-open row range analysed: the whole image, or what the data bar leaves."""
    return (0, image_height) if data_bar is None else data_bar.analysis_rows(image_height)


def _near_fraction(rows_u8: np.ndarray, colour: int) -> np.ndarray:
    return (np.abs(rows_u8.astype(np.int16) - colour) <= 2).mean(axis=1)


def _row_modes(rows_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's commonest value (+-2) and the fraction of the row within +-2 of it."""
    modes = np.zeros(rows_u8.shape[0], dtype=np.int16)
    fractions = np.zeros(rows_u8.shape[0])
    for i, row in enumerate(rows_u8):
        window = np.convolve(np.bincount(row, minlength=256), np.ones(5, dtype=np.int64), mode="same")
        modes[i] = int(np.argmax(window))
        fractions[i] = window[modes[i]] / row.size
    return modes, fractions


def _two_tone(rows_u8: np.ndarray, colour: int) -> np.ndarray:
    """Per row, the fraction of pixels that are the strip's colour or its ink.

    The colour is matched within +-2, the ink within +-10 of the commonest value far from the colour.
    The fraction is near 1 for strip rows, text rows and frame lines, and low for specimen rows, whose
    greys are continuous.
    """
    out = np.zeros(rows_u8.shape[0])
    for i, row in enumerate(rows_u8.astype(np.int16)):
        near = np.abs(row - colour) <= 2
        far = row[np.abs(row - colour) > 40]
        if far.size == 0:
            out[i] = near.mean()
            continue
        ink = int(np.argmax(np.convolve(np.bincount(far, minlength=256), np.ones(21, dtype=np.int64), "same")))
        out[i] = (near | (np.abs(row - ink) <= 10)).mean()
    return out


def _strip_from_edge(rows_u8: np.ndarray, flat_specimen: bool = False) -> tuple[int, int, int] | None:
    """A strip in rows ordered from the image's edge inward: (rows outside it, its rows, colour).

    Strip rows are two-toned (:func:`_two_tone`): the strip's colour and its ink. The strip must
    end in a sharp, straight edge: its last rows flat (or a frame line), the specimen beyond not.
    With ``flat_specimen``, more than :data:`MAX_FRAME_ROWS` flat rows of another grey end the strip
    (a specimen saturated black or white beyond it) instead of being taken for its frame.
    """
    n = rows_u8.shape[0]
    modes, uniform = _row_modes(rows_u8)
    lines = uniform >= LINE_ROW_FRACTION
    for outside in range(MAX_ROWS_OUTSIDE + 1):
        head = rows_u8[outside : outside + MIN_BAR_ROWS]
        if head.shape[0] < MIN_BAR_ROWS:
            return None
        colour = int(np.argmax(np.bincount(head.ravel(), minlength=256)))
        near = _near_fraction(rows_u8, colour)
        if near[outside : outside + 2].min() < 0.8 and not lines[outside : outside + 2].all():
            continue
        tones = _two_tone(rows_u8, colour)
        text_row = (near >= 0.25) & (tones >= TWO_TONE_FRACTION)
        # (small anti-aliased text: many greys; blurred by downscaling or JPEG, fewer than two-toned,
        # but still a third of the row the strip's colour; BLURRED_TEXT_FRACTION < BAR_ROW_FRACTION)
        strip_row = text_row | lines | (near >= BLURRED_TEXT_FRACTION)
        # rows of one grey that is not the strip's: a frame line, or, more than a line's width of
        # them, a flat specimen (black, or saturated white) beyond the strip's edge
        foreign = (lines & (np.abs(modes - colour) > 2) & ~text_row & (near < BLURRED_TEXT_FRACTION) if flat_specimen
                   else np.zeros(n, dtype=bool))
        end, gap, flat_run = outside, 0, 0
        for index in range(outside, n):
            flat_run = flat_run + 1 if foreign[index] else 0
            if flat_run > MAX_FRAME_ROWS:
                end = index + 1 - flat_run
                break
            if strip_row[index]:
                end, gap = index + 1, 0
            else:
                gap += 1
                if gap > MAX_GAP_ROWS:
                    break
        else:
            continue  # strip-like all the way: a flat specimen background, not a data bar
        # A uniform row at the strip's edge is a frame line, unless the specimen beyond it is the same grey.
        while end - 1 > outside and lines[end - 1] and near[end - 1] < BAR_ROW_FRACTION and end < n:
            if np.mean(np.abs(rows_u8[end].astype(np.int16) - modes[end - 1]) <= 2) < 0.5:
                break
            end -= 1
        # its last row flat (or a frame line), the one before nearly so (a downscaled, JPEG-compressed
        # copy blurs the edge into it)
        sharp = all(near[i] >= level or lines[i] for i, level in ((end - 1, 0.8), (end - 2, SHARP_NEXT_ROW))
                    if i >= outside)
        beyond = slice(end, end + 3)
        if end + 3 > n or not sharp or text_row[beyond].any() or near[beyond].max() >= BAR_ROW_FRACTION:
            continue
        strip = rows_u8[outside:end]
        flat = np.where(lines[outside:end], 1.0, near[outside:end])
        if strip.shape[0] < MIN_BAR_ROWS or np.median(flat) < MIN_FLAT_MEDIAN or not _has_text(strip, colour):
            continue
        outside = _outer_edge(outside, end, lines, modes, colour)
        return outside, end - outside, colour
    return None


def _outer_edge(outside: int, end: int, lines: np.ndarray, modes: np.ndarray, colour: int) -> int:
    """The strip's first row from the image's edge, its frame line included and saturated specimen rows not.

    A frame line wider than half the strip's first rows made :func:`_strip_from_edge` take the frame
    for specimen: its rows that reach the edge are the strip's. Flat rows
    outside its frame (a saturated specimen below a Zeiss bar, near the strip's colour) are not.
    """
    while outside > 0 and lines[outside - 1] and abs(int(modes[outside - 1]) - int(modes[outside])) <= 2:
        outside -= 1
    frame = [j for j in range(outside + 1, min(outside + MAX_ROWS_OUTSIDE, end))
             if lines[j] and abs(int(modes[j]) - colour) > 40]
    if frame and lines[outside : frame[0]].all() and (np.abs(modes[outside : frame[0]] - colour) <= 40).all():
        return frame[0]
    return outside


def _has_text(strip: np.ndarray, colour: int) -> bool:
    """Whether a strip carries text or a bar: several small blobs far from its colour."""
    ink = (np.abs(strip.astype(np.int16) - colour) > 40).astype(np.uint8)
    if ink.mean() < 0.002:
        return False
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = (stats[1:, cv2.CC_STAT_HEIGHT] < 0.9 * strip.shape[0]) & (stats[1:, cv2.CC_STAT_AREA] >= 3)
    return int(np.count_nonzero(small)) >= 3


def detect_data_bar(grey: np.ndarray, *, height_hint: int | None = None) -> DataBar | None:
    """Find the instrument data bar at the bottom or the top of the image.

    Parameters
    ----------
    grey : ndarray of float, shape (H, W)
        Image scaled to [0, 1].
    height_hint : int, optional
        The strip's height as recorded by the instrument (FEI/Thermo ``DatabarHeight``): a
        bottom strip of this height is taken as it stands.

    Returns
    -------
    DataBar or None
        None when both ends of the image are specimen.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> image = rng.uniform(0.2, 0.8, (100, 80))
    >>> image[80:] = 0.0
    >>> image[90, 10:40] = 1.0
    >>> image[84:88, 45:48] = image[84:88, 52:55] = image[84:88, 60:63] = 1.0
    >>> detect_data_bar(image).first_row
    80
    """
    height, width = grey.shape
    if height_hint is not None and 0 < height_hint <= MAX_BAR_FRACTION * height:
        rows = to_uint8(grey[height - height_hint :])
        colour = int(np.argmax(np.bincount(rows.ravel(), minlength=256)))
        return DataBar(height - int(height_hint), int(height_hint), colour, "bottom", "metadata")
    if height < 4 * MIN_BAR_ROWS or width < 16:
        return None
    search = int(height * MAX_BAR_FRACTION) + 1
    bottom, top = to_uint8(grey[height - search :])[::-1], to_uint8(grey[:search])
    # A flat specimen beyond a strip only where the strip is not found otherwise: a window's bright
    # frame under a screenshot's title bar is the bar's frame.
    for flat_specimen in (False, True):
        found = _strip_from_edge(bottom, flat_specimen)
        if found is not None:
            outside, rows, colour = found
            return DataBar(height - outside - rows, rows, colour, "bottom")
        found = _strip_from_edge(top, flat_specimen)
        if found is not None:
            outside, rows, colour = found
            return DataBar(outside, rows, colour, "top")
    return None
