"""Statistics and measurement figures with known answers (issue 20's list), each beside its target.

1. D50 interval coverage and false "larger" verdicts when images vary (sigma_ln 0.05 and 0.10
   between image medians, 10 images x 100 particles per sample).
2. Lilliefors test of a log-normal fit: rejections of true log-normals at the 5 % level (size)
   and of normals (power), n = 300.
3. Size families: a second family reported for single-mode normal (CV 15 %) and gamma (k = 4)
   samples, n = 1000.
4. Edge correction: D50 of particles seen whole in a 1024 x 768 frame, naive and weighted
   (Miles-Lantuejoul), median particle 100 px, sigma_ln 0.5.
5. Areas of blurred flat discs (5, 10, 20 px; PSF sigma 1 px, noise 0.03) through the default pipeline
   with sizes at half maximum, and the outline's.
6. Circularity of a square turned 0-90 degrees (40 and 80 px).

Usage::

    python -m benchmarks.bench_statistics [--reps 200] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from particle_gui.core.analysis.measure import measure_particles
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.statistics.distributions import miles_lantuejoul_weights, weighted_quantile
from particle_gui.core.statistics.fit_tests import lilliefors
from particle_gui.core.statistics.image_level import compare_images, image_level
from particle_gui.core.statistics.stats import size_families
from synthetic.known_shapes import disc_grid, turned_square


def _sample(rng, tau: float, images: int = 10, per_image: int = 100, median: float = 20.0, sigma: float = 0.5):
    return [rng.lognormal(np.log(median) + rng.normal(0, tau), sigma, per_image) for _ in range(images)]


def bench_image_level(reps: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for tau in (0.05, 0.10):
        covered = larger = 0
        for _ in range(reps):
            first, second = image_level(_sample(rng, tau)), image_level(_sample(rng, tau))
            low, high = first.d50_ci95
            covered += low <= 20.0 <= high
            larger += compare_images(first, second) < 0.05
        out[f"tau_{tau}"] = {"d50_coverage": covered / reps, "false_larger": larger / reps}
    return {"targets": "coverage >= 0.93, false 'larger' <= 0.06", **out}


def bench_lilliefors(reps: int, seed: int = 2) -> dict:
    rng = np.random.default_rng(seed)
    size = np.mean([lilliefors(np.log(rng.lognormal(3.0, 0.4, 300)), seed=i)[1] < 0.05 for i in range(reps)])
    power = np.mean([lilliefors(np.log(np.abs(rng.normal(20, 6, 300)) + 0.1), seed=i)[1] < 0.05
                     for i in range(reps)])
    return {"target": "size 0.04-0.06", "size_lognormal": float(size), "power_vs_normal": float(power)}


def bench_families(reps: int, seed: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    normal = np.mean([len(size_families(np.abs(rng.normal(50, 7.5, 1000)) + 0.1, seed=i)) > 1 for i in range(reps)])
    gamma = np.mean([len(size_families(rng.gamma(4.0, 5.0, 1000) + 0.1, seed=i)) > 1 for i in range(reps)])
    return {"target": "<= 0.05", "false_families_normal": float(normal), "false_families_gamma": float(gamma)}


def bench_edge_correction(reps: int, seed: int = 4, frame: tuple[int, int] = (768, 1024)) -> dict:
    rng = np.random.default_rng(seed)
    naive, corrected = [], []
    height, width = frame
    for _ in range(reps):
        # Centres uniform over the frame and a margin as wide as the largest particle: the same
        # density of particles of every size, as on the specimen.
        d = rng.lognormal(np.log(100), 0.5, 800)
        margin = d.max() / 2
        cx, cy = rng.uniform(-margin, width + margin, d.size), rng.uniform(-margin, height + margin, d.size)
        whole = (cx - d / 2 >= 0) & (cx + d / 2 <= width) & (cy - d / 2 >= 0) & (cy + d / 2 <= height)
        seen = d[whole]
        naive.append(np.median(seen) / 100 - 1)
        weights = miles_lantuejoul_weights(seen, seen, (float(height), float(width)))
        corrected.append(float(weighted_quantile(seen, weights, 0.5)) / 100 - 1)
    return {"target": "corrected within +-0.02", "naive_d50_error": float(np.mean(naive)),
            "corrected_d50_error": float(np.mean(corrected))}


def _loaded(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


def bench_small_areas(seed: int = 5) -> dict:
    rng = np.random.default_rng(seed)
    out = {"target": "10 px within 0.05, 5 px within 0.15"}
    for diameter in (5, 10, 20):
        params = PipelineParams.from_dict({"edge": {"half_maximum_sizes": True}})
        particles = Pipeline(_loaded(disc_grid(diameter, rng))).run(params).particles
        true = np.pi * diameter**2 / 4
        out[f"{diameter}px"] = {"found": int(len(particles)), "area_error": float(particles["area"].mean() / true - 1),
                                "outline_area_error": float(particles["mask_area"].mean() / true - 1)}
    return out


def bench_square_circularity() -> dict:
    out = {"target": "within 0.02 of pi/4 at every angle"}
    for side in (40, 80):
        values = np.array([measure_particles(m, np.zeros(m.shape, np.float32))["circularity"].iloc[0]
                           for m in (turned_square(side, a) for a in np.arange(0, 90, 2.5))]) / (np.pi / 4) - 1
        out[f"{side}px"] = {"worst_relative_error": float(np.abs(values).max()), "range": [float(values.min()),
                                                                                        float(values.max())]}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="draws per statistical figure")
    parser.add_argument("--out", type=str)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = {
        "image_level": bench_image_level(args.reps),
        "lilliefors": bench_lilliefors(args.reps),
        "size_families": bench_families(max(20, args.reps // 5)),
        "edge_correction": bench_edge_correction(args.reps),
        "small_particle_areas": bench_small_areas(),
        "square_circularity": bench_square_circularity(),
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
