"""Random particle outlines for the six shape classes, as polygons in pixel coordinates.

Every function takes a ``numpy.random.Generator`` and a size (the particle's longest extent
in pixels, roughly) and returns an (N, 2) float array of (x, y) vertices centred on (0, 0),
already rotated. The class boundaries used for the synthetic data (and for hand labelling):

- round: discs, ellipses of aspect < 1.5 and eggs, smooth, rough or finely lumpy outline, no corners;
- elongated: rods, wires, needles, bipyramids, ellipses of aspect > 1.7;
- square: squares, rounded squares and near-square rectangles (aspect < 1.4), cubes face-on or
  slightly tilted (a side face showing);
- triangle: triangles and plates with truncated or rounded corners (truncation < ~18 %),
  sometimes slightly bulging sides;
- hexagon: hexagons, octagons, pentagons and other faceted outlines with >= 5 straight sides;
- irregular: lumpy or concave blobs, flower-like bumpy particles, agglomerates, rough fragments,
  teardrops, two fused particles (a waist), lopsided four-cornered lumps with bulging sides.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("round", "elongated", "square", "triangle", "hexagon", "irregular")


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ np.array([[c, s], [-s, c]])


def _finish(rng: np.random.Generator, points: np.ndarray, size: float) -> np.ndarray:
    """Centre on the bounding box, scale the longest extent to ``size``, rotate at random."""
    points = _rotate(points, rng.uniform(0, 2 * np.pi))
    points = points - (points.max(0) + points.min(0)) / 2
    extent = float(np.max(points.max(0) - points.min(0)))
    return points * (size / max(extent, 1e-9))


def _rounded_polygon(corners: np.ndarray, radius: float, per_corner: int = 8) -> np.ndarray:
    """A convex polygon (counter-clockwise corners) with each corner rounded by ``radius``."""
    if radius <= 0:
        return corners
    out = []
    n = len(corners)
    for i in range(n):
        p, prev, nxt = corners[i], corners[i - 1], corners[(i + 1) % n]
        a, b = prev - p, nxt - p
        la, lb = np.linalg.norm(a), np.linalg.norm(b)
        a, b = a / la, b / lb
        half = np.arccos(np.clip(a @ b, -1, 1)) / 2
        cut = min(radius / np.tan(half), 0.49 * min(la, lb))
        r = cut * np.tan(half)
        bis = (a + b) / np.linalg.norm(a + b)
        centre = p + bis * (r / np.sin(half))
        start, stop = p + a * cut - centre, p + b * cut - centre
        t0, t1 = np.arctan2(start[1], start[0]), np.arctan2(stop[1], stop[0])
        t1 = t0 + (t1 - t0 + np.pi) % (2 * np.pi) - np.pi
        ts = np.linspace(t0, t1, per_corner)
        out.append(centre + r * np.c_[np.cos(ts), np.sin(ts)])
    return np.vstack(out)


def _regular(n: int, phase: float = 0.0) -> np.ndarray:
    t = phase + np.arange(n) * 2 * np.pi / n
    return np.c_[np.cos(t), np.sin(t)]


def _wobble(rng: np.random.Generator, t: np.ndarray, amplitude: float, orders: tuple[int, int]) -> np.ndarray:
    radius = np.ones_like(t)
    for k in range(orders[0], orders[1] + 1):
        radius += amplitude * rng.normal() / k**0.7 * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    return np.maximum(radius, 0.2)


def round_shape(rng: np.random.Generator, size: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 160, endpoint=False)
    aspect = min(1 + rng.exponential(0.1), 1.5) if rng.random() < 0.8 else rng.uniform(1.0, 1.5)
    radius = _wobble(rng, t, rng.uniform(0, 0.03), (2, 6)) * _wobble(rng, t, rng.uniform(0, 0.02), (7, 16))
    if rng.random() < 0.25:  # a rough or finely lumpy surface: many small bumps, still round
        radius = radius * _wobble(rng, t, rng.uniform(0.005, 0.035), (14, 40))
    points = np.c_[np.cos(t) * aspect, np.sin(t)] * radius[:, None]
    if rng.random() < 0.2:  # egg-shaped: one end a little narrower
        points[:, 1] *= 1 + rng.uniform(0.05, 0.3) * points[:, 0] / max(aspect, 1e-9)
    return _finish(rng, points, size)


def elongated_shape(rng: np.random.Generator, size: float) -> np.ndarray:
    aspect = float(np.exp(rng.uniform(np.log(1.75), np.log(14))))
    kind = rng.choice(["capsule", "rect", "ellipse", "bipyramid", "bent"], p=[0.35, 0.25, 0.15, 0.1, 0.15])
    half_w, half_l = 1.0, aspect
    if kind == "capsule" or kind == "rect":
        radius = 1.0 if kind == "capsule" else rng.uniform(0, 0.5)
        corners = np.array([[-half_l, -half_w], [half_l, -half_w], [half_l, half_w], [-half_l, half_w]])
        points = _rounded_polygon(corners, radius * 0.999)
    elif kind == "ellipse":
        aspect = min(aspect, 6)
        t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
        points = np.c_[aspect * np.cos(t), np.sin(t)]
    elif kind == "bipyramid":
        tip = rng.uniform(0.15, 0.4) * half_l
        points = np.array([[-half_l, 0], [-half_l + tip, -half_w], [half_l - tip, -half_w], [half_l, 0],
                           [half_l - tip, half_w], [-half_l + tip, half_w]])
    else:  # a gently bent wire: a thick arc
        aspect = max(aspect, 4)
        bend = rng.uniform(0.1, 0.6)
        s = np.linspace(-1, 1, 40)
        centre = np.c_[s * aspect, bend * aspect * 0.25 * (s**2 - 1)]
        tangent = np.gradient(centre, axis=0)
        normal = np.c_[-tangent[:, 1], tangent[:, 0]] / np.linalg.norm(tangent, axis=1)[:, None]
        points = np.vstack([centre + normal, centre[::-1] - normal[::-1]])
    return _finish(rng, points, size)


def square_shape(rng: np.random.Generator, size: float) -> np.ndarray:
    aspect = min(1 + abs(rng.normal(0, 0.12)), 1.4) if rng.random() < 0.8 else rng.uniform(1.0, 1.4)
    corners = np.array([[-aspect, -1], [aspect, -1], [aspect, 1], [-aspect, 1]], dtype=float)
    if rng.random() < 0.15:  # slightly concave sides (etched cubes)
        mids = (corners + np.roll(corners, -1, axis=0)) / 2 * rng.uniform(0.9, 0.97)
        corners = np.stack([corners, mids], axis=1).reshape(-1, 2)
        radius = 0.0
    else:
        radius = rng.choice([0.0, rng.uniform(0, 0.2), rng.uniform(0.2, 0.5)], p=[0.3, 0.4, 0.3])
    corners = _distort(rng, corners, 0.1)
    if len(corners) == 4 and rng.random() < 0.2:  # a cube seen a little tilted: top face plus a side strip
        import cv2

        angle = rng.uniform(0, 2 * np.pi)
        shifted = corners + rng.uniform(0.1, 0.45) * np.array([np.cos(angle), np.sin(angle)])
        corners = cv2.convexHull(np.vstack([corners, shifted]).astype(np.float32))[:, 0, :].astype(float)
    return _finish(rng, _rounded_polygon(corners, radius) if radius else corners, size)


def _distort(rng: np.random.Generator, points: np.ndarray, amount: float) -> np.ndarray:
    """A mild random affine distortion (tilt, shear, stretch) and a little perspective."""
    points = points @ (np.eye(2) + rng.uniform(-amount, amount, (2, 2)))
    g = rng.uniform(-amount, amount, 2) * 0.5 / max(float(np.abs(points).max()), 1e-9)
    return points / (1 + points @ g)[:, None]


def triangle_shape(rng: np.random.Generator, size: float) -> np.ndarray:
    angles = np.pi / 2 + np.arange(3) * 2 * np.pi / 3 + rng.uniform(-0.2, 0.2, 3)
    corners = np.c_[np.cos(angles), np.sin(angles)] * rng.uniform(0.85, 1.15, (3, 1))
    corners = _distort(rng, corners, 0.12)
    truncation = rng.choice([0.0, rng.uniform(0.02, 0.16)], p=[0.4, 0.6])
    if truncation > 0:  # cut each corner: a hexagon with three short sides
        cut = []
        for i in range(3):
            p, a, b = corners[i], corners[i - 1], corners[(i + 1) % 3]
            cut += [p + (a - p) * truncation, p + (b - p) * truncation]
        corners = np.array(cut)
    radius = rng.choice([0.0, rng.uniform(0.02, 0.2), rng.uniform(0.2, 0.32)], p=[0.35, 0.4, 0.25])
    points = _rounded_polygon(corners, radius, per_corner=12)
    if rng.random() < 0.3:  # slightly bulging sides
        points = _bulge(points, rng.uniform(0.03, 0.15))
    return _finish(rng, points, size)


def _bulge(points: np.ndarray, power: float) -> np.ndarray:
    """Push the points of an outline outwards the more the nearer they are to its centre."""
    dense = np.vstack([np.linspace(p, q, 6, endpoint=False) for p, q in zip(points, np.roll(points, -1, axis=0))])
    centre = dense.mean(0)
    offset = dense - centre
    distance = np.linalg.norm(offset, axis=1)
    return centre + offset * (distance.max() / np.maximum(distance, 1e-9)[:, None]) ** power


def hexagon_shape(rng: np.random.Generator, size: float) -> np.ndarray:
    kind = rng.choice(["hexagon", "octagon", "pentagon", "truncated"], p=[0.55, 0.15, 0.15, 0.15])
    if kind == "truncated":  # a triangle with corners cut by a third: an irregular hexagon
        tri = _regular(3, np.pi / 2)
        f = rng.uniform(0.28, 0.36)
        corners = np.array([p + (q - p) * f for i, p in enumerate(tri) for q in (tri[i - 1], tri[(i + 1) % 3])])
    else:
        corners = _regular({"hexagon": 6, "octagon": 8, "pentagon": 5}[kind], rng.uniform(0, np.pi))
        corners = corners * np.array([rng.uniform(1.0, 1.6) if rng.random() < 0.4 else 1.0, 1.0])
        corners *= 1 + rng.uniform(-0.04, 0.04, (len(corners), 1))
    corners = _distort(rng, corners, 0.08)
    radius = rng.choice([0.0, rng.uniform(0.02, 0.12), rng.uniform(0.12, 0.3), rng.uniform(0.3, 0.45)],
                        p=[0.2, 0.25, 0.3, 0.25])
    return _finish(rng, _rounded_polygon(corners, radius), size)


def irregular_shape(rng: np.random.Generator, size: float) -> np.ndarray:
    """Lumpy blobs, rough fragments, agglomerates (the outline of a union of discs), teardrops,
    two fused particles and asymmetric lumps.

    Outlines that come out nearly convex (solidity >= 0.9) are drawn again unless their kind is
    irregular by construction (bumps, a point, a waist, uneven sides): they would look round.
    """
    for _ in range(20):
        points, accept = _irregular_outline(rng)
        if (accept or solidity(points) < 0.9) and _aspect(points) < 2.2:  # thin ones would look elongated
            break
    return _finish(rng, points, size)


def _aspect(points: np.ndarray) -> float:
    """Ratio of the principal extents of a point cloud."""
    centred = points - points.mean(0)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    extents = np.ptp(centred @ vectors, axis=0)
    return float(extents.max() / max(extents.min(), 1e-9))


def solidity(points: np.ndarray) -> float:
    """Polygon area over its convex hull's area."""
    import cv2

    pts = points.astype(np.float32)
    hull = cv2.convexHull(pts)
    return float(abs(cv2.contourArea(pts)) / max(cv2.contourArea(hull), 1e-12))


def _irregular_outline(rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    kind = rng.choice(["blob", "fragment", "agglomerate", "bumpy", "teardrop", "peanut", "lump"],
                      p=[0.17, 0.13, 0.2, 0.15, 0.1, 0.12, 0.13])
    t = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    if kind == "bumpy":  # flower- or raspberry-like: a roundish body with many clear bumps
        bumps = int(rng.integers(5, 13))
        radius = 1 + rng.uniform(0.12, 0.25) * np.abs(np.sin(bumps * t / 2 + rng.uniform(0, np.pi))) ** rng.uniform(0.5, 2)
        radius = radius * _wobble(rng, t, rng.uniform(0, 0.08), (2, 4))
        return np.c_[np.cos(t), np.sin(t)] * radius[:, None], True
    if kind == "teardrop":  # a drop with one pointed or narrow end
        power = rng.uniform(0.8, 2.0)
        points = np.c_[np.cos(t), np.sin(t) * np.abs(np.sin(t / 2)) ** power * rng.uniform(0.7, 1.2)]
        radius = _wobble(rng, t, rng.uniform(0, 0.04), (2, 5))
        return points * radius[:, None], True
    if kind == "peanut":  # two fused or overlapping particles of similar size: a waist
        return _peanut(rng), True
    if kind == "lump":  # a convex lump with 3-5 uneven, rounded corners and bulging sides
        return _lump(rng), True
    if kind == "blob":
        radius = _wobble(rng, t, rng.uniform(0.15, 0.35), (2, 5)) * _wobble(rng, t, rng.uniform(0.0, 0.06), (6, 14))
        points = np.c_[np.cos(t), np.sin(t)] * radius[:, None] * np.array([rng.uniform(1, 1.6), 1])
    elif kind == "fragment":  # random polygon with jagged edges
        n = rng.integers(5, 10)
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        corners = np.c_[np.cos(angles), np.sin(angles)] * rng.uniform(0.45, 1.0, (n, 1))
        edges = [corners[i] + (corners[(i + 1) % n] - corners[i]) * s for i in range(n) for s in np.linspace(0, 1, 6)[:-1]]
        points = np.array(edges) + rng.normal(0, 0.04, (len(edges), 2))
    else:
        points = agglomerate_outline(rng)
    return points, False


def _peanut(rng: np.random.Generator) -> np.ndarray:
    """Outline of two overlapping discs (radii ratio 0.6-1) with a visible waist."""
    import cv2

    r2 = rng.uniform(0.6, 1.0)
    distance = (1 + r2) * rng.uniform(0.5, 0.85)
    scale = 60.0
    width = int((distance + 1 + r2) * scale) + 8
    canvas = np.zeros((int(2 * scale) + 8, width), np.uint8)
    cy = int(scale) + 4
    cv2.circle(canvas, (int(scale) + 4, cy), int(scale), 255, -1)
    cv2.circle(canvas, (int((1 + distance) * scale) + 4, cy), int(r2 * scale), 255, -1)
    if rng.random() < 0.5:  # fused: the waist partly filled in
        canvas = cv2.morphologyEx(canvas, cv2.MORPH_CLOSE, cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (int(scale * rng.uniform(0.1, 0.35)) * 2 + 1,) * 2))
    contours, _ = cv2.findContours(canvas, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea)[:, 0, :].astype(float)
    return outline[:: max(len(outline) // 200, 1)] / scale


def _lump(rng: np.random.Generator) -> np.ndarray:
    """A convex, clearly asymmetric outline: 4 corners at uneven angles and distances, rounded."""
    for _ in range(50):
        n = 4
        gaps = rng.dirichlet(np.full(n, 2.5)) * 2 * np.pi
        if gaps.min() < 0.5:
            continue
        angles = np.cumsum(gaps)
        corners = np.c_[np.cos(angles), np.sin(angles)] * rng.uniform(0.6, 1.0, (n, 1))
        sides = np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)
        if sides.max() / sides.min() > 1.5 and solidity(corners) > 0.98:
            break
    points = _rounded_polygon(corners, rng.uniform(0.15, 0.4), per_corner=12)
    return _bulge(points, rng.uniform(0.15, 0.4))  # bulging sides: fused, deformed particles


def agglomerate_outline(rng: np.random.Generator) -> np.ndarray:
    """Outline of 2-7 overlapping discs (largest contour of their union), unit scale."""
    import cv2

    n = int(rng.integers(2, 8))
    centres, radii = [np.zeros(2)], [1.0]
    for _ in range(n - 1):
        parent = rng.integers(len(centres))
        r = rng.uniform(0.5, 1.0)
        direction = rng.uniform(0, 2 * np.pi)
        distance = (radii[parent] + r) * rng.uniform(0.6, 0.95)
        centres.append(centres[parent] + distance * np.array([np.cos(direction), np.sin(direction)]))
        radii.append(r)
    centres_a, radii_a = np.array(centres), np.array(radii)
    low = (centres_a - radii_a[:, None]).min(0)
    scale = 40.0
    canvas = np.zeros((int(((centres_a + radii_a[:, None]).max(0) - low).max() * scale) + 4,) * 2, np.uint8)
    for c, r in zip(centres_a, radii_a):
        cx, cy = ((c - low) * scale + 2).astype(int)
        cv2.circle(canvas, (int(cx), int(cy)), int(r * scale), 255, -1)
    contours, _ = cv2.findContours(canvas, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea)[:, 0, :].astype(float)
    return outline[:: max(len(outline) // 200, 1)] / scale


SHAPE_FUNCTIONS = {
    "round": round_shape,
    "elongated": elongated_shape,
    "square": square_shape,
    "triangle": triangle_shape,
    "hexagon": hexagon_shape,
    "irregular": irregular_shape,
}
