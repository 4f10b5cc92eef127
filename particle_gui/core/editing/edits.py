"""Hand corrections of a label image as small reversible deltas (pure NumPy, no Qt).

Every edit returns a :class:`LabelDelta`: the bounding box it touched, the flat indices of the
changed pixels inside that box, and their old and new values. Applying a delta and reverting it
restore the label image exactly; a delta costs memory in proportion to the pixels it changed,
never a copy of the image. :class:`~particle_gui.core.editing.history.EditHistory` keeps bounded
undo/redo stacks of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.segmentation import watershed

from particle_gui.core.analysis.segment import distance_map

@dataclass(frozen=True, eq=False)
class LabelDelta:
    """Pixels changed by one edit.

    Attributes
    ----------
    box : tuple of int
        ``(row_start, row_stop, col_start, col_stop)`` of the changed region.
    indices : ndarray of int64
        Flat indices of the changed pixels within the box (row-major).
    old, new : ndarray
        Label values before and after, one per index.
    kind : str
        What the edit was (``"delete"``, ``"merge"``, ``"split"``, ``"add"``, ``"paint"``...).
    """

    box: tuple[int, int, int, int]
    indices: np.ndarray
    old: np.ndarray
    new: np.ndarray
    kind: str = "edit"

    @property
    def empty(self) -> bool:
        return self.indices.size == 0

    @property
    def nbytes(self) -> int:
        return int(self.indices.nbytes + self.old.nbytes + self.new.nbytes)

    def apply(self, labels: np.ndarray) -> None:
        """Write the new values into ``labels`` (in place)."""
        self._write(labels, self.new)

    def revert(self, labels: np.ndarray) -> None:
        """Write the old values back into ``labels`` (in place)."""
        self._write(labels, self.old)

    def _write(self, labels: np.ndarray, values: np.ndarray) -> None:
        r0, r1, c0, c1 = self.box
        window = labels[r0:r1, c0:c1]
        rows, cols = np.divmod(self.indices, c1 - c0)
        window[rows, cols] = values

    def touched_ids(self) -> np.ndarray:
        """Every label id whose pixels this delta changed (old or new), without 0."""
        ids = np.union1d(self.old, self.new)
        return ids[ids > 0]


def delta_between(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int], kind: str) -> LabelDelta:
    """The delta that turns the window ``before`` into ``after`` (both of the box's shape)."""
    changed = np.flatnonzero(before.ravel() != after.ravel())
    return LabelDelta(
        box=box,
        indices=changed.astype(np.int64),
        old=before.ravel()[changed].copy(),
        new=after.ravel()[changed].copy(),
        kind=kind,
    )


def _box_of(mask: np.ndarray, *, pad: int = 0, shape: tuple[int, int] | None = None) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    height, width = shape or mask.shape
    return (max(int(rows[0]) - pad, 0), min(int(rows[-1]) + 1 + pad, height),
            max(int(cols[0]) - pad, 0), min(int(cols[-1]) + 1 + pad, width))


Box = tuple[int, int, int, int]


def _ids_box(labels: np.ndarray, ids, within: Box | None = None) -> Box | None:
    """Bounding box of the given ids; ``within`` (a box known to hold them all) saves a full scan."""
    r0, r1, c0, c1 = within if within is not None else (0, labels.shape[0], 0, labels.shape[1])
    box = _box_of(np.isin(labels[r0:r1, c0:c1], np.asarray(list(ids), dtype=labels.dtype)))
    return None if box is None else (box[0] + r0, box[1] + r0, box[2] + c0, box[3] + c0)


def _empty_delta(kind: str) -> LabelDelta:
    return LabelDelta((0, 0, 0, 0), np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), kind)


def next_free_id(labels: np.ndarray) -> int:
    """The smallest particle id above every id in ``labels`` (1 for an empty image)."""
    return int(labels.max()) + 1 if labels.size else 1


def delete_particles(labels: np.ndarray, ids, *, within: Box | None = None) -> LabelDelta:
    """Delta that sets every pixel of the given particles to background.

    >>> labels = np.array([[1, 1, 0], [0, 2, 2]], np.int32)
    >>> delta = delete_particles(labels, [2]); delta.apply(labels); labels.tolist()
    [[1, 1, 0], [0, 0, 0]]
    """
    ids = [int(i) for i in ids if int(i) > 0]
    box = _ids_box(labels, ids, within) if ids else None
    if box is None:
        return _empty_delta("delete")
    r0, r1, c0, c1 = box
    before = labels[r0:r1, c0:c1]
    after = np.where(np.isin(before, ids), 0, before)
    return delta_between(before, after, box, "delete")


def merge_particles(labels: np.ndarray, ids, *, within: Box | None = None) -> LabelDelta:
    """Delta that gives all the particles the smallest of their ids.

    >>> labels = np.array([[1, 2, 0, 3]], np.int32)
    >>> delta = merge_particles(labels, [3, 2]); delta.apply(labels); labels.tolist()
    [[1, 2, 0, 2]]
    """
    ids = sorted({int(i) for i in ids if int(i) > 0})
    if len(ids) < 2:
        return _empty_delta("merge")
    box = _ids_box(labels, ids, within)
    if box is None:
        return _empty_delta("merge")
    r0, r1, c0, c1 = box
    before = labels[r0:r1, c0:c1]
    after = np.where(np.isin(before, ids), ids[0], before)
    return delta_between(before, after, box, "merge")


def split_particle_by_line(
    labels: np.ndarray, particle_id: int, start_xy: tuple[float, float], end_xy: tuple[float, float], *, width: int = 1,
    within: Box | None = None, next_id: int | None = None,
) -> LabelDelta:
    """Cut a particle along a line; the pieces get the old id and new ids.

    The particle's pixels under the line (``width`` pixels wide) become background, as a knife
    cut would leave them; the pieces are 4-connected regions. A line that does not divide the
    particle changes nothing.
    """
    box = _ids_box(labels, [particle_id], within)
    if box is None:
        return _empty_delta("split")
    r0, r1, c0, c1 = box
    before = labels[r0:r1, c0:c1]
    inside = before == particle_id
    cut = np.zeros(inside.shape, np.uint8)
    p0 = (int(round(start_xy[0] - c0)), int(round(start_xy[1] - r0)))
    p1 = (int(round(end_xy[0] - c0)), int(round(end_xy[1] - r0)))
    cv2.line(cut, p0, p1, 1, thickness=max(1, int(width)), lineType=cv2.LINE_8)
    remaining = inside & (cut == 0)
    count, pieces = cv2.connectedComponents(remaining.view(np.uint8), connectivity=4)
    if count - 1 < 2:
        return _empty_delta("split")
    after = before.copy()
    after[inside] = 0
    first_free = next_free_id(labels) if next_id is None else next_id
    new_ids = np.concatenate([[0, particle_id], np.arange(first_free, first_free + count - 2)])
    after[remaining] = new_ids[pieces[remaining]]
    return delta_between(before, after, box, "split")


def _uphill(distance: np.ndarray, row: int, col: int) -> tuple[int, int]:
    """The local maximum of ``distance`` reached by always stepping to the highest 8-neighbour."""
    height, width = distance.shape
    while True:
        window = distance[max(row - 1, 0):row + 2, max(col - 1, 0):col + 2]
        step_row, step_col = np.unravel_index(int(np.argmax(window)), window.shape)
        step_row, step_col = step_row + max(row - 1, 0), step_col + max(col - 1, 0)
        if distance[step_row, step_col] <= distance[row, col]:
            return row, col
        row, col = int(step_row), int(step_col)


def split_particle_by_seeds(
    labels: np.ndarray, particle_id: int, seeds_xy, *, within: Box | None = None, next_id: int | None = None
) -> LabelDelta:
    """Split one particle into one piece per seed, along its necks where it has them.

    Each seed climbs the particle's distance map to its local maximum; when every seed reaches a
    maximum of its own, a (slightly compact) watershed from those maxima cuts along the necks between
    them, wherever in its lobe the user clicked. When two seeds reach the same maximum (a round
    particle, no neck between them), each pixel goes to its nearest seed instead.
    """
    seeds = [(int(round(x)), int(round(y))) for x, y in seeds_xy]
    box = _ids_box(labels, [particle_id], within)
    if box is None or len(seeds) < 2:
        return _empty_delta("split")
    r0, r1, c0, c1 = box
    before = labels[r0:r1, c0:c1]
    inside = before == particle_id
    points = [(y - r0, x - c0) for x, y in seeds if r0 <= y < r1 and c0 <= x < c1 and inside[y - r0, x - c0]]
    if len(set(points)) < 2:
        return _empty_delta("split")
    distance = distance_map(inside)
    tops = [_uphill(distance, row, col) for row, col in points]
    separate = len(set(tops)) == len(tops)
    markers = np.zeros(inside.shape, np.int32)
    for index, (row, col) in enumerate(tops if separate else points, start=1):
        markers[row, col] = index
    if separate:
        pieces = watershed(-distance, markers, mask=inside, connectivity=2, compactness=0.01)
    else:
        pieces = watershed(np.zeros(inside.shape), markers, mask=inside, connectivity=2, compactness=1.0)
    used = np.unique(pieces[pieces > 0])
    first_free = next_free_id(labels) if next_id is None else next_id
    lookup = np.zeros(int(pieces.max()) + 1, np.int64)
    lookup[used[0]] = particle_id
    lookup[used[1:]] = np.arange(first_free, first_free + used.size - 1)
    after = before.copy()
    after[inside] = lookup[pieces[inside]]
    return delta_between(before, after, box, "split")


def add_particle(
    labels: np.ndarray, mask: np.ndarray, *, overwrite: bool = False, at: tuple[int, int] = (0, 0),
    next_id: int | None = None,
) -> LabelDelta:
    """Add a new particle covering ``mask`` (background pixels only unless ``overwrite``).

    ``mask`` may be a window of the image whose top-left pixel is at row, column ``at``.
    """
    row, col = at
    height, width = mask.shape
    window = labels[row:row + height, col:col + width]
    mask = mask[: window.shape[0], : window.shape[1]]
    target = mask if overwrite else mask & (window == 0)
    box = _box_of(target)
    if box is None:
        return _empty_delta("add")
    r0, r1, c0, c1 = box
    before = window[r0:r1, c0:c1]
    value = next_free_id(labels) if next_id is None else next_id
    after = np.where(target[r0:r1, c0:c1], value, before)
    return delta_between(before, after, (r0 + row, r1 + row, c0 + col, c1 + col), "add")


def polygon_mask(shape: tuple[int, int], polygon_xy) -> np.ndarray:
    """Pixels inside a polygon given as (x, y) image coordinates."""
    mask = np.zeros(shape, np.uint8)
    points = np.round(np.asarray(polygon_xy, dtype=np.float64)).astype(np.int32)
    if len(points) >= 3:
        cv2.fillPoly(mask, [points], 1)
    return mask.view(bool)


def flood_fill_mask(foreground: np.ndarray, x: int, y: int) -> np.ndarray:
    """The 8-connected region of ``foreground`` containing pixel (x, y); empty when it is background."""
    region, (row, col) = flood_fill_region(foreground, x, y)
    mask = np.zeros(foreground.shape, bool)
    mask[row:row + region.shape[0], col:col + region.shape[1]] = region
    return mask


def flood_fill_region(foreground: np.ndarray, x: int, y: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The region of :func:`flood_fill_mask` as its bounding window and the window's (row, col).

    Scan-line fill (OpenCV): apart from one buffer, the cost follows the region's size.
    """
    height, width = foreground.shape
    if not (0 <= y < height and 0 <= x < width) or not foreground[y, x]:
        return np.zeros((0, 0), bool), (0, 0)
    image = foreground.view(np.uint8) if foreground.dtype == bool and foreground.flags.c_contiguous else (
        np.ascontiguousarray(foreground, dtype=np.uint8))
    mask = np.zeros((height + 2, width + 2), np.uint8)
    _, _, _, (left, top, w, h) = cv2.floodFill(
        image, mask, (int(x), int(y)), 1, loDiff=0, upDiff=0,
        flags=8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8))
    return mask[top + 1:top + 1 + h, left + 1:left + 1 + w].view(bool), (top, left)


def paint(labels: np.ndarray, x: float, y: float, *, radius: float, value: int, overwrite: bool = True) -> LabelDelta:
    """Brush (``value`` > 0) or eraser (``value`` = 0) stroke of a disc at (x, y).

    With ``overwrite=False`` a brush changes only background and its own particle's pixels,
    never a neighbour's (an eraser always erases).
    """
    height, width = labels.shape
    r = max(0.5, float(radius))
    r0, r1 = max(int(np.floor(y - r)), 0), min(int(np.ceil(y + r)) + 1, height)
    c0, c1 = max(int(np.floor(x - r)), 0), min(int(np.ceil(x + r)) + 1, width)
    if r0 >= r1 or c0 >= c1:
        return _empty_delta("paint")
    yy, xx = np.mgrid[r0:r1, c0:c1]
    disc = (yy - y) ** 2 + (xx - x) ** 2 <= r * r
    before = labels[r0:r1, c0:c1]
    if value and not overwrite:
        disc &= (before == 0) | (before == value)
    after = np.where(disc, value, before)
    return delta_between(before, after, (r0, r1, c0, c1), "paint" if value else "erase")
