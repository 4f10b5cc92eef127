"""Accuracy on the EMPS validation split: our default classical method beside the plain baseline.

Scoring follows ``shared/data/README.md``: one-to-one Hungarian matching on IoU, F1@0.5 and
AP(0.5:0.95) pooled over the split, and the per-image relative errors of the particle count and
of the median equivalent circular diameter (D50). Particles cut by the image border are removed
from the truth and from every method's result before scoring, because the defaults exclude
edge particles (a cut particle has no true size).

Usage::

    python -m benchmarks.bench_accuracy [--split validation] [--params FILE.json] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from evaluation import emps
from benchmarks.baseline import baseline_labels
from particle_gui.core.adapt.matching import MAP_THRESHOLDS, drop_edge_instances, match_instances
from particle_gui.core.io.loading import load_image
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline


def _score(truth: np.ndarray, predicted: np.ndarray) -> dict:
    truth = drop_edge_instances(truth)
    predicted = drop_edge_instances(predicted.astype(np.int32))
    match = match_instances(truth, predicted)
    true_d = _ecd(truth)
    pred_d = _ecd(predicted)
    d50_error = abs(np.median(pred_d) - np.median(true_d)) / np.median(true_d) if true_d.size and pred_d.size else np.nan
    if true_d.size and not pred_d.size:
        d50_error = 1.0
    return {
        "n_true": match.n_true,
        "n_pred": match.n_pred,
        "tp": [match.tp(t) for t in MAP_THRESHOLDS],
        "count_error": abs(match.n_pred - match.n_true) / match.n_true if match.n_true else np.nan,
        "d50_error": d50_error,
    }


def _ecd(labels: np.ndarray) -> np.ndarray:
    areas = np.bincount(labels.ravel())[1:]
    return np.sqrt(4 * areas[areas > 0] / np.pi)


def evaluate_image(job: tuple[str, str]) -> dict:
    name, params_json = job
    params = PipelineParams.from_json(params_json)
    image = load_image(emps.DATA_DIR / "images" / f"{name}.png")
    _, truth = emps.load_pair(name)
    started = time.perf_counter()
    ours = Pipeline(image).run(params).labels
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plain = baseline_labels(image.grey)
    baseline_seconds = time.perf_counter() - started
    return {
        "name": name,
        "particle_gui": {**_score(truth, ours), "seconds": ours_seconds},
        "baseline": {**_score(truth, plain), "seconds": baseline_seconds},
    }


def aggregate(rows: list[dict], method: str) -> dict:
    n_true = sum(r[method]["n_true"] for r in rows)
    n_pred = sum(r[method]["n_pred"] for r in rows)
    tp = np.sum([r[method]["tp"] for r in rows], axis=0)
    fp, fn = n_pred - tp, n_true - tp
    ap = tp / np.maximum(tp + fp + fn, 1)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    count_errors = [r[method]["count_error"] for r in rows if np.isfinite(r[method]["count_error"])]
    d50_errors = [r[method]["d50_error"] for r in rows if np.isfinite(r[method]["d50_error"])]
    return {
        "images": len(rows),
        "particles_true": int(n_true),
        "particles_found": int(n_pred),
        "f1_at_0.5": float(f1[0]),
        "ap_50_95": float(ap.mean()),
        "median_count_error": float(np.median(count_errors)) if count_errors else None,
        "median_d50_error": float(np.median(d50_errors)) if d50_errors else None,
        "median_seconds_per_image": float(np.median([r[method]["seconds"] for r in rows])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "train"), default="validation")
    parser.add_argument("--params", type=Path, help="parameter JSON (default: the app's defaults)")
    parser.add_argument("--limit", type=int, help="score only the first N images of the split")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write per-image and aggregate results as JSON here")
    args = parser.parse_args(argv)
    params = PipelineParams.load(args.params) if args.params else PipelineParams()
    train, validation = emps.load_split()
    names = validation if args.split == "validation" else train
    names = names[: args.limit] if args.limit else names
    jobs = [(name, params.to_json()) for name in names]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(evaluate_image, jobs, chunksize=2))
    report = {
        "split": args.split,
        "params": params.to_dict(),
        "particle_gui": aggregate(rows, "particle_gui"),
        "baseline": aggregate(rows, "baseline"),
    }
    print(f"EMPS {args.split} split, {len(rows)} images (edge-cut particles excluded from scoring)")
    print(f"{'metric':<26}{'particle_gui':>14}{'baseline':>14}")
    for key in ("f1_at_0.5", "ap_50_95", "median_count_error", "median_d50_error", "median_seconds_per_image"):
        ours, plain = report["particle_gui"][key], report["baseline"][key]
        print(f"{key:<26}{ours:>14.3f}{plain:>14.3f}")
    if args.out:
        args.out.write_text(json.dumps({**report, "images": rows}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
