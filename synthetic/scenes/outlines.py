"""Particle outlines and height profiles for synthetic scenes (pure NumPy/OpenCV, seeded).

Each particle is drawn into a small patch at twice the pixel resolution: its outline (a polygon
around the origin, in pixels) is filled, and its height above the substrate is a profile of the
distance to the outline (a dome for spheres and rods, a bevelled plate for cubes and polygons, a
lumpy dome for irregular grains). :func:`rasterise` returns the patch's coverage (anti-aliased
area fraction) and height, both at the image's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Shapes the generator draws, and the height profile each gets.
SHAPES: tuple[str, ...] = ("sphere", "ellipse", "cube", "rod", "triangle", "hexagon", "irregular")
_SUPERSAMPLE = 2
_SHIFT = 4  # fillPoly fixed-point bits


@dataclass(frozen=True)
class Particle:
    """One particle: centre (y, x), outline around the origin (N, 2) in (x, y) pixels, and its shape."""

    y: float
    x: float
    outline: np.ndarray
    shape: str
    lift: float = 0.0  # extra height (px) of the particle's base: it lies on top of its neighbours

    @property
    def radius(self) -> float:
        """Largest distance from the centre to the outline (px)."""
        return float(np.max(np.hypot(self.outline[:, 0], self.outline[:, 1])))


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ np.array([[c, s], [-s, c]])


def _rounded_polygon(corners: np.ndarray, radius: float, per_corner: int = 6) -> np.ndarray:
    """A convex polygon with its corners rounded by ``radius`` (px)."""
    centre = corners.mean(0)
    out = []
    n = len(corners)
    for i in range(n):
        prev, here, nxt = corners[i - 1], corners[i], corners[(i + 1) % n]
        a = prev - here
        b = nxt - here
        a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
        half = np.arccos(np.clip(np.dot(a, b), -1, 1)) / 2
        r = min(radius, 0.45 * min(np.linalg.norm(prev - here), np.linalg.norm(nxt - here)) * np.tan(half))
        inset = r / max(np.sin(half), 1e-6)
        bis = (a + b) / max(np.linalg.norm(a + b), 1e-9)
        c = here + bis * inset
        start = np.arctan2(*(here + a * r / np.tan(half) - c)[::-1])
        end = np.arctan2(*(here + b * r / np.tan(half) - c)[::-1])
        sweep = (end - start + np.pi) % (2 * np.pi) - np.pi
        t = start + sweep * np.linspace(0, 1, per_corner)
        out.append(c + r * np.c_[np.cos(t), np.sin(t)])
    pts = np.vstack(out)
    # keep counter-clockwise order around the centre
    order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
    return pts[order]


def outline(rng: np.random.Generator, shape: str, diameter: float) -> np.ndarray:
    """An outline (N, 2) of ``shape`` whose equivalent circular diameter is about ``diameter`` px."""
    r = diameter / 2
    angle = rng.uniform(0, 2 * np.pi)
    t = np.linspace(0, 2 * np.pi, max(24, int(2 * np.pi * r / 1.5)), endpoint=False)
    if shape == "sphere":
        a = r * (1 + rng.normal(0, 0.03))
        pts = np.c_[a * np.cos(t), r * r / a * np.sin(t)]
    elif shape == "ellipse":
        ratio = rng.uniform(1.2, 1.8)
        pts = np.c_[r * np.sqrt(ratio) * np.cos(t), r / np.sqrt(ratio) * np.sin(t)]
    elif shape == "rod":
        ratio = rng.uniform(2.0, 6.0)
        width = r * np.sqrt(np.pi / (ratio - 1 + np.pi / 4))  # the capsule has the disc's area
        half_len = (ratio - 1) * width / 2
        cap = np.linspace(-np.pi / 2, np.pi / 2, max(8, int(width)))
        right = np.c_[half_len + width / 2 * np.cos(cap), width / 2 * np.sin(cap)]
        pts = np.vstack([right, -right])
    elif shape in ("cube", "triangle", "hexagon"):
        n = {"cube": 4, "triangle": 3, "hexagon": 6}[shape]
        # circumradius giving the disc's area for a regular n-gon
        circ = r * np.sqrt(2 * np.pi / (n * np.sin(2 * np.pi / n)))
        corners = circ * np.c_[np.cos(2 * np.pi * np.arange(n) / n), np.sin(2 * np.pi * np.arange(n) / n)]
        if shape == "cube" and rng.random() < 0.3:
            corners[:, 0] *= rng.uniform(1.0, 1.4)
        corners = corners + rng.normal(0, 0.03 * circ, corners.shape)
        pts = _rounded_polygon(corners, rng.uniform(0.05, 0.3) * circ)
    else:  # irregular: a lumpy blob
        wobble = np.zeros_like(t)
        for order in range(2, 7):
            wobble += rng.normal(0, 0.12 / order) * np.cos(order * t + rng.uniform(0, 2 * np.pi))
        pts = np.c_[r * (1 + wobble) * np.cos(t), r * (1 + wobble) * np.sin(t)]
    return _rotate(pts, angle)


def rasterise(particle: Particle) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """The particle's patch: (top, left) in the image, coverage in [0, 1] and height (px), float32.

    Height profiles: spheres, ellipses and rods are domes over the distance to the outline
    (a sphere's exact profile for a disc); cubes and polygons are plates with bevelled edges;
    irregular grains are domes with bumps.
    """
    pts = particle.outline
    lo = np.floor(pts.min(0)) - 2
    hi = np.ceil(pts.max(0)) + 2
    left, top = int(np.floor(particle.x + lo[0])), int(np.floor(particle.y + lo[1]))
    width, height = int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1
    s = _SUPERSAMPLE
    local = (pts + np.array([particle.x - left, particle.y - top])) * s
    canvas = np.zeros((height * s, width * s), np.uint8)
    cv2.fillPoly(canvas, [np.round(local * (1 << _SHIFT)).astype(np.int32)], 255, lineType=cv2.LINE_8, shift=_SHIFT)
    dist = cv2.distanceTransform(canvas, cv2.DIST_L2, 5) / s
    inradius = max(float(dist.max()), 0.5)
    if particle.shape in ("cube", "triangle", "hexagon"):
        bevel = max(0.15 * inradius, 0.75)
        plate = _plate(dist, bevel, thickness=inradius * 0.8)
        profile = plate
    else:
        d = np.minimum(dist, inradius)
        profile = np.sqrt(np.maximum(d * (2 * inradius - d), 0.0))
    cover = canvas.reshape(height, s, width, s).mean(axis=(1, 3)) / 255.0
    h = profile.reshape(height, s, width, s).mean(axis=(1, 3))
    return (top, left), cover.astype(np.float32), (h + particle.lift * (cover > 0)).astype(np.float32)


def _plate(dist: np.ndarray, bevel: float, *, thickness: float) -> np.ndarray:
    """Height of a plate ``thickness`` px thick whose edges are rounded over ``bevel`` px."""
    edge = np.clip(dist / bevel, 0.0, 1.0)
    return thickness * np.sqrt(edge * (2 - edge)) * (dist > 0)
