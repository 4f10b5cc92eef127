"""Area-sampled shapes with exactly known size, for measurement tests and benchmarks.

- :func:`disc_grid`: 8 x 8 flat discs of one diameter, blurred by the microscope's PSF, with noise.
- :func:`turned_square`: a square turned by any angle, as a binary label image.
- :func:`touching_pairs`: pairs of overlapping discs (each pair one clump) and their instance labels.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Sub-pixel samples per pixel side when the shapes are digitised.
SUPERSAMPLE = 4


def disc_grid(diameter: float, rng: np.random.Generator, *, blur: float = 1.0, noise: float = 0.03,
              dark: bool = False) -> np.ndarray:
    """A 320 x 320 float32 image of 8 x 8 discs of ``diameter`` px on a 40 px grid (levels 0.2 / 0.8).

    Each disc's centre is jittered by up to half a pixel; ``dark`` inverts the image.
    """
    s, size = SUPERSAMPLE, 320
    yy, xx = (np.mgrid[: size * s, : size * s] + 0.5) / s
    fine = np.zeros((size * s, size * s), np.float32)
    for i in range(8):
        for j in range(8):
            cy, cx = 20 + 40 * i + rng.uniform(-0.5, 0.5), 20 + 40 * j + rng.uniform(-0.5, 0.5)
            fine[(yy - cy) ** 2 + (xx - cx) ** 2 <= (diameter / 2) ** 2] = 1
    grey = cv2.GaussianBlur(fine.reshape(size, s, size, s).mean(axis=(1, 3)), (0, 0), blur)
    grey = (0.2 + 0.6 * grey + rng.normal(0, noise, grey.shape)).astype(np.float32)
    return (1.0 - grey).astype(np.float32) if dark else grey


def turned_square(side: float, angle_deg: float) -> np.ndarray:
    """A square of ``side`` px turned by ``angle_deg``: int32 labels (1 inside), digitised at half coverage."""
    n, s = int(side * 1.6) + 12, SUPERSAMPLE
    yy, xx = (np.mgrid[: n * s, : n * s] + 0.5) / s - n / 2
    a = np.deg2rad(angle_deg)
    u, v = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
    cover = ((np.abs(u) < side / 2) & (np.abs(v) < side / 2)).reshape(n, s, n, s).mean(axis=(1, 3))
    return (cover >= 0.5).astype(np.int32)


def touching_pairs(seed: int, *, size: int = 320, diameter: int = 24, overlap: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Bright discs in overlapping pairs, each pair turned at random: float32 grey and int32 labels.

    Each disc overlaps its partner by ``overlap`` of its diameter (the shared pixels go to the first),
    so the defaults' split keeps most pairs whole while a neck split separates them: the adaptation's
    known answer.
    """
    rng = np.random.default_rng(seed)
    grey = np.full((size, size), 40.0)
    labels = np.zeros((size, size), np.int32)
    k = 0
    for cy in range(40, size - 30, 60):
        for cx in range(40, size - 60, 80):
            angle = rng.uniform(0, np.pi)
            dx, dy = (1 - overlap) * diameter * np.cos(angle), (1 - overlap) * diameter * np.sin(angle)
            for x, y in ((cx, cy), (cx + dx, cy + dy)):
                k += 1
                disc = np.zeros((size, size), np.uint8)
                cv2.circle(disc, (int(round(x * 4)), int(round(y * 4))), diameter * 2, 1, -1, shift=2)
                labels[(disc > 0) & (labels == 0)] = k
                grey[disc > 0] = 200
    grey = cv2.GaussianBlur(grey, (0, 0), 1.0) + rng.normal(0, 6, grey.shape)
    return (np.clip(grey, 0, 255) / 255).astype(np.float32), labels
