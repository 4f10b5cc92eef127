"""Label images: table look-ups, outlines and bounding boxes (pure NumPy).

Every part of the program that turns a label image into something else (the window's overlay,
the exported overlay PNG, the corrections' boxes, the segmentation's renumbering) goes through
these functions, so screen and files agree pixel for pixel.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Table look-ups on large label images run in blocks of this many pixels: NumPy holds the GIL
#: during one fancy-indexing call, and blocks let a GUI thread run in between.
LOOKUP_BLOCK_PIXELS = 1 << 20

#: A rectangle of a label image: row_start, row_stop, col_start, col_stop.
Box = tuple[int, int, int, int]


def lookup(table: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``table[labels]`` for a 2-D label image, computed in row blocks.

    >>> lookup(np.array([0, 10, 20]), np.array([[1, 2], [0, 1]])).tolist()
    [[10, 20], [0, 10]]
    """
    table = np.asarray(table)
    out = np.empty(labels.shape + table.shape[1:], dtype=table.dtype)
    rows = max(1, LOOKUP_BLOCK_PIXELS // max(labels.shape[1], 1))
    for start in range(0, labels.shape[0], rows):
        np.take(table, labels[start : start + rows], axis=0, out=out[start : start + rows])
    return out


def inner_boundaries(labels: np.ndarray) -> np.ndarray:
    """Particle pixels with a 4-neighbour of another label.

    The same as ``find_boundaries(labels, mode="inner")`` of scikit-image, with boolean temporaries
    only (its dilation and erosion copy the labels twice).

    >>> labels = np.zeros((4, 5), np.int32); labels[1:3, 1:4] = 1
    >>> inner_boundaries(labels).astype(int).tolist()
    [[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]]
    """
    boundary = np.zeros(labels.shape, dtype=bool)
    for axis in (0, 1):
        before = [slice(None), slice(None)]
        after = [slice(None), slice(None)]
        before[axis], after[axis] = slice(None, -1), slice(1, None)
        differs = labels[tuple(before)] != labels[tuple(after)]
        boundary[tuple(before)] |= differs
        boundary[tuple(after)] |= differs
        del differs
    boundary &= labels != 0
    return boundary


def outline_labels(labels: np.ndarray) -> np.ndarray:
    """Labels kept only on each particle's inner boundary (4-neighbourhood), 0 elsewhere.

    >>> labels = np.zeros((5, 5), np.int32); labels[1:4, 1:4] = 3
    >>> outline_labels(labels)[1:4, 1:4].tolist()
    [[3, 3, 3], [3, 0, 3], [3, 3, 3]]
    """
    return np.where(inner_boundaries(labels), labels, 0)


def union_box(boxes) -> Box | None:
    """The smallest box holding every box given (None entries and empty boxes ignored).

    >>> union_box([(0, 2, 5, 6), None, (1, 4, 0, 3)])
    (0, 4, 0, 6)
    """
    boxes = [b for b in boxes if b is not None and b[0] < b[1] and b[2] < b[3]]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes))


def particle_boxes(labels: np.ndarray) -> dict[int, Box]:
    """Bounding box of every particle id present in ``labels``.

    >>> particle_boxes(np.array([[0, 2], [2, 0]], np.int32))
    {2: (0, 2, 0, 2)}
    """
    boxes: dict[int, Box] = {}
    for index, found in enumerate(ndimage.find_objects(labels)):
        if found is not None:
            rows, cols = found
            boxes[index + 1] = (rows.start, rows.stop, cols.start, cols.stop)
    return boxes
