"""Synthetic electron-microscopy scenes with exact instance truth, for training and benchmarks.

- :func:`random_scene` draws one scene from a broad mixture (SEM, TEM, HAADF; scattered,
  packed, aggregated and close-packed particles; spheres to rods; one to two size populations;
  blur, noise and the rest): training data for the segmentation network.
- :mod:`synthetic.scenes.cases` holds the named hard cases the accuracy benchmark scores
  (clusters, supported particles, two populations, sizes from 6 to 200 px), drawn with seeds
  that training never uses.

Usage::

    from synthetic.scenes import random_scene
    grey, truth = random_scene(np.random.default_rng(0), (256, 256), median_px=24)
"""

from __future__ import annotations

import numpy as np

from synthetic.scenes import layout
from synthetic.scenes.outlines import SHAPES, Particle
from synthetic.scenes.render import compose, degrade, haadf, sem, tem

__all__ = ["SHAPES", "Particle", "image_of", "random_layout", "random_scene"]

_SHAPE_WEIGHTS = {"sphere": 0.36, "ellipse": 0.1, "cube": 0.14, "rod": 0.12, "triangle": 0.05, "hexagon": 0.06,
                  "irregular": 0.17}


def _shapes(rng: np.random.Generator) -> layout.ShapeSampler:
    names = tuple(_SHAPE_WEIGHTS)
    weights = tuple(_SHAPE_WEIGHTS.values())
    if rng.random() < 0.2:
        return layout.shape_mix(names, weights)
    first = names[int(rng.choice(len(names), p=np.asarray(weights) / sum(weights)))]
    if rng.random() < 0.25:
        return layout.shape_mix((first, "sphere"), (0.8, 0.2))
    return layout.one_shape(first)


def _sizes(rng: np.random.Generator, median_px: float) -> layout.SizeSampler:
    if rng.random() < 0.18:
        ratio = rng.uniform(2.0, 6.0)
        small = median_px / np.sqrt(ratio)
        return layout.bimodal_sizes(small, ratio, rng.uniform(0.3, 0.85), sigma=rng.uniform(0.05, 0.2))
    return layout.lognormal_sizes(median_px, rng.uniform(0.03, 0.5), low=3.0)


def random_layout(rng: np.random.Generator, shape_hw: tuple[int, int], median_px: float) -> list[Particle]:
    """Particles for one scene of a random arrangement (see the module text)."""
    h, w = shape_hw
    sizes, shapes = _sizes(rng, median_px), _shapes(rng)
    kind = rng.choice(["scatter", "packed", "aggregates", "close_packed"], p=[0.2, 0.35, 0.3, 0.15])
    if kind == "scatter":
        count = int(rng.uniform(0.05, 0.35) * h * w / (np.pi * median_px**2 / 4)) + 1
        return layout.scatter(rng, shape_hw, count, sizes, shapes, gap=rng.uniform(1.0, 0.6 * median_px))
    if kind == "packed":
        particles = layout.packed(rng, shape_hw, rng.uniform(0.3, 0.75), sizes, shapes,
                                  contact=(rng.uniform(0.72, 0.95), rng.uniform(0.95, 1.15)))
        if rng.random() < 0.25:
            particles = particles + layout.satellites(rng, particles, rng.uniform(0.1, 0.4), (0.08, 0.25))
        return particles
    if kind == "aggregates":
        grid = layout._Grid(median_px)
        particles: list[Particle] = []
        for _ in range(int(rng.integers(1, 6))):
            centre = (rng.uniform(0, h), rng.uniform(0, w))
            count = int(np.exp(rng.uniform(np.log(3), np.log(100))))
            particles += layout.aggregate(rng, centre, count, sizes, shapes, grid=grid,
                                          contact=(rng.uniform(0.75, 0.9), rng.uniform(0.9, 1.0)),
                                          compact=rng.uniform(0.0, 1.0))
        return particles
    d = median_px * np.exp(rng.normal(0, 0.1))
    rows, cols = int(h / d * rng.uniform(0.3, 1.2)) + 2, int(w / d * rng.uniform(0.3, 1.2)) + 2
    sphere_like = layout.shape_mix(("sphere", "hexagon", "cube"), (0.75, 0.15, 0.1))
    return layout.close_packed(rng, (h / 2, w / 2), rows, cols, d, sphere_like,
                               spread=rng.uniform(0.01, 0.08), contact=rng.uniform(0.9, 1.02),
                               vacancy=rng.uniform(0.0, 0.2))


def image_of(particles: list[Particle], shape_hw: tuple[int, int], rng: np.random.Generator, *, mode: str,
             strength: float = 1.0, support: bool = True, text: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Render ``particles`` as a ``mode`` (sem, tem, haadf) image; returns (grey [0, 1] float32, truth int32)."""
    comp = compose(particles, shape_hw, rng, brightness_spread=rng.uniform(0.0, 0.25 if mode == "tem" else 0.12))
    if mode == "sem":
        image = sem(comp, particles, rng)
    elif mode == "tem":
        image = tem(comp, particles, rng)
    else:
        image = haadf(comp, particles, rng, support=support)
    grey, truth = degrade(image, comp.labels, rng, strength=strength, text=text)
    return grey, _consecutive(truth)


def random_scene(rng: np.random.Generator, shape_hw: tuple[int, int], *, median_px: float) -> tuple[np.ndarray, np.ndarray]:
    """One random scene whose typical particle is ``median_px`` wide; (grey, truth)."""
    particles = random_layout(rng, shape_hw, median_px)
    mode = str(rng.choice(["sem", "tem", "haadf"], p=[0.45, 0.37, 0.18]))
    grey, truth = image_of(particles, shape_hw, rng, mode=mode, strength=rng.uniform(0.2, 1.4),
                           support=rng.random() < 0.6)
    if rng.random() < 0.15:
        grey = 1.0 - grey
    return grey, truth


def _consecutive(labels: np.ndarray) -> np.ndarray:
    ids = np.unique(labels)
    ids = ids[ids > 0]
    lookup = np.zeros(int(labels.max()) + 1, np.int32)
    lookup[ids] = np.arange(1, ids.size + 1, dtype=np.int32)
    return lookup[labels]
