"""Adaptation played as a user with ground truth: correct one image, adapt, score the others.

    python -m benchmarks.bench_adapt [--methods dl classical] [--seconds S] [--json FILE]

For each image of a group in turn, its ground truth plays the user's corrected labels; the method
is adapted to it (:func:`particle_gui.core.adapt.adaptation.adapt`, default deadline) and the other
images of the group are scored before (defaults) and after (the adapted profile). Groups:
``ampis`` (the five AMPIS powder images: evaluation only, never tuned on; the adaptation learns
from one of them, as a user would), ``syn_bimodal`` (six synthetic scenes of small and large spheres,
exact truth: the development set for wide size ranges) and EMPS validation images that look alike (same image size
and typical particle size within a factor of ~1.4: likely one publication's series). Reported per group: pooled F1@0.5 of the other images and
the median of their per-image D50 errors, before and after, and the adaptation's time.
"""

from __future__ import annotations

import argparse
import collections
import json
import time

import numpy as np
from PIL import Image

from benchmarks import sources as src
from evaluation import emps
from particle_gui.core.adapt.adaptation import adapt
from particle_gui.core.adapt.agreement import agreement, pooled
from particle_gui.core.adapt.corrected import CorrectedImage
from particle_gui.core.adapt.matching import drop_edge_instances
from particle_gui.core.network.dl_scale import typical_diameter
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.params import PipelineParams


def groups() -> dict[str, list]:
    """{group: [(name, loader)]}: ampis, EMPS validation images of one size, and synthetic wide-range scenes."""
    out = {"ampis": [(p.stem, lambda p=p: src.load_ampis(p)) for p in sorted((src.AMPIS_DIR / "images").glob("*.png"))]}
    # Synthetic scenes of one kind with exact truth: small and large spheres together (a development
    # set for what AMPIS tests, which is never tuned on).
    out["syn_bimodal"] = [(f"bimodal_{i}", lambda i=i: src.load_case("bimodal", i)) for i in range(6)]
    by_size = collections.defaultdict(list)
    for name in emps.load_split()[1]:
        with Image.open(emps.DATA_DIR / "images" / f"{name}.png") as im:
            size = im.size
        typical = typical_diameter(drop_edge_instances(emps.load_pair(name)[1].astype(np.int32)))
        # Same image size and particles of the same typical size (within a factor of ~1.4): likely one
        # publication's series at one magnification (EMPS names carry no source).
        if np.isfinite(typical):
            by_size[(size, int(np.floor(2 * np.log2(max(typical, 1.0)))))].append(name)
    mixed = collections.defaultdict(list)  # one image size, particles of any size: a profile must not ruin them
    for (size, _), names in by_size.items():
        mixed[size] += names
    for size, names in sorted(mixed.items()):
        if len(names) >= 3 and size[0] != size[1]:
            out[f"emps_{size[0]}x{size[1]}_mixed"] = [(n, lambda n=n: src.load_emps(n)) for n in sorted(names)]
    for (size, octave), names in sorted(by_size.items()):
        if len(names) >= 2:
            out[f"emps_{size[0]}x{size[1]}_d{2 ** (octave / 2):.0f}px"] = [(n, lambda n=n: src.load_emps(n)) for n in names]
    return out


def run_group(members: list, method: str, seconds: float | None) -> dict:
    data = [load() for _, load in members]
    pipelines = [Pipeline(image) for image, _ in data]
    start = PipelineParams(method=method)
    rows = []
    for k, (name, _) in enumerate(members):
        image, truth = data[k]
        began = time.perf_counter()
        profile = adapt([CorrectedImage(image, truth.astype(np.int32), image.path)], start, deadline_s=seconds,
                        held_out=False)
        took = time.perf_counter() - began
        others = [j for j in range(len(members)) if j != k]
        before = pooled([agreement(data[j][1], pipelines[j].labels(start)) for j in others])
        after = pooled([agreement(data[j][1], pipelines[j].labels(profile.params)) for j in others])
        rows.append({"corrected": name, "seconds": round(took, 1), "before": before.to_dict(), "after": after.to_dict(),
                     "changed": list(profile.changed)})
        print(f"  {method:9s} corrected {name[:24]:24s} others F1 {before.f1:.3f} -> {after.f1:.3f}  "
              f"D50 {before.d50_error:+.3f} -> {after.d50_error:+.3f}  {took:.0f} s", flush=True)
    return {"runs": rows,
            "f1_before": float(np.mean([r["before"]["f1"] for r in rows])),
            "f1_after": float(np.mean([r["after"]["f1"] for r in rows])),
            "worst_f1_after": float(np.min([r["after"]["f1"] for r in rows])),
            "abs_d50_before": float(np.median([abs(r["before"]["d50_error"] or 0) for r in rows])),
            "abs_d50_after": float(np.median([abs(r["after"]["d50_error"] or 0) for r in rows])),
            "max_seconds": float(np.max([r["seconds"] for r in rows]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["dl", "classical"])
    parser.add_argument("--groups", nargs="+", help="only these groups")
    parser.add_argument("--seconds", type=float, help="search deadline (default: the app's)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    results = {}
    for group, members in groups().items():
        if args.groups and group not in args.groups:
            continue
        print(f"{group} ({len(members)} images)", flush=True)
        for method in args.methods:
            results[f"{group}/{method}"] = summary = run_group(members, method, args.seconds)
            print(f"  {method}: mean F1 of the others {summary['f1_before']:.3f} -> {summary['f1_after']:.3f} "
                  f"(worst {summary['worst_f1_after']:.3f}); median |D50 error| {summary['abs_d50_before']:.1%} -> "
                  f"{summary['abs_d50_after']:.1%}; adaptation <= {summary['max_seconds']:.0f} s", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
