"""One-factor-at-a-time parameter sweep on the EMPS *training* split, for choosing defaults.

Usage: ``python -m benchmarks.sweep --every 2`` (scores every 2nd training image). Each line
changes one parameter from the defaults; pick defaults here, then confirm once on the
validation split with ``benchmarks.bench_accuracy``.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor


from evaluation import emps
from benchmarks.bench_accuracy import _score, aggregate
from particle_gui.core.io.loading import load_image
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline

VARIANTS: dict[str, dict[str, dict]] = {
    "defaults": {},
    "gauss1": {"preprocess": {"gaussian_sigma_px": 1.0}},
    "gauss3": {"preprocess": {"gaussian_sigma_px": 3.0}},
    "median5": {"preprocess": {"denoise": "median", "median_size_px": 5}},
    "bilateral": {"preprocess": {"denoise": "bilateral"}},
    "li": {"threshold": {"method": "li"}},
    "open0": {"clean": {"opening_radius_px": 0}},
    "open2": {"clean": {"opening_radius_px": 2}},
    "minarea100": {"clean": {"min_area_px": 100.0}},
    "sf0.4": {"split": {"sure_foreground_fraction": 0.4}},
    "sf0.6": {"split": {"sure_foreground_fraction": 0.6}},
    "sf0.7": {"split": {"sure_foreground_fraction": 0.7}},
    "peaks5": {"split": {"mode": "distance_peaks", "min_distance_px": 5}},
    "peaks10": {"split": {"mode": "distance_peaks", "min_distance_px": 10}},
    "hmax2": {"split": {"mode": "h_maxima", "h_maxima_px": 2.0}},
    "nosplit": {"split": {"mode": "none"}},
}


def variant_params(changes: dict[str, dict]) -> PipelineParams:
    data = PipelineParams().to_dict()
    for group, values in changes.items():
        data[group].update(values)
    return PipelineParams.from_dict(data)


def _evaluate(job: tuple[str, list[str]]) -> list[tuple[str, dict]]:
    name, variant_json = job
    image = load_image(emps.DATA_DIR / "images" / f"{name}.png")
    _, truth = emps.load_pair(name)
    pipeline = Pipeline(image)
    rows = []
    for variant, params_json in variant_json:
        labels = pipeline.run(PipelineParams.from_json(params_json)).labels
        rows.append((variant, {"seconds": 0.0, **_score(truth, labels)}))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--only", help="comma-separated variant names")
    parser.add_argument("--variants", help="JSON file {name: {group: {field: value}}} replacing the built-in list")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    variants = json.load(open(args.variants)) if args.variants else VARIANTS
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only.split(",")}
    encoded = [(k, variant_params(v).to_json()) for k, v in variants.items()]
    train, _ = emps.load_split()
    names = train[:: args.every]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        per_image = list(pool.map(_evaluate, [(n, encoded) for n in names], chunksize=2))
    print(f"{'variant':<14}{'F1@0.5':>8}{'AP':>8}{'cnt err':>9}{'D50 err':>9}")
    for variant in variants:
        rows = [{variant: dict(r)[variant]} for r in per_image]
        agg = aggregate(rows, variant)
        print(f"{variant:<14}{agg['f1_at_0.5']:>8.3f}{agg['ap_50_95']:>8.3f}{agg['median_count_error']:>9.3f}{agg['median_d50_error']:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
