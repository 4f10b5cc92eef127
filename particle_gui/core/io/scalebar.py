"""Finding the scale bar and reading its label ("200 nm", "2 µm", "0.5 μm").

A scale bar is a straight horizontal bar (with or without end ticks, a base line with ticks, or
a line broken by its label as FEI/Thermo draw it) in the data bar, or burned into the image in a
plain colour. Its label is the line of text nearest to it (above, below, beside, or in its
gap), read by :mod:`particle_gui.core.io.label_reader`. A bar counts as detected only when its label
reads as a length with confidence: a straight edge inside a particle, a frame line or a ruler
without a readable label never calibrates anything by itself (the window asks the user to
confirm such a candidate; the command line refuses it).
"""

from __future__ import annotations


from dataclasses import dataclass, replace

import cv2
import numpy as np

from particle_gui.core.io.bar_ink import without_bars, without_frame
from particle_gui.core.io.burned_bar import STRONG_BRIGHT, STRONG_DARK, boxed_ink, local_ink, placed
from particle_gui.core.io.databar import DataBar, to_uint8
from particle_gui.core.io.tick_ruler import read_rulers
from particle_gui.core.io.label_crop import MIN_LABEL_CONFIDENCE, MIN_LABEL_HEIGHT, cut_by_border, read_checked

#: A bar burned into the image is at least this many times as long as its label is high.
MIN_BAR_PER_LABEL_HEIGHT = 1.5
#: A bar burned into the image (not in a data bar) is at least this many pixels thick.
MIN_BURNED_THICKNESS = 2
#: A bar is at least this fraction of the image width (and 10 px), at most this fraction.
MIN_BAR_FRACTION, MAX_BAR_FRACTION = 0.03, 0.7


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar from ``x_start`` to ``x_end`` (exclusive) centred on row ``y``, and its label.

    ``label`` is the text read next to it (None when none could be read), ``length_nm`` the
    length it states, ``confidence`` the reader's certainty (0-1).
    """

    x_start: int
    x_end: int
    y: int
    thickness: int
    label: str | None = None
    length_nm: float | None = None
    confidence: float = 0.0
    label_box: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 of the label in the image
    in_data_bar: bool = False
    #: Ticks or round caps at the (left, right) end: with both, the length runs between their
    #: centres (Zeiss, FEI/Thermo).
    end_marks: tuple[bool, bool] = (False, False)

    @property
    def length_px(self) -> int:
        """The bar's length: its extent, less its thickness when it ends in ticks or caps.

        Instruments draw the end ticks (Zeiss) or round caps (FEI/Thermo) centred on the bar's
        ends: on the real files the extent less one line thickness gives the metadata's pixel size
        within 0.7 %, the extent alone 1.8-1.9 % too small.
        """
        return self.x_end - self.x_start - (self.thickness if all(self.end_marks) else 0)

    @property
    def confident(self) -> bool:
        """Whether the label was read well enough to calibrate from without asking."""
        return self.length_nm is not None and self.confidence >= MIN_LABEL_CONFIDENCE

    @property
    def trusted_geometry(self) -> bool:
        """Whether the bar itself is surely a scale bar: inside the data bar, or with a read label.

        Only such a bar takes a length the user types (``--scale-bar``).
        """
        return self.in_data_bar or self.confident

    @property
    def pixel_size_nm(self) -> float | None:
        return None if self.length_nm is None else self.length_nm / self.length_px

    def describe(self) -> str:
        if self.label is None:
            return f"scale-bar candidate {self.length_px} px (label not read)"
        state = "" if self.confident else f", unsure ({self.confidence:.0%})"
        return f"scale bar {self.length_px} px labelled {self.label!r}{state}"


def _bar_segments(ink: np.ndarray, image_width: int) -> list[ScaleBar]:
    """Thin horizontal bars among the ink's connected components (ticks and base lines allowed)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    min_length = max(10, int(MIN_BAR_FRACTION * image_width))
    out = []
    for index in range(1, count):
        x, y, w, h, area = stats[index]
        if w < min_length or w > MAX_BAR_FRACTION * image_width or x == 0 or x + w >= image_width:
            continue
        component = labels[y : y + h, x : x + w] == index
        full_rows = np.flatnonzero(component.sum(axis=1) >= 0.9 * w)
        if full_rows.size == 0 or full_rows.size > max(3, w // 3):  # papers draw blocks 3-4 times as long as thick
            continue
        if full_rows[-1] - full_rows[0] + 1 != full_rows.size:  # two runs: a frame, not a bar
            continue
        if area > 1.6 * w * full_rows.size + 0.5 * w * h:  # mostly solid: a block, not a bar with ticks
            continue
        thickness = int(full_rows.size)
        off_bar = np.ones(h, dtype=bool)
        off_bar[full_rows[0] : full_rows[-1] + 1] = False
        out.append(ScaleBar(int(x), int(x + w), int(y + full_rows[full_rows.size // 2]), thickness,
                            end_marks=_end_marks(component[off_bar], thickness)))
    return out


def _end_marks(off_bar: np.ndarray, thickness: int) -> tuple[bool, bool]:
    """Whether a bar has ticks or caps at its (left, right) end.

    That is ink beyond the bar's rows there that reaches further than along its middle: a plain
    bar's own antialiased or noisy edge rows reach its ends too, and are no marks.
    """
    if off_bar.size == 0:
        return False, False
    reach = off_bar.sum(axis=0)
    width = reach.size
    middle = reach[thickness + 1 : width - thickness - 1]
    level = float(np.median(middle)) if middle.size else 0.0
    return bool(reach[: thickness + 1].max() > level + 1), bool(reach[width - thickness - 1 :].max() > level + 1)


def _join_broken(segments: list[ScaleBar]) -> list[ScaleBar]:
    """Add the bars FEI/Thermo draw as two collinear segments with the label in the gap."""
    joined = []
    for a in segments:
        for b in segments:
            if b.x_start <= a.x_end or abs(a.y - b.y) > 1 or abs(a.thickness - b.thickness) > 1:
                continue
            gap = b.x_start - a.x_end
            if gap <= 1.5 * min(a.length_px, b.length_px) + 40:
                joined.append(ScaleBar(a.x_start, b.x_end, a.y, max(a.thickness, b.thickness),
                                       end_marks=(a.end_marks[0], b.end_marks[1])))
    return joined


def text_lines(ink: np.ndarray, *, max_height: int, gap: float = 0.9) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of lines of small ink blobs (characters), left to right.

    Blobs are joined into a line when they overlap vertically and lie less than ``gap`` times their
    height apart (0.9 keeps words apart in proportional fonts; monospaced ones need about 1.8).
    """
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    boxes = [(x, y, x + w, y + h) for x, y, w, h, a in stats[1:] if 2 <= h <= max_height and w <= 3 * max_height
             and a >= 2]
    boxes.sort()
    lines: list[list[int]] = []
    for x0, y0, x1, y1 in boxes:
        for line in lines:
            lx0, ly0, lx1, ly1 = line
            overlap = min(y1, ly1) - max(y0, ly0)
            height = max(y1 - y0, ly1 - ly0)
            if overlap > 0.3 * min(y1 - y0, ly1 - ly0) and x0 - lx1 < gap * height and x1 > lx0:
                line[:] = [min(lx0, x0), min(ly0, y0), max(lx1, x1), max(ly1, y1)]
                break
        else:
            lines.append([x0, y0, x1, y1])
    return [tuple(int(v) for v in line) for line in lines]


def _label_candidates(bar: ScaleBar, lines: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Text lines placed as a label is, nearest first.

    A label is above or below the bar and overlapping it horizontally, in its gap, or beside it on its
    row. A bar burned into the image has its label above or below it far more often than beside it,
    where a particle's edge next to the bar's end is no text: those lines come last.
    """
    scored = []
    for box in lines:
        x0, y0, x1, y1 = box
        h = y1 - y0
        if x1 - x0 < h or h < MIN_LABEL_HEIGHT:  # a label has a number and a unit: wider than high, legible
            continue
        overlaps = min(x1, bar.x_end) - max(x0, bar.x_start) > 0.5 * min(x1 - x0, bar.length_px)
        vertical = min(abs(bar.y - y1), abs(y0 - bar.y))
        beside = y0 - h <= bar.y <= y1 + h
        in_gap = y0 <= bar.y <= y1 and bar.x_start <= x0 and x1 <= bar.x_end  # "|-- 5 nm --|"
        if overlaps and (vertical <= 3.5 * h + bar.thickness and not y0 <= bar.y <= y1 or in_gap):
            scored.append((False, vertical, box))
        elif beside and (0 <= bar.x_start - x1 <= 3 * h or 0 <= x0 - bar.x_end <= 3 * h):
            scored.append((not bar.in_data_bar, min(abs(bar.x_start - x1), abs(x0 - bar.x_end)), box))
    return [box for _, _, box in sorted(scored)]


#: Gap (in character heights) that still joins characters into one line, for the wide pass.
WIDE_GAP = 1.8
#: Pieces of a wide line this many character heights apart or less may belong to one label (one
#: space, even in a monospaced font); the data bar's fields are further apart.
RUN_GAP = 1.2


def _runs(line: tuple[int, int, int, int], pieces: list[tuple[int, int, int, int]],
          bar: ScaleBar) -> list[tuple[int, int, int, int]]:
    """Boxes of the runs of narrow pieces of a wide line that hold the piece nearest the bar, longest first.

    A wide line can run into the data bar's other text ("x5,000  500.00 nm" in a monospaced font):
    the label is then the longest run that still reads as a length, not the unit alone (which a
    stray mark makes "1nm").
    """
    x0, y0, x1, y1 = line
    inside = sorted(p for p in pieces if p[0] >= x0 and p[2] <= x1 and p[1] >= y0 and p[3] <= y1)[:8]
    if len(inside) < 2:
        return []
    centre = (bar.x_start + bar.x_end) / 2

    def distance(piece: tuple[int, int, int, int]) -> float:
        if piece[2] <= bar.x_start:
            return bar.x_start - piece[2]
        if piece[0] >= bar.x_end:
            return piece[0] - bar.x_end
        return abs((piece[0] + piece[2]) / 2 - centre) / 4
    nearest = min(range(len(inside)), key=lambda i: distance(inside[i]))

    def close(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:  # one space apart at most
        return b[0] - a[2] <= RUN_GAP * max(a[3] - a[1], b[3] - b[1])
    first = last = nearest
    while first > 0 and close(inside[first - 1], inside[first]):
        first -= 1
    while last < len(inside) - 1 and close(inside[last], inside[last + 1]):
        last += 1
    spans = sorted(((i, j) for i in range(first, nearest + 1) for j in range(nearest, last + 1)
                    if (i, j) != (0, len(inside) - 1)), key=lambda ij: ij[0] - ij[1])
    # Last, the piece one wider space away on either side: a monospaced font's space between the
    # number and its unit ("500 nm") is wider than RUN_GAP heights of the unit's small letters.
    spans += [(i, j) for i, j in ((first - 1, last), (first, last + 1))
              if 0 <= i and j < len(inside) and (i, j) != (0, len(inside) - 1)]
    return [(inside[i][0], min(p[1] for p in inside[i:j + 1]), inside[j][2], max(p[3] for p in inside[i:j + 1]))
            for i, j in spans]


def detect_scale_bar(grey: np.ndarray, data_bar: DataBar | None = None, *, reader=None) -> ScaleBar | None:
    """The scale bar with the best-read label, in the data bar or (without one) burned into the image.

    Parameters
    ----------
    grey : ndarray of float, shape (H, W)
        Image scaled to [0, 1].
    data_bar : DataBar, optional
    reader : callable, optional
        ``reader(crop_uint8) -> (text, confidence)``; default: the shipped label reader.

    Returns
    -------
    ScaleBar or None
        The best bar whose label reads as a length, else the longest bar-like candidate (with
        ``label`` None: never calibrate from it without asking), else None.
    """
    if reader is None:
        from particle_gui.core.io.label_reader import read_label as reader
    width = grey.shape[1]
    image = to_uint8(grey)
    if data_bar is not None:
        top, bottom = data_bar.rows
        region = image[top:bottom]
        if region.shape[0] < 3:
            return None
        ink = np.abs(region.astype(np.int16) - data_bar.colour) > 60
        segments = _bar_segments(ink, width)
        if not segments:  # a bar one piece with the strip's frame
            ink = without_frame(ink)
            segments = _bar_segments(ink, width)
        segments += _join_broken(segments)
        best, candidate = _search(image, top, ink, segments, int(data_bar.colour), 0, True, reader, None, None)
        best, candidate = _with_rulers(image, reader, best, candidate)
        return best if best is not None else candidate
    inks = [image >= STRONG_BRIGHT, image <= STRONG_DARK]
    # A bar burned into the image is drawn at least two pixels thick; one pixel of saturated grey in
    # a line is a particle's bright rim or straight edge (one read "5µm" beside it on an EMPS image).
    thick = ([s for s in _bar_segments(ink, width) if s.thickness >= MIN_BURNED_THICKNESS] for ink in inks)
    segments = [found + _join_broken(found) for found in thick]
    best, candidate = _with_rulers(image, reader, *_burned_bars(image, inks, segments, reader))
    return best if best is not None else candidate


def _with_rulers(image: np.ndarray, reader, best: ScaleBar | None,
                 candidate: ScaleBar | None) -> tuple[ScaleBar | None, ScaleBar | None]:
    """``best`` and ``candidate``, or a Hitachi ruler of ticks (which has no line) if read better."""
    if best is not None and best.confident:
        return best, candidate
    ruler, longest = read_rulers(image, reader, _search)
    if ruler is not None and (best is None or ruler.confidence > best.confidence):
        best = ruler
    return best, candidate if candidate is not None else longest


def _burned_bars(image: np.ndarray, inks: list[np.ndarray], segments: list[list[ScaleBar]],
                 reader) -> tuple[ScaleBar | None, ScaleBar | None]:
    """The best-read bar and the longest candidate among bars burned into the image.

    ``inks`` are the surely bright and surely dark pixels, ``segments`` the bars found in each. A bar
    on a plain box has its label read from the box alone, first; then from the ink of the whole
    image; then, as a label burned into the image is often thinner or fainter than its bar (small
    antialiased type, a light specimen behind white text), with ink measured against the bar's own
    surroundings, in a band of rows around it.
    """
    best: ScaleBar | None = None
    candidate: ScaleBar | None = None

    def sure() -> bool:
        return best is not None and best.confident

    height = image.shape[0]
    for index, (ink, found) in enumerate(zip(inks, segments)):
        polarity = 1 if index == 0 else -1
        for segment in sorted(found, key=lambda s: -s.length_px)[:4]:
            boxed = None if sure() else boxed_ink(image, segment)
            if boxed is not None:
                best, candidate = _search(boxed[0], 0, boxed[1], [segment], boxed[2], polarity, False, reader,
                                          best, candidate)
        if found and not sure():
            background = int(np.median(image[~ink])) if (~ink).any() else 0
            best, candidate = _search(image, 0, ink, found, background, polarity, False, reader, best, candidate)
    burned = [(segment, index == 0) for index, found in enumerate(segments) for segment in found]
    for segment, bright in sorted(burned, key=lambda sb: -sb[0].length_px)[:4]:
        local = None if sure() else local_ink(image, segment, bright)
        if local is not None:
            band_top, ink, background = local
            best, candidate = _search(image, 0, placed(ink, band_top, height), [segment], background,
                                      1 if bright else -1, False, reader, best, candidate)
    return best, candidate


def _search(image: np.ndarray, top: int, ink: np.ndarray, segments: list[ScaleBar], background: int,
            polarity: int, in_data_bar: bool, reader, best: ScaleBar | None,
            candidate: ScaleBar | None) -> tuple[ScaleBar | None, ScaleBar | None]:
    """The best-read bar so far and the longest candidate, after reading the labels of ``segments``."""
    height = image.shape[0]
    # The bars are not text: without them a label next to a bar is not read with the bar's
    # line in its crop (it read as extra "m"s), and a bar is never taken for a line of text.
    max_height = max(12, ink.shape[0] if in_data_bar else height // 8)
    text_ink, painted = without_bars(ink, segments, image, top, background)
    # Wide lines first ("500 µm" in a monospaced font is two narrow lines, and "µm" alone with a
    # tick reads "1µm"); when a wide line runs into other text it does not parse, and the
    # narrow lines are tried next.
    wide = text_lines(text_ink, max_height=max_height, gap=WIDE_GAP)
    narrow = [box for box in text_lines(text_ink, max_height=max_height) if box not in wide]
    for segment in segments:
        bar = replace(segment, y=segment.y + top, in_data_bar=in_data_bar)
        if candidate is None or bar.length_px > candidate.length_px:
            candidate = bar
        shifted = [[(x0, y0 + top, x1, y1 + top) for x0, y0, x1, y1 in lines] for lines in (wide, narrow)]
        near_wide = _label_candidates(bar, shifted[0])[:3]
        pieces = [box for box in shifted[1] if box not in near_wide]
        runs = [run for line in near_wide for run in _runs(line, pieces, bar)]
        boxes = near_wide + [run for run in dict.fromkeys(runs) if run not in near_wide]
        boxes += [box for box in _label_candidates(bar, shifted[1])[:3] if box not in boxes]
        for box in boxes:
            if cut_by_border(box, image.shape, margin=1):
                continue  # text cut by the image's edge is no label (dark corners read as "5nm")
            if not in_data_bar and bar.length_px < MIN_BAR_PER_LABEL_HEIGHT * (box[3] - box[1]):
                continue  # a burned-in "bar" hardly longer than its text is high: a particle's edge
            box, read = read_checked(painted, box, reader, polarity) or (box, None)
            if read is None:
                continue
            text, nm, confidence = read
            found = replace(bar, label=text, length_nm=nm, confidence=confidence, label_box=box)
            if best is None or (found.confidence, found.length_px) > (best.confidence, best.length_px):
                best = found
            break
    return best, candidate
