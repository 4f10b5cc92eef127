"""Time a multi-sample report: 3 samples x 10 synthetic SEM-like images of 1024x768.

The images come from :func:`synthetic.particle_images.particle_image` (about 300 particles each,
seeded), saved as 8-bit TIFFs; sample C's particles are 1.3 times larger than A's and B's, so
the comparison has something to find. The report is built with :func:`build_report` (what
``particle-gui report`` and the GUI call) with a pixel size of 2 nm, and the total time is
printed with its phases: image analysis (load, pipeline, per-image outputs, previews), PDF
pages, and the Excel workbook plus ``comparison.json``.

Usage::

    python -m benchmarks.bench_report [--images 10] [--out DIR] [--keep] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from synthetic.particle_images import default_diameter_range, particle_image
from particle_gui.core.params import PipelineParams
from particle_gui.core.output.report import build_report

HEIGHT, WIDTH, PARTICLES = 768, 1024, 300
#: Sample name -> factor on the default diameter range.
SAMPLES = {"A": 1.0, "B": 1.0, "C": 1.3}


def write_images(root: Path, images_per_sample: int) -> dict[str, list[Path]]:
    """Write the synthetic TIFFs; return ``{sample: paths}``."""
    low, high = default_diameter_range(HEIGHT, WIDTH, PARTICLES)
    samples: dict[str, list[Path]] = {}
    for index, (name, factor) in enumerate(SAMPLES.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        samples[name] = []
        for i in range(images_per_sample):
            grey, _ = particle_image(HEIGHT, WIDTH, PARTICLES, seed=1000 * index + i,
                                     diameter_range=(low * factor, high * factor))
            path = folder / f"{name.lower()}_{i:02d}.tif"
            tifffile.imwrite(path, np.clip(grey * 255 + 0.5, 0, 255).astype(np.uint8))
            samples[name].append(path)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10, help="images per sample (default 10)")
    parser.add_argument("--out", type=Path, help="output folder (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--json", type=Path, help="also write the timings as JSON")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench_report_"))
    out = args.out or work / "report"
    try:
        samples = write_images(work / "images", args.images)
        n_images = sum(len(paths) for paths in samples.values())
        started = time.perf_counter()
        result = build_report(samples, out, PipelineParams(), pixel_size_nm=2.0)
        wall = time.perf_counter() - started
        t = result.timings_s
        particles = sum(s.summary.count for s in result.samples)
        size_mb = result.pdf_path.stat().st_size / 1e6
        print(f"report of {n_images} images of {WIDTH}x{HEIGHT} ({len(samples)} samples, {particles} particles), "
              f"{result.pages} PDF pages ({size_mb:.1f} MB)")
        print(f"total {wall:.2f} s: analysis {t['analysis']:.2f} s ({1000 * t['analysis'] / n_images:.0f} ms/image), "
              f"PDF {t['pdf']:.2f} s ({1000 * t['pdf'] / result.pages:.0f} ms/page), "
              f"Excel + JSON {t['total'] - t['analysis'] - t['pdf']:.2f} s")
        for line in result.verdicts:
            print(f"  {line}")
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}")
        if args.json is not None:
            record = {"images": n_images, "width": WIDTH, "height": HEIGHT, "pages": result.pages,
                      "pdf_mb": size_mb, "wall_s": wall, **{f"{k}_s": v for k, v in t.items()}}
            args.json.write_text(json.dumps(record, indent=2) + "\n")
        if args.keep or args.out:
            print(f"report in {out}")
    finally:
        if not args.keep:
            shutil.rmtree(work / "images", ignore_errors=True)
            if args.out is None:
                shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
