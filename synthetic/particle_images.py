"""Synthetic SEM-like particle images with known instance labels, for benchmarks and tests.

Bright discs and ellipses (a log-normal-ish spread of sizes, random orientation and a slightly
brighter rim, as secondary-electron edge contrast gives) on a dark background with a gentle
illumination gradient; a fraction of the particles touch in pairs with a small neck. The
image is blurred slightly (probe size) and then gets Gaussian detector noise.

Usage::

    from synthetic.particle_images import particle_image
    grey, truth = particle_image(768, 1024, 300, seed=0)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Smallest free gap (px) between particles that are not a touching pair.
GAP_PX = 4.0
#: In a touching pair the centre distance is this fraction of the sum of the radii along the
#: line joining the centres (< 1: the outlines overlap a little and form a neck).
PAIR_CONTACT = 0.9
BACKGROUND_LEVEL = 0.12
PARTICLE_LEVEL = (0.62, 0.82)
RIM_GAIN = 0.12
BLUR_SIGMA_PX = 1.0


def default_diameter_range(height: int, width: int, n_particles: int) -> tuple[float, float]:
    """Diameters (px) for particles that cover about 20 % of the image (low end 6..24, high end <= 48)."""
    mean_area = 0.20 * height * width / max(n_particles, 1)
    mean_d = math.sqrt(4 * mean_area / math.pi)
    low = float(np.clip(0.6 * mean_d, 6.0, 24.0))
    return low, float(max(low + 2.0, min(1.6 * mean_d, 48.0)))


def _radius_along(a: float, b: float, angle: float, direction: float) -> float:
    """Distance from an ellipse's centre to its outline along ``direction`` (radians)."""
    phi = direction - angle
    return a * b / math.hypot(b * math.cos(phi), a * math.sin(phi))


class _Grid:
    """Bounding circles on a uniform grid, for quick 'is this place free' checks."""

    def __init__(self, height: int, width: int, cell: float) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[tuple[float, float, float]]] = {}

    def free(self, y: float, x: float, r: float) -> bool:
        cy, cx = int(y // self.cell), int(x // self.cell)
        for gy in range(cy - 1, cy + 2):
            for gx in range(cx - 1, cx + 2):
                for oy, ox, orad in self.cells.get((gy, gx), ()):
                    if math.hypot(y - oy, x - ox) < r + orad + GAP_PX:
                        return False
        return True

    def add(self, y: float, x: float, r: float) -> None:
        self.cells.setdefault((int(y // self.cell), int(x // self.cell)), []).append((y, x, r))


def _draw(
    height: int, width: int, shapes: list[tuple[float, float, float, float, float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Render (y, x, a, b, angle, level) ellipses; overlaps go to the nearer outline."""
    clean = np.full((height, width), BACKGROUND_LEVEL, dtype=np.float32)
    labels = np.zeros((height, width), dtype=np.int32)
    depth = np.full((height, width), np.inf, dtype=np.float32)  # normalised radius of the owner
    for index, (y, x, a, b, angle, level) in enumerate(shapes, start=1):
        y0, y1 = max(0, int(y - a) - 1), min(height, int(y + a) + 2)
        x0, x1 = max(0, int(x - a) - 1), min(width, int(x + a) + 2)
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dy, dx = yy - y, xx - x
        cos, sin = math.cos(angle), math.sin(angle)
        u = (dx * cos + dy * sin) / a
        v = (-dx * sin + dy * cos) / b
        q = np.sqrt(u * u + v * v)
        window = (slice(y0, y1), slice(x0, x1))
        inside = q < 1.0
        clean[window][inside] = level + RIM_GAIN * q[inside] ** 6
        owner = inside & (q < depth[window])
        labels[window][owner] = index
        depth[window][owner] = q[owner]
    return clean, labels


def particle_image(
    height: int,
    width: int,
    n_particles: int,
    *,
    seed: int,
    diameter_range: tuple[float, float] | None = None,
    touching_fraction: float = 0.3,
    noise: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic bright-particle image and its true instance labels.

    Parameters
    ----------
    height, width : int
        Image shape in pixels.
    n_particles : int
        Particles to place (centres anywhere in the image, so some are cut by the border);
        fewer are placed if the image runs out of room (check ``truth.max()``).
    seed : int
        Random seed: the same seed gives the same image.
    diameter_range : (float, float), optional
        Smallest and largest equivalent diameter (px); default from the density
        (:func:`default_diameter_range`: about 15-41 px for 300 particles in 1024x768, 18-47 px
        for 5000 in 4096x4096).
    touching_fraction : float
        Fraction of the particles placed in touching pairs.
    noise : float
        Standard deviation of the additive Gaussian noise (image range is [0, 1]).

    Returns
    -------
    grey : ndarray of float32, shape (height, width), values in [0, 1]
    truth : ndarray of int32, shape (height, width)
        0 = background, particles 1..N.

    Examples
    --------
    >>> grey, truth = particle_image(128, 160, 10, seed=1)
    >>> grey.dtype.name, truth.dtype.name, grey.shape, int(truth.max())
    ('float32', 'int32', (128, 160), 10)
    """
    if not 0.0 <= touching_fraction <= 1.0:
        raise ValueError("touching_fraction must be in [0, 1]")
    rng = np.random.default_rng(seed)
    d_low, d_high = diameter_range if diameter_range is not None else default_diameter_range(height, width, n_particles)
    n_pair_particles = 2 * int(round(n_particles * touching_fraction / 2))
    grid = _Grid(height, width, cell=2 * (d_high * 0.75 + GAP_PX))
    shapes: list[tuple[float, float, float, float, float, float]] = []

    def new_shape() -> tuple[float, float, float, float]:
        d = float(np.exp(rng.uniform(np.log(d_low), np.log(d_high))))
        ratio = 1.0 if rng.random() < 0.5 else float(rng.uniform(1.0, 1.6))  # half discs, half ellipses
        a = d / 2 * math.sqrt(ratio)  # equal area to a disc of diameter d
        b = d / 2 / math.sqrt(ratio)
        return a, b, float(rng.uniform(0, math.pi)), float(rng.uniform(*PARTICLE_LEVEL))

    attempts = 0
    while len(shapes) < n_particles and attempts < 200 * n_particles:
        attempts += 1
        pair = len(shapes) < n_pair_particles and n_particles - len(shapes) >= 2
        a1, b1, t1, l1 = new_shape()
        y1, x1 = float(rng.uniform(0, height)), float(rng.uniform(0, width))  # may be cut by the border
        if not grid.free(y1, x1, a1):
            continue
        if not pair:
            grid.add(y1, x1, a1)
            shapes.append((y1, x1, a1, b1, t1, l1))
            continue
        a2, b2, t2, l2 = new_shape()
        direction = float(rng.uniform(0, 2 * math.pi))
        reach = PAIR_CONTACT * (_radius_along(a1, b1, t1, direction) + _radius_along(a2, b2, t2, direction + math.pi))
        y2, x2 = y1 + reach * math.sin(direction), x1 + reach * math.cos(direction)
        if not (0 <= y2 < height and 0 <= x2 < width) or not grid.free(y2, x2, a2):
            continue
        grid.add(y1, x1, a1)  # the partner's circle may overlap this one: both were checked first
        grid.add(y2, x2, a2)
        shapes += [(y1, x1, a1, b1, t1, l1), (y2, x2, a2, b2, t2, l2)]

    clean, truth = _draw(height, width, shapes)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    clean += np.float32(0.05) * (0.6 * xx / width + 0.4 * yy / height)  # uneven illumination
    blurred = cv2.GaussianBlur(clean, (0, 0), BLUR_SIGMA_PX, borderType=cv2.BORDER_REFLECT)
    grey = blurred + rng.normal(0.0, noise, size=blurred.shape).astype(np.float32)
    return np.clip(grey, 0.0, 1.0).astype(np.float32), truth
