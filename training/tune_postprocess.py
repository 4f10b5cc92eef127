"""Choose the network's post-processing defaults on images kept for that, never on the benchmark's.

The tuning set is the seeded 10 % hold-out of the EMPS training split (the images that pick the
checkpoint) and synthetic scenes from a seed range that neither training (0-499,999 and
500,000-500,063) nor the benchmark's cases (10**9 and up) use. The EMPS validation split and the
evaluation-only sets are never read here.

For each combination of particle probability and core level (and split mode) it runs the app's
pipeline and prints F1@0.5 and the median D50 error on each part, worst part first, so the
defaults are chosen by the worse of the two.

Usage::

    python -m training.tune_postprocess [--model particle_gui/models/segmentation.onnx] [--scenes 24]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

TUNING_SCENE_SEED = 600_000


def _images(scenes: int) -> list[tuple[str, str, object]]:
    from training import data

    _, holdout = data.training_names(0)
    items = [("emps_holdout", name, ("emps", name)) for name in holdout]
    items += [("synthetic", f"scene{TUNING_SCENE_SEED + i}", ("scene", TUNING_SCENE_SEED + i)) for i in range(scenes)]
    return items


def _load(spec):
    from evaluation import emps
    from particle_gui.core.io.loading import LoadedImage, load_image

    kind, key = spec
    if kind == "emps":
        return load_image(emps.DATA_DIR / "images" / f"{key}.png"), emps.load_pair(key)[1]
    from synthetic.scenes import random_scene

    rng = np.random.default_rng(key)
    grey, truth = random_scene(rng, (512, 512), median_px=float(np.exp(rng.uniform(np.log(6), np.log(60)))))
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None), truth


def _run(job):
    part, name, spec, model, grid = job
    import os

    os.environ.setdefault("PARTICLE_GUI_ONNX_THREADS", "1")
    from evaluation.scoring import score_image
    from particle_gui.core.network import dl
    from particle_gui.core.params import PipelineParams
    from particle_gui.core.analysis.pipeline import Pipeline

    if model:
        dl.MODEL_PATH = Path(model).resolve()
    image, truth = _load(spec)
    pipeline = Pipeline(image)
    rows = []
    for probability, core, mode in grid:
        params = PipelineParams.from_dict({"method": "dl", "dl": {"probability": probability, "core_level": core},
                                           "split": {"mode": mode}})
        labels = pipeline.run(params).labels
        score = score_image(truth, labels, min_fragment_px=10 if part == "synthetic" else 30)
        rows.append({"part": part, "image": name, "setting": [probability, core, mode], **score})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--scenes", type=int, default=24)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from evaluation.scoring import pool

    grid = list(itertools.product((0.4, 0.5, 0.6), (0.3, 0.4, 0.5, 0.6, 0.7), ("sure_foreground",)))
    jobs = [(part, name, spec, str(args.model) if args.model else None, grid) for part, name, spec in _images(args.scenes)]
    with ProcessPoolExecutor(max_workers=args.jobs) as workers:
        rows = [row for chunk in workers.map(_run, jobs) for row in chunk]
    results = []
    for setting in grid:
        per = {}
        for part in ("emps_holdout", "synthetic"):
            chosen = [r for r in rows if r["part"] == part and r["setting"] == list(setting)]
            per[part] = pool(chosen)
        worst = min(per.values(), key=lambda v: v["f1"])
        results.append((setting, per, worst["f1"]))
    results.sort(key=lambda item: -item[2])
    print(f"{'probability':>12}{'core':>6}{'mode':>17}  " + "  ".join(f"{p + ' F1/D50':>22}" for p in ("emps_holdout", "synthetic")))
    for setting, per, _ in results:
        cells = "  ".join(f"{per[p]['f1']:>14.3f} / {per[p]['d50_error']:<5.3f}" for p in ("emps_holdout", "synthetic"))
        print(f"{setting[0]:>12}{setting[1]:>6}{setting[2]:>17}  {cells}")
    if args.out:
        args.out.write_text(json.dumps({"results": [(s, p) for s, p, _ in results]}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
