"""Where particles go in a synthetic scene: scattered, densely packed, aggregated, close-packed.

Every layout returns a list of :class:`~synthetic.scenes.outlines.Particle` in drawing order.
Overlap tests use a radius between each particle's equivalent and bounding radius, so
neighbours may touch and overlap a little (as powders and aggregates do); which one is seen
where is decided by the renderer's height buffer, which also gives the exact truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from synthetic.scenes.outlines import Particle, outline

SizeSampler = Callable[[np.random.Generator], float]
ShapeSampler = Callable[[np.random.Generator], str]


class _Grid:
    """Circles on a uniform grid, for quick overlap checks."""

    def __init__(self, cell: float) -> None:
        self.cell = max(cell, 4.0)
        self.largest = 0.0
        self.cells: dict[tuple[int, int], list[tuple[float, float, float]]] = {}

    def clear_of(self, y: float, x: float, r: float, factor: float = 1.0) -> bool:
        """True when no circle is closer than ``factor * (r + its radius)``."""
        span = int(math.ceil((r + self.largest) / self.cell))
        cy, cx = int(y // self.cell), int(x // self.cell)
        for gy in range(cy - span, cy + span + 1):
            for gx in range(cx - span, cx + span + 1):
                for oy, ox, orad in self.cells.get((gy, gx), ()):
                    if math.hypot(y - oy, x - ox) < factor * (r + orad):
                        return False
        return True

    def add(self, y: float, x: float, r: float) -> None:
        self.largest = max(self.largest, r)
        self.cells.setdefault((int(y // self.cell), int(x // self.cell)), []).append((y, x, r))


def lognormal_sizes(median: float, sigma: float, *, low: float = 4.0, high: float = 400.0) -> SizeSampler:
    """Diameters (px) drawn log-normally around ``median``, clipped to [low, high]."""
    return lambda rng: float(np.clip(median * math.exp(rng.normal(0, sigma)), low, high))


def bimodal_sizes(small: float, ratio: float, small_fraction: float, sigma: float = 0.1) -> SizeSampler:
    """Two populations, ``small`` and ``small * ratio`` px, ``small_fraction`` of them small."""

    def draw(rng: np.random.Generator) -> float:
        base = small if rng.random() < small_fraction else small * ratio
        return float(base * math.exp(rng.normal(0, sigma)))

    return draw


def loguniform_sizes(low: float, high: float) -> SizeSampler:
    """Diameters (px) log-uniform in [low, high]."""
    return lambda rng: float(math.exp(rng.uniform(math.log(low), math.log(high))))


def one_shape(shape: str) -> ShapeSampler:
    return lambda rng: shape


def shape_mix(shapes: tuple[str, ...], weights: tuple[float, ...] | None = None) -> ShapeSampler:
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return lambda rng: str(shapes[int(rng.choice(len(shapes), p=p))])


def _equivalent_radius(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return math.sqrt(abs(0.5 * float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))) / math.pi)


def reach(points: np.ndarray) -> float:
    """Radius used for overlap tests: between the equivalent and the bounding radius."""
    return 0.5 * (_equivalent_radius(points) + float(np.max(np.hypot(points[:, 0], points[:, 1]))))


def _new(rng: np.random.Generator, sizes: SizeSampler, shapes: ShapeSampler, d: float | None = None):
    shape = shapes(rng)
    pts = outline(rng, shape, sizes(rng) if d is None else d)
    return pts, shape, reach(pts)


def scatter(rng: np.random.Generator, shape_hw: tuple[int, int], count: int, sizes: SizeSampler,
            shapes: ShapeSampler, *, gap: float = 3.0) -> list[Particle]:
    """Up to ``count`` particles, none touching another (``gap`` px at least between them)."""
    h, w = shape_hw
    diameters = sorted((sizes(rng) for _ in range(count)), reverse=True)
    grid = _Grid(diameters[0] if diameters else 8.0)
    out: list[Particle] = []
    for d in diameters:
        pts, shape, r = _new(rng, sizes, shapes, d)
        for _ in range(30):
            y, x = rng.uniform(-r / 2, h + r / 2), rng.uniform(-r / 2, w + r / 2)
            if grid.clear_of(y, x, r + gap / 2):
                grid.add(y, x, r + gap / 2)
                out.append(Particle(y, x, pts, shape))
                break
    return out


def packed(rng: np.random.Generator, shape_hw: tuple[int, int], coverage: float, sizes: SizeSampler,
           shapes: ShapeSampler, *, contact: tuple[float, float] = (0.8, 1.05), attempts: int = 40) -> list[Particle]:
    """A powder: particles dropped largest first until ``coverage`` of the area is filled;
    neighbours may touch or overlap (centre distance down to ``contact[0]`` times the radii)."""
    h, w = shape_hw
    target = coverage * h * w
    diameters: list[float] = []
    while sum(math.pi * d * d / 4 for d in diameters) < target and len(diameters) < 5000:
        diameters.append(sizes(rng))
    diameters.sort(reverse=True)
    grid = _Grid(diameters[0] if diameters else 8.0)
    out: list[Particle] = []
    for d in diameters:
        pts, shape, r = _new(rng, sizes, shapes, d)
        factor = rng.uniform(*contact)
        for _ in range(attempts):
            y, x = rng.uniform(-r / 2, h + r / 2), rng.uniform(-r / 2, w + r / 2)
            if grid.clear_of(y, x, r, factor):
                grid.add(y, x, r)
                out.append(Particle(y, x, pts, shape))
                break
    return out


def aggregate(rng: np.random.Generator, centre: tuple[float, float], count: int, sizes: SizeSampler,
              shapes: ShapeSampler, *, contact: tuple[float, float] = (0.82, 0.98), compact: float = 0.5,
              grid: _Grid | None = None) -> list[Particle]:
    """A cluster of ``count`` touching particles grown from ``centre``: each new particle sticks
    to a member (the most recent ones with probability ``1 - compact``, else one near the centre)
    at a centre distance of ``contact`` times the sum of the radii, overlapping none of the others."""
    grid = grid or _Grid(16.0)
    members: list[tuple[float, float, float]] = []
    out: list[Particle] = []
    for _ in range(count):
        pts, shape, r = _new(rng, sizes, shapes)
        if not members:
            y, x = centre
            if not grid.clear_of(y, x, r, 0.95):
                return out
            placed = True
        else:
            placed = False
            for _try in range(25):
                if rng.random() < compact:
                    dist = [math.hypot(m[0] - centre[0], m[1] - centre[1]) for m in members]
                    anchor = members[int(np.argsort(dist)[int(rng.integers(0, min(len(dist), 4)))])]
                else:
                    anchor = members[int(rng.integers(max(0, len(members) - 5), len(members)))]
                angle = rng.uniform(0, 2 * np.pi)
                distance = rng.uniform(*contact) * (anchor[2] + r)
                y, x = anchor[0] + distance * math.sin(angle), anchor[1] + distance * math.cos(angle)
                if grid.clear_of(y, x, r, contact[0] * 0.98):
                    placed = True
                    break
        if placed:
            grid.add(y, x, r)
            members.append((y, x, r))
            out.append(Particle(y, x, pts, shape))
    return out


def close_packed(rng: np.random.Generator, centre: tuple[float, float], rows: int, cols: int, diameter: float,
                 shapes: ShapeSampler, *, spread: float = 0.04, contact: float = 0.97, vacancy: float = 0.05) -> list[Particle]:
    """A hexagonal raft of nearly equal particles (self-assembled nanoparticles), with vacancies."""
    out: list[Particle] = []
    pitch = diameter * contact
    angle = rng.uniform(0, np.pi / 3)
    c, s = math.cos(angle), math.sin(angle)
    for i in range(rows):
        for j in range(cols):
            if rng.random() < vacancy:
                continue
            u = (j - cols / 2 + (0.5 if i % 2 else 0.0)) * pitch
            v = (i - rows / 2) * pitch * math.sqrt(3) / 2
            y = centre[0] + u * s + v * c + rng.normal(0, spread * diameter)
            x = centre[1] + u * c - v * s + rng.normal(0, spread * diameter)
            d = diameter * math.exp(rng.normal(0, spread))
            shape = shapes(rng)
            out.append(Particle(y, x, outline(rng, shape, d), shape))
    return out


def satellites(rng: np.random.Generator, hosts: list[Particle], fraction: float, ratio: tuple[float, float]) -> list[Particle]:
    """Small particles stuck on the rims of ``fraction`` of the hosts, lying on top of them."""
    out: list[Particle] = []
    for host in hosts:
        if rng.random() >= fraction:
            continue
        r_host = _equivalent_radius(host.outline)
        for _ in range(int(rng.integers(1, 4))):
            d = 2 * r_host * rng.uniform(*ratio)
            angle = rng.uniform(0, 2 * np.pi)
            distance = r_host + d / 2 * rng.uniform(0.2, 0.8)
            out.append(Particle(host.y + distance * math.sin(angle), host.x + distance * math.cos(angle),
                                outline(rng, "sphere", d), "sphere", lift=r_host * rng.uniform(0.2, 0.6)))
    return out
