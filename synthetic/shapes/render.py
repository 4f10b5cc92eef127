"""Synthetic SEM/TEM-like scenes around one particle of a known shape class (seeded).

:func:`render_scene` draws the particle in the middle of a small canvas with 0-4 neighbours
(partly cut by the crop border, sometimes touching it) or, in a fifth of the scenes, a
close-packed ring of 4-7 similar neighbours, then gives it a TEM-like look (dark, flat or
thickness-shaded, optional Fresnel halo) or an SEM-like one (bright, lit from one side, bright
edges), crystal facets lit differently (faceted classes), growth rings, internal texture, an
uneven textured background, blur and noise, and either polarity. Sometimes the particle is cut
by the image border or a burned-in data bar. :func:`make_dataset` turns scenes into classifier
crops with the engine's own :func:`particle_gui.core.analysis.shape_crops.particle_crops`, so training
and inference match.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi

from particle_gui.core.analysis.shape_crops import CROP_FILL, CROP_SIZE, particle_crops
from synthetic.shapes.shapes import CLASSES, SHAPE_FUNCTIONS

_SHIFT = 4  # fillPoly fixed-point bits (1/16 px)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    noise = ndi.gaussian_filter(rng.normal(size=shape), sigma)
    return noise / (noise.std() + 1e-9)


def _coverage(points: np.ndarray, centre: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    pts = np.round((points + centre) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(canvas, [pts], 255, lineType=cv2.LINE_AA, shift=_SHIFT)
    return canvas.astype(np.float32) / 255


def _facet_shading(rng: np.random.Generator, outline: np.ndarray, binary: np.ndarray) -> np.ndarray:
    """Relative brightness of a faceted crystal: sectors from an apex to the outline's vertices
    (a pyramid, or a prism's side faces around a flat top face), each lit differently."""
    factor = np.ones(binary.shape, np.float32)
    ys, xs = np.nonzero(binary)
    if len(ys) == 0:
        return factor
    extent = float(np.max(np.ptp(outline, axis=0)))
    apex = outline.mean(0) + rng.uniform(-0.15, 0.15, 2) * extent
    corner_angles = np.sort(np.arctan2(outline[:, 1] - apex[1], outline[:, 0] - apex[0]))
    ends = np.r_[corner_angles, corner_angles[0] + 2 * np.pi]
    mids = (ends[:-1] + ends[1:]) / 2
    angles = np.arctan2(ys - apex[1], xs - apex[0])
    sector = (np.searchsorted(corner_angles, angles) - 1) % len(corner_angles)
    light = rng.uniform(0, 2 * np.pi)
    amplitude = rng.uniform(0.08, 0.35)
    shade = 1 + amplitude * (np.cos(mids - light) + rng.normal(0, 0.3, len(mids)))
    values = shade[sector]
    top = rng.choice([0.0, rng.uniform(0.25, 0.8)], p=[0.35, 0.65])
    if top > 0:  # a flat top face: the outline shrunk towards the apex
        inner = _coverage(apex + (outline - apex) * top, np.zeros(2), binary.shape) > 0.5
        values = np.where(inner[ys, xs], 1 + amplitude * rng.uniform(-0.5, 0.8), values)
    factor[ys, xs] = values
    return factor


def _particle_values(rng: np.random.Generator, cover: np.ndarray, style: str, contrast: float,
                     outline: np.ndarray | None = None, label: str = "round") -> np.ndarray:
    """Intensity of one particle relative to the background (before blending)."""
    binary = cover > 0.5
    dt = cv2.distanceTransform(binary.astype(np.uint8), cv2.DIST_L2, 3)
    inradius = max(float(dt.max()), 1.0)
    depth = dt / inradius
    dome = np.sqrt(np.clip(depth * rng.uniform(1.0, 4.0), 0, 1))
    flat = rng.uniform(0.0, 1.0)
    thickness = flat + (1 - flat) * dome
    if style == "tem":
        values = -contrast * (0.5 + 0.5 * thickness)
    else:
        yy, xx = np.mgrid[: cover.shape[0], : cover.shape[1]]
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xx + np.sin(angle) * yy
        ys, xs = np.nonzero(binary) if binary.any() else (yy.ravel(), xx.ravel())
        ramp = (ramp - ramp[ys, xs].mean()) / inradius
        lit = 1 + rng.uniform(0, 0.35) * ramp
        edge = rng.uniform(0, 1.0) * np.exp(-dt / (rng.uniform(0.03, 0.2) * inradius + 0.7))
        values = contrast * (0.55 + 0.45 * thickness) * lit + contrast * edge
    facet_chance = {"square": 0.35, "triangle": 0.35, "hexagon": 0.4, "elongated": 0.15, "irregular": 0.1}
    if outline is not None and rng.random() < facet_chance.get(label, 0.0):
        values = values * _facet_shading(rng, outline, binary)
    if rng.random() < 0.08:  # growth rings or a core-shell look: contours that follow the outline
        period = rng.uniform(0.15, 0.5) * inradius
        values = values * (1 + rng.uniform(0.1, 0.3) * np.cos(2 * np.pi * dt / period + rng.uniform(0, 2 * np.pi)))
    texture = rng.uniform(0, 0.25) if rng.random() < 0.5 else 0.0
    if texture:
        values = values * (1 + texture * _smooth_noise(rng, cover.shape, rng.uniform(0.7, 3.0)))
    return values.astype(np.float32)


def render_scene(rng: np.random.Generator, label: str, *, size_px: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One scene: grey image (float32) and labels (int32; the particle of class ``label`` is 1).

    Parameters
    ----------
    rng : numpy.random.Generator
    label : str
        One of :data:`CLASSES`.
    size_px : float, optional
        Longest extent of the particle; by default log-uniform in [14, 120] px.
    """
    size = float(size_px if size_px is not None else np.exp(rng.uniform(np.log(14), np.log(120))))
    side = int(np.ceil(size / CROP_FILL * 1.3)) + 8
    shape = (side, side)
    centre = np.array([side / 2, side / 2]) + rng.uniform(-2, 2, 2)
    main = SHAPE_FUNCTIONS[label](rng, size)
    particles = []  # (coverage, label id, outline, class), in drawing order: later ones hide earlier ones

    def neighbour(other: str, other_size: float, offset: np.ndarray) -> None:
        points = SHAPE_FUNCTIONS[other](rng, other_size) + centre + offset
        particles.append((_coverage(points, np.zeros(2), shape), len(particles) + 2, points, other))

    same = rng.random() < 0.35
    if rng.random() < 0.2:  # close-packed: a ring of similar, nearly touching particles of the same class
        count = int(rng.integers(4, 8))
        start = rng.uniform(0, 2 * np.pi)
        for k in range(count):
            other_size = size * float(np.exp(rng.normal(0, 0.08)))
            direction = start + 2 * np.pi * k / count + rng.normal(0, 0.1)
            distance = (size + other_size) / 2 * rng.uniform(0.95, 1.12)
            neighbour(label, other_size, distance * np.array([np.cos(direction), np.sin(direction)]))
    else:
        for _ in range(rng.poisson(1.3)):
            other = label if same else CLASSES[rng.integers(len(CLASSES))]
            other_size = size * float(np.exp(rng.normal(0, 0.3 if same else 0.5)))
            direction = rng.uniform(0, 2 * np.pi)
            distance = (size + other_size) / 2 * rng.uniform(0.9, 1.6)
            neighbour(other, other_size, distance * np.array([np.cos(direction), np.sin(direction)]))
    particles.append((_coverage(main, centre, shape), 1, main + centre, label))
    if rng.random() < 0.2:  # a neighbour lying on top hides part of the particle (its class stays)
        other = label if same else CLASSES[rng.integers(len(CLASSES))]
        other_size = size * rng.uniform(0.5, 1.1)
        direction = rng.uniform(0, 2 * np.pi)
        distance = (size + other_size) / 2 * rng.uniform(0.65, 0.9)
        neighbour(other, other_size, distance * np.array([np.cos(direction), np.sin(direction)]))

    style = "tem" if rng.random() < 0.5 else "sem"
    background = 0.6 if style == "tem" else 0.2
    contrast = rng.uniform(0.15, 0.6)
    yy, xx = np.mgrid[:side, :side] / side
    image = background + rng.normal(0, 0.05) * (xx - 0.5) + rng.normal(0, 0.05) * (yy - 0.5)
    image = image + rng.uniform(0, 0.06) * _smooth_noise(rng, shape, rng.uniform(1, 8))
    labels = np.zeros(shape, np.int32)
    for cover, label_id, points, kind in particles:
        values = _particle_values(rng, cover, style, contrast, points, kind)
        if style == "tem" and rng.random() < 0.2:  # Fresnel fringe: a thin bright halo outside
            ring = ndi.gaussian_filter(cv2.dilate(cover, np.ones((3, 3), np.uint8)) - cover, 0.7)
            image = image + rng.uniform(0.05, 0.2) * ring
        image = image * (1 - cover) + (background + values) * cover
        labels[cover > 0.5] = label_id
    if rng.random() < 0.5:  # annotated by hand: a polygon through points near the outline
        drawn = _coverage(_annotation(rng, main, size), centre, shape) > 0.5
        labels[labels == 1] = 0
        labels[drawn & (labels == 0)] = 1
    labels = _perturb_mask(rng, labels, size)

    blur = rng.uniform(0, 1.5) + (rng.uniform(0, 0.03) * size if rng.random() < 0.3 else 0)
    image = ndi.gaussian_filter(image, blur) if blur > 0.2 else image
    noise = contrast * rng.choice([rng.uniform(0.01, 0.08), rng.uniform(0.08, 0.35)], p=[0.7, 0.3])
    image = image + noise * rng.normal(size=shape)
    if rng.random() < 0.3:
        image = ndi.gaussian_filter(image, 0.6)  # correlated noise
    if rng.random() < 0.25:
        image = 1 - image
    image, labels = _cut(rng, image, labels)
    return image.astype(np.float32), labels


def _cut(rng: np.random.Generator, image: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sometimes cut off up to a third of the particle: by the image border (the crop is then
    edge-padded) or by a burned-in data bar or label box (no mask under it). The class stays."""
    r = rng.random()
    if r >= 0.1:
        return image, labels
    rows, cols = np.nonzero(labels == 1)
    if len(rows) == 0:
        return image, labels
    side = int(rng.integers(4))
    flip = side >= 2  # cut from the far end
    coords = (rows, cols)[side % 2]
    low, high = int(coords.min()), int(coords.max()) + 1
    cut = round((high - low) * rng.uniform(0.05, 0.35))
    if cut < 1:
        return image, labels
    at = high - cut if flip else low + cut
    index = [slice(None), slice(None)]
    index[side % 2] = slice(at, None) if flip else slice(None, at)
    if r < 0.06:  # the image ends here
        keep = [slice(None), slice(None)]
        keep[side % 2] = slice(None, at) if flip else slice(at, None)
        return image[tuple(keep)], labels[tuple(keep)]
    image, labels = image.copy(), labels.copy()
    image[tuple(index)] = rng.choice([image.min(), image.max()]) + rng.normal(0, 0.02)
    labels[tuple(index)] = 0
    return image, labels


def _annotation(rng: np.random.Generator, points: np.ndarray, size: float) -> np.ndarray:
    """A hand-drawn-like polygon of an outline: 10-40 unevenly spaced, slightly misplaced vertices."""
    closed = np.vstack([points, points[:1]])
    cumulative = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))]
    smooth = rng.random() < 0.3  # drawn with a smooth stroke: corners come out rounder than they are
    count = int(rng.integers(60, 100)) if smooth else int(rng.integers(10, 41))
    spacing = cumulative[-1] / count
    at = np.sort(((np.arange(count) + rng.uniform(0, 1)) * spacing + rng.normal(0, 0.25 * spacing, count)) % cumulative[-1])
    vertices = np.c_[np.interp(at, cumulative, closed[:, 0]), np.interp(at, cumulative, closed[:, 1])]
    if smooth:
        width = int(rng.integers(3, 9))
        kernel = np.ones(width) / width
        padded = np.vstack([vertices[-width:], vertices, vertices[:width]])
        vertices = np.c_[np.convolve(padded[:, 0], kernel, "same"), np.convolve(padded[:, 1], kernel, "same")][width:-width]
    return vertices + rng.normal(0, size * rng.uniform(0, 0.012), vertices.shape)


def _perturb_mask(rng: np.random.Generator, labels: np.ndarray, size: float) -> np.ndarray:
    """Annotations and thresholds are never exact: grow or shrink the particle's mask a little."""
    mask = labels == 1
    r = rng.random()
    steps = 1 if size < 40 else int(rng.integers(1, 3))
    if r < 0.15:
        grown = ndi.binary_dilation(mask, iterations=steps) & (labels == 0)
        labels = labels.copy()
        labels[grown] = 1
    elif r < 0.3 and mask.sum() > 60:
        shrunk = mask & ~ndi.binary_erosion(mask, iterations=steps)
        labels = labels.copy()
        labels[shrunk] = 0
    return labels


def make_dataset(count: int, *, seed: int, size: int = CROP_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``count`` crops (float16, (count, size, size, 2)) and class indices, classes in turn."""
    rng = np.random.default_rng(seed)
    crops = np.zeros((count, size, size, 2), np.float16)
    targets = np.arange(count) % len(CLASSES)
    for i, target in enumerate(targets):
        image, labels = render_scene(rng, CLASSES[target])
        crops[i] = particle_crops(image, labels, np.array([1]), size=size)[1][0]
    return crops, targets.astype(np.int64)
