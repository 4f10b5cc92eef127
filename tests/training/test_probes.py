"""The outline descriptors of the shape-class probe (training/shapes/probes.py) on known shapes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from particle_gui.core.analysis.shape_crops import particle_crops
from training.shapes.probes import outline_descriptors


def _crop(draw) -> np.ndarray:
    labels = np.zeros((200, 200), np.uint8)
    draw(labels)
    return particle_crops(labels.astype(np.float32), labels.astype(np.int32), np.array([1]))[1]


DISC = _crop(lambda a: cv2.circle(a, (100, 100), 60, 1, -1))
SQUARE = _crop(lambda a: cv2.rectangle(a, (50, 50), (150, 150), 1, -1))
ROD = _crop(lambda a: cv2.rectangle(a, (40, 85), (160, 115), 1, -1))
TRIANGLE = _crop(lambda a: cv2.fillPoly(a, [np.array([[100, 30], [170, 150], [30, 150]], np.int32)], 1))


@pytest.mark.parametrize(
    ("crop", "aspect", "corners"),
    [(DISC, 1.0, None), (SQUARE, 1.0, 4), (ROD, 4.0, 4), (TRIANGLE, None, 3)],
    ids=["disc", "square", "rod", "triangle"],
)
def test_descriptors_of_known_outlines(crop: np.ndarray, aspect: float | None, corners: int | None) -> None:
    row = outline_descriptors(crop)[0]
    assert row.shape == (31,)
    circularity, solidity, found_aspect = row[:3]
    assert solidity > 0.95  # all convex (pixel steps cost a little)
    if aspect is not None:
        assert found_aspect == pytest.approx(aspect, rel=0.06)
    if corners is not None:
        assert row[-1] == corners  # polygon corners of the hull at the coarsest tolerance
    assert (circularity > 0.85) == (crop is DISC)


def test_the_radial_signature_sees_the_number_of_corners() -> None:
    # spectrum of the outline's radial signature: harmonics 1..12 start at column 5
    square, triangle, disc = (outline_descriptors(c)[0][5:17] for c in (SQUARE, TRIANGLE, DISC))
    assert np.argmax(square) + 1 == 4
    assert np.argmax(triangle) + 1 == 3
    assert disc.max() < 0.1 * square[3]


def test_an_empty_crop_gives_zeros() -> None:
    assert not outline_descriptors(np.zeros((1, 64, 64, 2), np.float32)).any()
