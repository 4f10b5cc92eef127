"""Accuracy by source: F1, AP, count and D50 errors of each method on each source, and the worst.

Judge a change by the worst source, never by a pooled mean. Sources (:mod:`benchmarks.sources`):
the EMPS validation split, the AMPIS powder set from another lab (evaluation only: never tune
on it), and the synthetic hard cases with exact truth (:mod:`synthetic.scenes.cases`).

Usage::

    python -m benchmarks.bench_sources [--sources emps_val ampis syn_clusters ...]
        [--methods dl classical baseline] [--params FILE.json] [--model FILE.onnx]
        [--jobs 2] [--limit N] [--out results.json]

``baseline`` is the ImageJ-style plain method (:mod:`benchmarks.baseline`); ``dl_oracle`` is the
network told each image's true typical particle size (what the size estimate costs). ``--model`` scores
another segmentation network in place of the shipped one (for candidates from ``training/``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks import sources as src
from particle_gui.core.adapt.matching import drop_edge_instances
from evaluation.scoring import pool, score_image

COLUMNS = ("f1", "ap", "count_error", "d50_error", "d50_bias", "worst_image_f1", "seconds")


def _init_worker(model: str | None) -> None:
    os.environ.setdefault("PARTICLE_GUI_ONNX_THREADS", "1")
    if model:
        from particle_gui.core.network import dl

        dl.MODEL_PATH = Path(model).resolve()


def _run(job: tuple[str, str, object, tuple[str, ...], str]) -> list[dict]:
    source, name, load, methods, params_json = job
    from benchmarks.baseline import baseline_labels
    from particle_gui.core.params import PipelineParams
    from particle_gui.core.analysis.pipeline import Pipeline

    image, truth = load()
    rows = []
    for method in methods:
        started = time.perf_counter()
        warnings: tuple[str, ...] = ()
        trust = None
        if method == "baseline":
            labels = baseline_labels(image.grey)
        else:
            params = PipelineParams.from_json(params_json)
            if method == "dl_oracle":  # the network told the true typical size: what the size estimate costs
                from particle_gui.core.network.dl_scale import typical_diameter

                typical = typical_diameter(drop_edge_instances(truth))
                typical = typical if math.isfinite(typical) else typical_diameter(truth)  # only cut particles
                dl = {**params.to_dict()["dl"], "expected_diameter_px": typical if math.isfinite(typical) else 0.0}
                params = PipelineParams.from_dict({**params.to_dict(), "method": "dl", "dl": dl})
            else:
                params = PipelineParams.from_dict({**params.to_dict(), "method": method})
            result = Pipeline(image).run(params)
            labels, warnings, trust = result.labels, result.warnings, result.trust
        seconds = time.perf_counter() - started
        score = score_image(truth, labels, min_fragment_px=src.min_fragment_px(source))
        rows.append({"source": source, "image": name, "method": method, "seconds": seconds,
                     "warnings": list(warnings), "suspect": None if trust is None else trust.suspect,
                     "confidence": None if trust is None else trust.confidence, **score})
    return rows


def summarise(rows: list[dict]) -> dict:
    """{method: {source: pooled scores}} and each method's worst source by F1."""
    table: dict = {}
    for method in dict.fromkeys(r["method"] for r in rows):
        per_source = {}
        for source in dict.fromkeys(r["source"] for r in rows):
            chosen = [r for r in rows if r["method"] == method and r["source"] == source]
            if chosen:
                per_source[source] = {**pool(chosen), "seconds": float(np.median([r["seconds"] for r in chosen]))}
        worst = min(per_source, key=lambda s: per_source[s]["f1"])
        table[method] = {"sources": per_source, "worst_source": worst, "worst_f1": per_source[worst]["f1"],
                         "worst_d50_error": max(v["d50_error"] for v in per_source.values()
                                                if math.isfinite(v["d50_error"]))}
    return table


def print_table(table: dict) -> None:
    for method, entry in table.items():
        print(f"\nmethod {method}")
        print(f"{'source':<18}{'images':>7}{'true':>7}{'found':>7}" + "".join(f"{c:>15}" for c in COLUMNS))
        for source, v in entry["sources"].items():
            print(f"{source:<18}{v['images']:>7}{v['particles_true']:>7}{v['particles_found']:>7}"
                  + "".join(f"{v[c]:>15.3f}" for c in COLUMNS))
        print(f"worst source: {entry['worst_source']} (F1 {entry['worst_f1']:.3f}); "
              f"largest median D50 error {entry['worst_d50_error']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", nargs="+", default=list(src.all_sources()))
    parser.add_argument("--methods", nargs="+", default=["dl", "classical"],
                        choices=("dl", "classical", "baseline", "dl_oracle"))
    parser.add_argument("--params", type=Path, help="parameter JSON (default: the app's defaults)")
    parser.add_argument("--model", type=Path, help="another segmentation .onnx (its .json beside it)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, help="at most N images per source")
    parser.add_argument("--out", type=Path, help="write per-image rows and the table as JSON")
    args = parser.parse_args(argv)
    from particle_gui.core.params import PipelineParams

    params = PipelineParams.load(args.params) if args.params else PipelineParams()
    jobs = [(s, n, load, tuple(args.methods), params.to_json())
            for s, n, load in src.items(tuple(args.sources), limit=args.limit)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init_worker,
                             initargs=(str(args.model) if args.model else None,)) as workers:
        rows = [row for chunk in workers.map(_run, jobs) for row in chunk]
    table = summarise(rows)
    print_table(table)
    print(f"\n{len(jobs)} images in {time.perf_counter() - started:.0f} s ({args.jobs} processes, "
          "seconds = median per image in one process)")
    if args.out:
        args.out.write_text(json.dumps({"table": table, "rows": rows, "params": params.to_dict(),
                                        "model": str(args.model) if args.model else "shipped"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
