"""How well the suspect-image flag predicts a poor result, from a ``bench_sources --out`` file.

A poor result is an image scored F1@0.5 under 0.5 (images with no true particles are left out).
For each method and source: images, poor ones, flagged ones, and the flag's recall (poor images
flagged) and precision (flagged images that are poor); then the same over every source.

Usage::

    python -m benchmarks.bench_sources --out rows.json
    python -m benchmarks.bench_trust rows.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

POOR_F1 = 0.5


def table(rows: list[dict]) -> dict:
    out: dict = {}
    for method in dict.fromkeys(r["method"] for r in rows):
        chosen = [r for r in rows if r["method"] == method and r["n_true"] > 0 and r.get("suspect") is not None]
        sources = list(dict.fromkeys(r["source"] for r in chosen)) + ["all"]
        per = {}
        for source in sources:
            part = chosen if source == "all" else [r for r in chosen if r["source"] == source]
            poor = [r for r in part if r["f1"] < POOR_F1]
            flagged = [r for r in part if r["suspect"]]
            hits = [r for r in poor if r["suspect"]]
            per[source] = {"images": len(part), "poor": len(poor), "flagged": len(flagged),
                           "recall": len(hits) / len(poor) if poor else None,
                           "precision": len(hits) / len(flagged) if flagged else None}
        out[method] = per
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=Path, help="JSON written by bench_sources --out")
    args = parser.parse_args(argv)
    result = table(json.loads(args.rows.read_text())["rows"])
    for method, per in result.items():
        print(f"\nmethod {method}: suspect flag against F1 < {POOR_F1}")
        print(f"{'source':<18}{'images':>8}{'poor':>6}{'flagged':>9}{'recall':>9}{'precision':>11}")
        for source, v in per.items():
            fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
            print(f"{source:<18}{v['images']:>8}{v['poor']:>6}{v['flagged']:>9}{fmt(v['recall']):>9}{fmt(v['precision']):>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
