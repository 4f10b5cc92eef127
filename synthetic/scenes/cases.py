"""Named hard cases with exact truth, for the accuracy benchmark (never used in training).

Each case is a recipe; :func:`case_images` draws its images with seeds derived from the case's
name and an offset of 10**9, a stream :func:`training.scenes` never touches (it draws from
seeds below 10**9). Cases:

``clusters``
    Aggregates of 20-100 touching spheres, cubes or rods (one kind per image), SEM or TEM.
``close_packed``
    Rafts of nearly equal spheres, as self-assembled nanoparticles lie, TEM or SEM.
``support``
    Small bright particles (6-20 px) on a bright, textured support (HAADF-STEM).
``bimodal``
    Two populations whose diameters differ five times, scattered or packed.
``sizes``
    One image per typical size from 6 to 200 px (log steps), SEM or TEM.
``degraded``
    Packed particles under strong noise, blur and uneven background.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np

from synthetic.scenes import image_of, layout

#: Seeds at and above this are for benchmarks only; training draws below it.
BENCHMARK_SEED_OFFSET = 10**9

CASES: tuple[str, ...] = ("clusters", "close_packed", "support", "bimodal", "sizes", "degraded")
SIZES_PX: tuple[float, ...] = (6.0, 9.0, 14.0, 22.0, 34.0, 52.0, 80.0, 125.0, 200.0)


def _rng(case: str, index: int) -> np.random.Generator:
    return np.random.default_rng(BENCHMARK_SEED_OFFSET + zlib.crc32(case.encode()) % 10**6 * 1000 + index)


def _clusters(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    kind = ("sphere", "cube", "rod")[int(rng.integers(3))]
    d = float(rng.uniform(14, 34)) if kind != "rod" else float(rng.uniform(16, 30))
    grid = layout._Grid(d)
    particles = []
    for _ in range(int(rng.integers(1, 4))):
        centre = (rng.uniform(0.3, 0.7) * h, rng.uniform(0.2, 0.8) * w)
        particles += layout.aggregate(rng, centre, int(rng.integers(20, 101)), layout.lognormal_sizes(d, 0.12),
                                      layout.one_shape(kind), grid=grid, compact=rng.uniform(0.3, 0.9))
    return image_of(particles, shape, rng, mode=str(rng.choice(["sem", "tem"])), strength=0.6, text=False)


def _close_packed(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    d = float(rng.uniform(12, 30))
    particles = layout.close_packed(rng, (h / 2, w / 2), int(h / d * 0.8), int(w / d * 0.8), d,
                                    layout.one_shape("sphere"), spread=0.05, contact=0.97, vacancy=0.08)
    return image_of(particles, shape, rng, mode=str(rng.choice(["sem", "tem"])), strength=0.6, text=False)


def _support(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    particles = layout.scatter(rng, shape, int(h * w / 2500), layout.loguniform_sizes(6, 20),
                               layout.shape_mix(("sphere", "irregular", "hexagon")), gap=3.0)
    return image_of(particles, shape, rng, mode="haadf", strength=0.6, support=True, text=False)


def _bimodal(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    small = float(rng.uniform(9, 16))
    sizes = layout.bimodal_sizes(small, 5.0, 0.8, sigma=0.08)
    if rng.random() < 0.5:
        particles = layout.scatter(rng, shape, 400, sizes, layout.one_shape("sphere"), gap=2.0)
    else:
        particles = layout.packed(rng, shape, 0.5, sizes, layout.one_shape("sphere"), contact=(0.85, 1.05))
    return image_of(particles, shape, rng, mode=str(rng.choice(["sem", "tem"])), strength=0.6, text=False)


def _sized(rng: np.random.Generator, shape: tuple[int, int], d: float) -> tuple[np.ndarray, np.ndarray]:
    sizes = layout.lognormal_sizes(d, 0.15, low=4.0)
    shapes = layout.shape_mix(("sphere", "cube", "irregular"), (0.6, 0.2, 0.2))
    if rng.random() < 0.5:
        particles = layout.scatter(rng, shape, int(0.3 * shape[0] * shape[1] / (np.pi * d * d / 4)) + 1, sizes, shapes,
                                   gap=max(2.0, 0.15 * d))
    else:
        particles = layout.packed(rng, shape, 0.45, sizes, shapes, contact=(0.85, 1.0))
    return image_of(particles, shape, rng, mode=str(rng.choice(["sem", "tem"])), strength=0.5, text=False)


def _degraded(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    particles = layout.packed(rng, shape, 0.45, layout.lognormal_sizes(float(rng.uniform(16, 40)), 0.3),
                              layout.shape_mix(("sphere", "ellipse", "irregular")), contact=(0.85, 1.05))
    return image_of(particles, shape, rng, mode=str(rng.choice(["sem", "tem"])), strength=1.6, text=False)


def case_count(case: str) -> int:
    """Number of images of ``case``."""
    if case not in CASES:
        raise ValueError(f"Unknown case {case!r}; choose one of {', '.join(CASES)}.")
    return len(SIZES_PX) if case == "sizes" else 6


def case_image(case: str, index: int) -> tuple[str, np.ndarray, np.ndarray]:
    """(name, grey, truth) of image ``index`` of ``case``."""
    case_count(case)
    rng = _rng(case, index)
    if case == "sizes":
        d = SIZES_PX[index]
        side = int(np.clip(d * 7, 384, 1024))
        return f"sizes_{d:g}px", *_sized(rng, (side, side), d)
    recipe = {"clusters": _clusters, "close_packed": _close_packed, "support": _support, "bimodal": _bimodal,
              "degraded": _degraded}[case]
    shape = (512, 640) if case != "bimodal" else (640, 768)
    return f"{case}_{index}", *recipe(rng, shape)


def case_images(case: str, count: int | None = None) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, grey, truth) for the first ``count`` images of ``case`` (default: all)."""
    for index in range(min(count or case_count(case), case_count(case))):
        yield case_image(case, index)
