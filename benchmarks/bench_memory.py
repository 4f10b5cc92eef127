"""Peak memory of a whole analysis of a large image, and the refusal of a too-large one.

A synthetic 8-bit image (default 10000 x 10000, ~30,000 particles, from
:func:`synthetic.particle_images.particle_image`) is written as a TIFF by one process; a fresh
process then analyses it as the command line does (load, every pipeline stage, labels, table
and overlay written) and reports its peak resident memory (``VmHWM`` from ``/proc``, else
``ru_maxrss``) after loading, after each stage and after writing. A third process opens an
image just over the size limit and a 20000 x 20000 one: both must be refused before their data
are read, with a message, in a few megabytes.

Usage::

    python -m benchmarks.bench_memory [--size 10000] [--particles 30000] [--limit-gb 4]
                                      [--workdir DIR] [--out results.json]

Exit code 1 when the peak exceeds ``--limit-gb`` or a large image is not refused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Target of the robustness issue: a 10000 x 10000 8-bit image analysed within 4 GB.
LIMIT_GB = 4.0


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (bytes)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def reset_peak() -> bool:
    """Restart the peak count from the current resident size (Linux: ``clear_refs``); False elsewhere."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _gb(value: int) -> float:
    return round(value / 2**30, 3)


def child_generate(path: Path, size: int, particles: int) -> dict[str, Any]:
    import tifffile

    from synthetic.particle_images import particle_image

    start = time.perf_counter()
    grey, truth = particle_image(size, size, particles, seed=7)
    image = np.empty(grey.shape, np.uint8)
    np.multiply(grey, 255, out=grey)
    np.rint(grey, out=grey)
    image[...] = grey
    tifffile.imwrite(path, image)
    return {"generated_s": round(time.perf_counter() - start, 1), "true_particles": int(truth.max())}


def child_analyse(path: Path, out_dir: Path, params_json: str = "") -> dict[str, Any]:
    from particle_gui.core.output.batch import write_image_outputs
    from particle_gui.core.io.loading import load_image
    from particle_gui.core.params import PipelineParams
    from particle_gui.core.analysis.pipeline import Pipeline

    peaks: dict[str, float] = {"imports": _gb(peak_rss_bytes())}
    stage_peaks: dict[str, float] = {}
    times: dict[str, float] = {}
    clock = [time.perf_counter(), "load"]
    overall = [peak_rss_bytes()]

    def mark(name: str) -> None:
        now = time.perf_counter()
        peak = peak_rss_bytes()
        overall[0] = max(overall[0], peak)
        times[clock[1]] = round(now - clock[0], 2)
        peaks[clock[1]] = _gb(overall[0])
        stage_peaks[clock[1]] = _gb(peak)
        clock[:] = [now, name]
        reset_peak()  # the next stage's own peak, over what is resident now

    image = load_image(path)
    mark("pipeline")
    params = PipelineParams.load(params_json) if params_json else PipelineParams()
    result = Pipeline(image).run(params, progress=lambda stage, index, total: mark(stage))
    mark("write outputs")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_image_outputs(out_dir, path.stem, image, result)
    mark("done")
    return {
        "shape": list(image.shape),
        "particles": result.count,
        "peak_gb": _gb(max(overall[0], peak_rss_bytes())),
        "peak_gb_after": peaks,
        "peak_gb_during": stage_peaks,
        "seconds": times,
        "total_s": round(sum(times.values()), 1),
    }


def child_refuse(folder: Path) -> dict[str, Any]:
    import tifffile

    from particle_gui.core.errors import ImageTooLargeError
    from particle_gui.core.io.loading import MAX_PIXELS, load_image

    outcomes = {}
    for side in (int(np.sqrt(MAX_PIXELS)) + 1000, 20_000):
        path = folder / f"over_limit_{side}.tif"
        tifffile.imwrite(path, shape=(side, side), dtype=np.uint8, bigtiff=True)  # header only: a sparse file
        start = time.perf_counter()
        try:
            load_image(path)
            message = None
        except ImageTooLargeError as exc:
            message = str(exc)
        outcomes[f"{side}x{side}"] = {
            "refused": message is not None,
            "message": message,
            "seconds": round(time.perf_counter() - start, 4),
        }
        path.unlink()
    return {"refusals": outcomes, "peak_gb": _gb(peak_rss_bytes())}


def _run_child(*args: str) -> dict[str, Any]:
    process = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", "--child", *args],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=False,
    )
    if process.returncode != 0:
        raise SystemExit(f"child {args[0]} failed (exit {process.returncode}):\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="image side in pixels (default 10000)")
    parser.add_argument("--particles", type=int, default=30_000)
    parser.add_argument("--limit-gb", type=float, default=LIMIT_GB)
    parser.add_argument("--workdir", type=Path, help="keep the image here (reused when present)")
    parser.add_argument("--params", type=Path, help="analysis parameters (JSON, as saved by the GUI)")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "generate":
            result = child_generate(Path(rest[0]), int(rest[1]), int(rest[2]))
        elif kind == "analyse":
            result = child_analyse(Path(rest[0]), Path(rest[1]), *rest[2:])
        else:
            result = child_refuse(Path(rest[0]))
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        image = folder / f"synthetic_{args.size}.tif"
        results: dict[str, Any] = {
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "size": args.size,
        }
        if not image.exists():
            results["generate"] = _run_child("generate", str(image), str(args.size), str(args.particles))
        params = [str(args.params.resolve())] if args.params else []
        results["analyse"] = _run_child("analyse", str(image), str(folder / "out"), *params)
        results["refuse"] = _run_child("refuse", str(folder))
    analyse, refuse = results["analyse"], results["refuse"]
    print(f"{args.size} x {args.size} 8-bit, {analyse['particles']} particles: peak {analyse['peak_gb']:.2f} GB "
          f"(limit {args.limit_gb} GB), {analyse['total_s']} s")
    print("  stage            peak during   peak so far   seconds")
    for stage, peak in analyse["peak_gb_after"].items():
        during = analyse["peak_gb_during"].get(stage, peak)
        print(f"  {stage:14s} {during:9.2f} GB {peak:9.2f} GB   {analyse['seconds'].get(stage, '')}")
    for name, outcome in refuse["refusals"].items():
        print(f"{name}: {'refused' if outcome['refused'] else 'NOT refused'} in {outcome['seconds']} s: {outcome['message']}")
    print(f"refusals: peak {refuse['peak_gb']:.2f} GB")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    ok = analyse["peak_gb"] <= args.limit_gb and all(o["refused"] for o in refuse["refusals"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
