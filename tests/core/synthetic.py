"""Synthetic images with known answers for the engine tests (numpy only, seeded)."""

from __future__ import annotations

import numpy as np


def disc_mask(shape: tuple[int, int], centres, radius: float) -> np.ndarray:
    """Boolean mask of discs ``(x - cx)^2 + (y - cy)^2 <= radius^2`` around each ``(cy, cx)``.

    ``radius`` may be a sequence with one radius per centre.
    """
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    radii = np.broadcast_to(np.asarray(radius, dtype=float), (len(centres),))
    mask = np.zeros(shape, dtype=bool)
    for (cy, cx), r in zip(centres, radii):
        mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    return mask


def grid_centres(count: int, *, spacing: int, origin: int, columns: int) -> list[tuple[int, int]]:
    """``count`` centres ``(row, col)`` on a square grid, ``columns`` per row."""
    return [(origin + (i // columns) * spacing, origin + (i % columns) * spacing) for i in range(count)]


def disc_image(
    shape: tuple[int, int] = (128, 128),
    centres=((64, 64),),
    radius: float = 10.0,
    *,
    background: float = 0.2,
    foreground: float = 0.8,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """float32 image in [0, 1]: discs at ``foreground`` on ``background`` plus Gaussian noise."""
    image = np.where(disc_mask(shape, centres, radius), foreground, background).astype(np.float64)
    if noise:
        image += np.random.default_rng(seed).normal(0.0, noise, shape)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def add_data_bar(
    image: np.ndarray,
    *,
    rows: int = 40,
    bar_colour: float = 0.0,
    ink: float = 1.0,
    bar_length: int = 120,
    bar_thickness: int = 4,
    bar_x: int = 150,
) -> np.ndarray:
    """Copy of ``image`` with an instrument strip of ``rows`` rows at the bottom.

    The strip is flat ``bar_colour`` with text-like ``ink`` blocks on the left and a scale
    bar ``bar_length`` px long and ``bar_thickness`` px thick starting at column ``bar_x``.
    """
    out = np.array(image, dtype=np.float32, copy=True)
    height = out.shape[0]
    top = height - rows
    out[top:] = bar_colour
    # "Text": a row of small glyph-like blocks, each shorter than the scale bar.
    for k in range(8):
        x = 12 + k * 14
        out[top + 12 : top + 22, x : x + 8] = ink
        out[top + 15 : top + 18, x + 2 : x + 6] = bar_colour
    y = top + 20
    out[y : y + bar_thickness, bar_x : bar_x + bar_length] = ink
    return out


def noisy_specimen(shape: tuple[int, int], *, low: float = 0.2, high: float = 0.8, seed: int = 0) -> np.ndarray:
    """Uniform noise in [low, high): a textured specimen with no flat rows."""
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)
