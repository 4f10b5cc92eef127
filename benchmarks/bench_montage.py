"""A montage far above the in-memory limit, analysed in tiles: count, sizes, memory and time.

A synthetic 8-bit montage (default 20000 x 20000) is drawn band by band straight into a TIFF:
bright discs and ellipses (16-48 px, none touching, none cut by the image's border), with a
particle centred on every tile seam every 200 px and at every seam crossing, on an uneven
background, blurred and noisy. A fresh process analyses it as ``particle-gui analyze`` does
(:func:`~particle_gui.core.output.batch.run_batch`, default tiles of 4096 px with 256 px of overlap)
and reports its peak resident memory (``VmHWM``) and time. Every found particle is matched to a
true one (centroid within 3 px): the count must be exact, and the ECD is compared with the truth.

Where both fit in memory, the top-left ``--crop`` square (default 8192, so with tile seams in it) is
analysed whole and in tiles of ``--crop-tile`` (default 2048): counts and each particle's ECD must
agree within 1 %.

Usage::

    python -m benchmarks.bench_montage [--size 20000] [--workdir DIR] [--out results.json]

Exit code 1 when a figure misses its target (exact count, ECD within 1 %, peak <= 3 GB).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

PEAK_LIMIT_GB = 3.0
ECD_LIMIT = 0.01
SEAM_EVERY_PX = 200
BAND_ROWS = 1024
BACKGROUND, LEVELS, NOISE, BLUR = 0.12, (0.62, 0.82), 0.05, 1.0


def place_shapes(size: int, tile: int, seed: int) -> np.ndarray:
    """Rows ``(y, x, a, b, angle_deg, level)``: seam crossers first, then random fill; none touch."""
    rng = np.random.default_rng(seed)
    d_low, d_high, gap, margin = 16.0, 48.0, 4.0, 4.0
    cell = d_high + gap
    grid: dict[tuple[int, int], list[int]] = {}
    shapes: list[tuple[float, float, float, float, float, float]] = []

    def try_add(y: float, x: float) -> None:
        d = math.exp(rng.uniform(math.log(d_low), math.log(d_high)))
        ratio = 1.0 if rng.random() < 0.5 else rng.uniform(1.0, 1.6)
        a, b = d / 2 * math.sqrt(ratio), d / 2 / math.sqrt(ratio)
        if not (a + margin <= y <= size - 1 - a - margin and a + margin <= x <= size - 1 - a - margin):
            return
        cy, cx = int(y // cell), int(x // cell)
        for ny in (cy - 1, cy, cy + 1):
            for nx in (cx - 1, cx, cx + 1):
                for j in grid.get((ny, nx), ()):
                    oy, ox, oa = shapes[j][0], shapes[j][1], shapes[j][2]
                    if (y - oy) ** 2 + (x - ox) ** 2 < (a + oa + gap) ** 2:
                        return
        grid.setdefault((cy, cx), []).append(len(shapes))
        shapes.append((y, x, a, b, float(rng.uniform(0, 180)), float(rng.uniform(*LEVELS))))

    seams = range(tile, size, tile)
    for seam in seams:
        for other in seams:
            try_add(seam + rng.uniform(-3, 3), other + rng.uniform(-3, 3))  # on a crossing of seams
        for along in range(SEAM_EVERY_PX // 2, size, SEAM_EVERY_PX):
            try_add(seam + rng.uniform(-8, 8), along + rng.uniform(-20, 20))
            try_add(along + rng.uniform(-20, 20), seam + rng.uniform(-8, 8))
    for _ in range(int(size * size / 2500)):
        try_add(rng.uniform(0, size), rng.uniform(0, size))
    return np.array(shapes)


def child_generate(path: Path, size: int, tile: int, seed: int) -> dict[str, Any]:
    """Draw the montage band by band into an uncompressed TIFF; save the shapes beside it."""
    import cv2
    import tifffile

    start = time.perf_counter()
    shapes = place_shapes(size, tile, seed)
    np.save(path.with_suffix(".shapes.npy"), shapes)
    out = tifffile.memmap(path, shape=(size, size), dtype=np.uint8, photometric="minisblack")
    rng = np.random.default_rng(seed + 1)
    pad = 8
    order = np.argsort(shapes[:, 0])
    tops = shapes[order, 0] - shapes[order, 2]
    for top in range(0, size, BAND_ROWS):
        bottom = min(size, top + BAND_ROWS)
        first, last = max(0, top - pad), min(size, bottom + pad)
        band = np.full((last - first, size), BACKGROUND, np.float32)
        rows = np.arange(first, last, dtype=np.float32)[:, None]
        band += np.float32(0.05) * (0.6 * np.arange(size, dtype=np.float32)[None, :] / size + 0.4 * rows / size)
        near = order[(tops < last) & (shapes[order, 0] + shapes[order, 2] >= first)]
        for y, x, a, b, angle, level in shapes[near]:
            centre = (int(round(x * 16)), int(round((y - first) * 16)))
            cv2.ellipse(band, centre, (int(round(a * 16)), int(round(b * 16))), angle, 0, 360, float(level), -1,
                        cv2.LINE_8, 4)
        band = cv2.GaussianBlur(band, (0, 0), BLUR)[top - first:top - first + bottom - top]
        band += rng.normal(0.0, NOISE, band.shape).astype(np.float32)
        out[top:bottom] = np.clip(np.rint(band * 255), 0, 255).astype(np.uint8)
    out.flush()
    del out
    return {"generated_s": round(time.perf_counter() - start, 1), "particles": len(shapes)}


def child_analyse(path: Path, out_dir: Path, above_px: int, tile: int) -> dict[str, Any]:
    """Analyse ``path`` as ``particle-gui analyze`` does; time and peak memory of this process."""
    from benchmarks.bench_memory import peak_rss_bytes
    from particle_gui.core.output.batch import run_batch
    from particle_gui.core.params import DEFAULT_OVERLAP_PX, PipelineParams

    out_dir.mkdir(parents=True, exist_ok=True)
    before = peak_rss_bytes()
    start = time.perf_counter()
    report = run_batch([path], out_dir, PipelineParams(), jobs=1, montage_above_px=above_px, montage_tile_px=tile,
                       montage_overlap_px=DEFAULT_OVERLAP_PX)
    seconds = time.perf_counter() - start
    outcome = report.outcomes[0]
    if not outcome.ok:
        raise SystemExit(f"analysis failed: {outcome.error}")
    return {"seconds": round(seconds, 1), "peak_gb": round(peak_rss_bytes() / 2**30, 3),
            "peak_before_gb": round(before / 2**30, 3), "warnings": outcome.row["warnings"],
            "table": str(out_dir / f"{outcome.stem}_particles.csv")}


def crop(path: Path, side: int, target: Path) -> None:
    import tifffile

    data = tifffile.memmap(path, mode="r")
    tifffile.imwrite(target, np.array(data[:side, :side]))
    del data
    shapes = np.load(path.with_suffix(".shapes.npy"))
    whole = ((shapes[:, 0] + shapes[:, 2] + 4 <= side - 1) & (shapes[:, 1] + shapes[:, 2] + 4 <= side - 1))
    np.save(target.with_suffix(".shapes.npy"), shapes[whole])


def match(table_csv: str, shapes: np.ndarray) -> dict[str, Any]:
    """Found particles against the true shapes: matches, misses, extras, ECD error."""
    import pandas as pd
    from scipy.spatial import cKDTree

    table = pd.read_csv(table_csv)
    found = table[["centroid_y", "centroid_x"]].to_numpy()
    distance, index = cKDTree(shapes[:, :2]).query(found, distance_upper_bound=3.0)
    hit = np.isfinite(distance)
    matched = np.unique(index[hit])
    true_ecd = 2 * np.sqrt(shapes[index[hit], 2] * shapes[index[hit], 3])
    error = table["ecd"].to_numpy()[hit] / true_ecd - 1
    return {"true": len(shapes), "found": len(table), "matched": int(matched.size),
            "duplicates": int(hit.sum() - matched.size), "extra": int((~hit).sum()),
            "missed": int(len(shapes) - matched.size),
            "ecd_error_median": round(float(np.median(error)), 4), "ecd_error_p99": round(float(np.quantile(np.abs(error), 0.99)), 4)}


def compare(whole_csv: str, tiled_csv: str) -> dict[str, Any]:
    """The tiled analysis against the whole one, particle by particle."""
    import pandas as pd
    from scipy.spatial import cKDTree

    whole, tiled = pd.read_csv(whole_csv), pd.read_csv(tiled_csv)
    distance, index = cKDTree(whole[["centroid_y", "centroid_x"]].to_numpy()).query(
        tiled[["centroid_y", "centroid_x"]].to_numpy(), distance_upper_bound=1.0)
    hit = np.isfinite(distance)
    ratio = tiled["ecd"].to_numpy()[hit] / whole["ecd"].to_numpy()[index[hit]] - 1
    return {"whole": len(whole), "tiled": len(tiled), "paired": int(hit.sum()),
            "ecd_diff_max": round(float(np.max(np.abs(ratio))), 5) if hit.any() else None,
            "ecd_diff_median": round(float(np.median(np.abs(ratio))), 6) if hit.any() else None,
            "d50_whole": round(float(whole["ecd"].median()), 3), "d50_tiled": round(float(tiled["ecd"].median()), 3)}


def _run_child(*args: str) -> dict[str, Any]:
    process = subprocess.run([sys.executable, "-m", "benchmarks.bench_montage", "--child", *args],
                             capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=False)
    if process.returncode != 0:
        raise SystemExit(f"child {args[0]} failed (exit {process.returncode}):\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    from particle_gui.core.io.loading import MAX_PIXELS
    from particle_gui.core.params import DEFAULT_TILE_PX

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--crop", type=int, default=8192)
    parser.add_argument("--crop-tile", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the montage here (reused when present)")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "generate":
            result = child_generate(Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]))
        else:
            result = child_analyse(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))
        print(json.dumps(result))
        return 0
    results: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                           "platform": platform.platform()}, "size": args.size}
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        image = folder / f"montage_{args.size}_{args.seed}.tif"
        if not image.exists():
            results["generate"] = _run_child("generate", str(image), str(args.size), str(DEFAULT_TILE_PX), str(args.seed))
        shapes = np.load(image.with_suffix(".shapes.npy"))
        results["montage"] = run = _run_child("analyse", str(image), str(folder / "out"), str(MAX_PIXELS),
                                              str(DEFAULT_TILE_PX))
        results["montage_vs_truth"] = match(run["table"], shapes)
        small = folder / f"crop_{args.crop}.tif"
        crop(image, args.crop, small)
        whole = _run_child("analyse", str(small), str(folder / "whole"), str(MAX_PIXELS), str(args.crop_tile))
        tiled = _run_child("analyse", str(small), str(folder / "tiled"), "1", str(args.crop_tile))
        results["crop"] = {"whole_s": whole["seconds"], "tiled_s": tiled["seconds"], "whole_peak_gb": whole["peak_gb"],
                           "tiled_peak_gb": tiled["peak_gb"], **compare(whole["table"], tiled["table"]),
                           "tiled_vs_truth": match(tiled["table"], np.load(small.with_suffix(".shapes.npy")))}
    truth, crop_result = results["montage_vs_truth"], results["crop"]
    print(f"{args.size} x {args.size} montage, {truth['true']} particles: {truth['found']} found, "
          f"{truth['matched']} matched, {truth['missed']} missed, {truth['extra']} extra, {truth['duplicates']} twice; "
          f"ECD vs truth median {truth['ecd_error_median']:+.2%}, p99 |error| {truth['ecd_error_p99']:.2%}")
    print(f"  {run['seconds']} s ({run['seconds'] / (args.size ** 2 / 1e6):.2f} s/Mpx), peak {run['peak_gb']:.2f} GB "
          f"(limit {PEAK_LIMIT_GB}; {run['peak_before_gb']:.2f} GB before the analysis)")
    print(f"crop {args.crop}^2: whole {crop_result['whole']} particles in {crop_result['whole_s']} s "
          f"(peak {crop_result['whole_peak_gb']:.2f} GB), tiles of {args.crop_tile}: {crop_result['tiled']} in "
          f"{crop_result['tiled_s']} s (peak {crop_result['tiled_peak_gb']:.2f} GB); ECD difference max "
          f"{crop_result['ecd_diff_max']:.3%}, median {crop_result['ecd_diff_median']:.4%}; D50 {crop_result['d50_whole']} "
          f"vs {crop_result['d50_tiled']} px")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    ok = (truth["missed"] == 0 and truth["extra"] == 0 and truth["duplicates"] == 0
          and run["peak_gb"] <= PEAK_LIMIT_GB and crop_result["whole"] == crop_result["tiled"] == crop_result["paired"]
          and crop_result["ecd_diff_max"] is not None and crop_result["ecd_diff_max"] <= ECD_LIMIT)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
