"""How well the suspect flags point at the wrong particles, per source.

    python -m benchmarks.bench_suspects [--sources emps_val ampis syn_clusters ...] [--limit N] [--methods dl classical]

A predicted particle is *wrong* when no true particle matches it at IoU >= 0.5 (scoring convention
of ``shared/data/README.md``: particles touching the border dropped on both sides). Reported per
source and method: the share of wrong particles flagged (recall; target >= 70 %) and the share of
right particles flagged (false alarms; target <= 15 %), and each rule's share. The thresholds of
:mod:`particle_gui.core.analysis.suspects` were chosen on ``emps_train`` (``--sources emps_train``);
``ampis`` is evaluation only.
"""

from __future__ import annotations

import argparse
import collections
import os
from multiprocessing import Pool

import numpy as np

from benchmarks import sources as src
from evaluation.scoring import drop_fragments
from particle_gui.core.adapt.matching import drop_edge_instances, match_instances


def _run(job):
    source, name, load, methods = job
    os.environ.setdefault("PARTICLE_GUI_ONNX_THREADS", "1")
    from particle_gui.core.analysis.pipeline import Pipeline
    from particle_gui.core.params import PipelineParams

    image, truth = load()
    truth = drop_fragments(drop_edge_instances(truth.astype(np.int32)), src.min_fragment_px(source))
    pipeline = Pipeline(image)
    rows = []
    for method in methods:
        result = pipeline.run(PipelineParams(method=method).with_value("summary", "classify_shapes", False))
        labels = drop_fragments(drop_edge_instances(result.labels.astype(np.int32)), src.min_fragment_px(source))
        match = match_instances(truth, labels)
        right = set(match.pred_ids[match.ious >= 0.5].tolist())
        table = result.particles
        table = table[table["id"].isin(np.unique(labels[labels > 0]))]
        for _, row in table.iterrows():
            rows.append((source, method, int(row["id"]) in right, bool(row["suspect"]), str(row["suspect_reason"])))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", nargs="+", default=["emps_val", "ampis", "syn_clusters", "syn_sizes", "syn_support"])
    parser.add_argument("--methods", nargs="+", default=["dl", "classical"])
    parser.add_argument("--limit", type=int, default=24)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    jobs = [(s, n, load, tuple(args.methods)) for s, n, load in src.items(tuple(args.sources), limit=args.limit)]
    with Pool(args.processes) as pool:
        rows = [r for part in pool.imap_unordered(_run, jobs) for r in part]
    table = collections.defaultdict(list)
    for source, method, right, suspect, reason in rows:
        table[(source, method)].append((right, suspect, reason))
    print(f"{'source':16s} {'method':9s} {'wrong':>6s} {'flagged':>8s} {'right':>6s} {'flagged':>8s}  reasons among wrong")
    for (source, method), items in sorted(table.items()):
        wrong = [i for i in items if not i[0]]
        right = [i for i in items if i[0]]
        recall = np.mean([i[1] for i in wrong]) if wrong else float("nan")
        alarms = np.mean([i[1] for i in right]) if right else float("nan")
        reasons = collections.Counter(r for i in wrong for r in i[2].split("; ") if r)
        print(f"{source:16s} {method:9s} {len(wrong):6d} {recall:8.1%} {len(right):6d} {alarms:8.1%}  "
              + ", ".join(f"{k} {v}" for k, v in reasons.most_common(4)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
