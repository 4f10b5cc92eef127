"""Batch speed on every core: ``run_batch`` with 1 and N worker processes on the same images.

    python -m benchmarks.bench_batch [--images 40] [--jobs 2] [--method classical]

40 synthetic 1024 x 768 images (300 particles each) are written to a temporary folder and
analysed with ``jobs=1`` (the baseline, timed in the same run) and ``jobs=N``; the outputs must be
identical byte for byte. Reported: both wall times, their ratio (target <= 0.6 for 2 workers on 2
cores) and the time per image.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from particle_gui.core.output.batch import run_batch
from particle_gui.core.params import PipelineParams
from synthetic.particle_images import particle_image


def _digests(out_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out_dir.iterdir())
            if p.is_file() and p.name != "run.json"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--method", default="classical")
    args = parser.parse_args(argv)
    params = PipelineParams(method=args.method)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for seed in range(args.images):
            grey, _ = particle_image(768, 1024, 300, seed=seed)
            Image.fromarray((np.clip(grey, 0, 1) * 255).round().astype(np.uint8)).save(folder / f"img{seed:03d}.png")
        paths = sorted(folder.glob("*.png"))
        seconds = {}
        for jobs in (1, args.jobs):
            out = Path(tmp) / f"out{jobs}"
            out.mkdir()
            started = time.perf_counter()
            report = run_batch(paths, out, params, jobs=jobs)
            seconds[jobs] = time.perf_counter() - started
            assert report.failed == 0
        identical = _digests(Path(tmp) / "out1") == _digests(Path(tmp) / f"out{args.jobs}")
    ratio = seconds[args.jobs] / seconds[1]
    print(f"{args.images} images ({args.method}): jobs 1 {seconds[1]:.1f} s ({seconds[1] / args.images:.2f} s/image), "
          f"jobs {args.jobs} {seconds[args.jobs]:.1f} s: ratio {ratio:.2f}; outputs identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
