"""Time of the deep-learning method: whole ``analyze`` of one 1024 x 768 image, beside the classical one.

Accuracy by source is :mod:`benchmarks.bench_sources`; this is speed and size. For each of a few
synthetic 1024 x 768 SEM images (written as TIFF), it times what ``particle-gui analyze`` does per
image (load, data bar and scale bar, network with its size passes, split, measure, shape classes,
summary, writing the labels, table and overlay) with ``--method dl`` and, in the same run, with the
classical method (the baseline of the ratio); it also reports how many network passes the size
estimate took and the models' sizes on disk.

Usage::

    python -m benchmarks.bench_dl [--repeats 5] [--threads 2] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _analyze_once(path: Path, out_dir: Path, params) -> float:
    from particle_gui.core.output.batch import analyze_file, write_image_outputs

    started = time.perf_counter()
    image, result, _ = analyze_file(path, params)
    write_image_outputs(out_dir, path.stem, image, result)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ["PARTICLE_GUI_ONNX_THREADS"] = str(args.threads)
    import tifffile

    from particle_gui.core.io import label_reader

    from particle_gui.core.network import dl

    from particle_gui.core.analysis import shape_classes
    from particle_gui.core.params import PipelineParams
    from synthetic.scenes import random_scene

    dl.load_model()
    times: dict[str, list[float]] = {"dl": [], "classical": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for seed in range(args.repeats):
            rng = np.random.default_rng(1000 + seed)
            grey, _ = random_scene(rng, (768, 1024), median_px=float(rng.uniform(15, 45)))
            path = folder / f"image{seed}.tif"
            tifffile.imwrite(path, (grey * 255).astype(np.uint8))
            _analyze_once(path, folder, PipelineParams(method="dl"))  # warm: model loaded, caches filled
            for method in ("classical", "dl"):
                times[method].append(_analyze_once(path, folder, PipelineParams(method=method)))
    sizes = {p.name: p.stat().st_size / 1e6 for p in (dl.MODEL_PATH, shape_classes.DEFAULT_MODEL_PATH, label_reader.MODEL_PATH)
             if p.is_file()}
    report = {
        "dl_s_median": float(np.median(times["dl"])),
        "classical_s_median": float(np.median(times["classical"])),
        "ratio_dl_to_classical": float(np.median(times["dl"]) / np.median(times["classical"])),
        "dl_s_all": times["dl"],
        "models_mb": sizes,
        "models_mb_total": float(sum(sizes.values())),
        "threads": args.threads,
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
