"""Smoke test of the frozen app in ``dist/`` (built by ``python packaging/build.py``).

Runs the built executables the way a user and a script would, and checks exit codes and files::

    python packaging/smoke_test.py                     # dist/ of this repository
    python packaging/smoke_test.py --dist D --out O    # another build; keep the outputs in O
    python packaging/smoke_test.py --formats DIR       # also open the vendor files in DIR

Checks: ``--version``; the window opens offscreen on the bundled sample image, analyses it and
quits by itself (exit code 0, time from launch to the first result shown, a screenshot); the
command line (``analyze``) writes labels, tables, overlays, ``summary.csv`` and ``run.json`` with
package versions, also for LZW/deflate/Zstandard/JPEG-compressed TIFFs; vendor files (an EMD
and an MRC made here, and, with ``--formats``, the DM3/DM4/SER/EMD/MRC files there) open with
their calibration; ``analyze --method dl`` runs the bundled ONNX model; ``report`` writes a PDF,
an Excel workbook and ``comparison.json``. Prints one line per check, writes ``smoke.json``
(results, bundle size, start-up time) and exits 1 when a check failed.
``tests/packaging/test_frozen_app.py`` runs the same checks under pytest.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "ParticleGUI"
SAMPLE_NAME = "synthetic_zeiss_sem.tif"
TIMEOUT_S = 300
ACCESS_VIOLATION = 0xC0000005  # a Windows program's exit code when it crashed (--retry-crashed)
# Options given to every `analyze` and `report` (main's --jobs): none runs them on every core.
WORKER_OPTIONS: list[str] = []
# Vendor files of ../shared/data/formats that hold an image (08_carbon.dm3 holds a spectrum).
FORMAT_FILES = ("dmTest_float32_nonSquare_diffPixelSize.dm3", "dmTest_float32_nonSquare_diffPixelSize.dm4",
                "16_STOimage_1.ser", "Acquisition_18.emd", "temp.mrc")


class SmokeError(AssertionError):
    """A check of the frozen app failed."""


@dataclass(frozen=True)
class FrozenApp:
    """Where a one-folder build keeps its executables and its bundled sample images."""

    gui: Path  # the app
    cli: Path  # the same executable: `ParticleGUI analyze ...` (on Windows a console program)
    sample_data: Path
    models: Path  # particle_gui/models inside the bundle

    @classmethod
    def in_dist(cls, dist_dir: Path) -> FrozenApp:
        if sys.platform == "darwin":
            contents = dist_dir / f"{APP_NAME}.app" / "Contents"
            gui = contents / "MacOS" / APP_NAME
            return cls(gui=gui, cli=gui, sample_data=contents / "Resources" / "sample_data",
                       models=contents / "Resources" / "particle_gui" / "models")
        return cls.in_folder(dist_dir / APP_NAME)

    @classmethod
    def in_folder(cls, folder: Path) -> FrozenApp:
        """A one-folder app on Windows or Linux: dist/ParticleGUI, or where the installer put it."""
        models = folder / "_internal" / "particle_gui" / "models"
        if sys.platform == "win32":
            exe = folder / f"{APP_NAME}.exe"
            return cls(gui=exe, cli=exe, sample_data=folder / "sample_data", models=models)
        return cls(gui=folder / APP_NAME, cli=folder / APP_NAME, sample_data=folder / "sample_data", models=models)

    def exists(self) -> bool:
        return self.gui.is_file() and self.cli.is_file()


def app_environment(config_dir: Path) -> dict[str, str]:
    """The environment for a frozen run: offscreen Qt, settings and logs in ``config_dir``."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PARTICLE_GUI_CONFIG_DIR=str(config_dir))
    env.pop("PYTHONPATH", None)  # the bundle must not see this checkout's sources
    return env


def run(command: list[str | Path], env: dict[str, str], *, expect_rc: int = 0) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(part) for part in command], env=env, capture_output=True, text=True,
                               timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    if completed.returncode != expect_rc:
        raise SmokeError(f"{Path(command[0]).name} {' '.join(map(str, command[1:]))}: exit code "
                         f"{completed.returncode}, expected {expect_rc}\n"
                         f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return completed


def summary_rows(out_dir: Path) -> dict[str, dict[str, str]]:
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        return {row["image"]: row for row in csv.DictReader(handle)}


def check_outputs(out_dir: Path, images: list[Path], *, calibrated: bool) -> None:
    """Every image analysed (status ok) with its per-image files, and the run's files."""
    rows = summary_rows(out_dir)
    for image in images:
        row = rows.get(image.name)
        if row is None or row["status"] != "ok":
            raise SmokeError(f"{image.name}: {row['status'] if row else 'not in summary.csv'}")
        if calibrated and row["calibration_source"] != "metadata":
            raise SmokeError(f"{image.name}: calibration from {row['calibration_source']!r}, expected metadata")
        for suffix in ("_labels.tif", "_particles.csv", "_overlay.png"):
            if not (out_dir / f"{row['output_stem']}{suffix}").is_file():
                raise SmokeError(f"{image.name}: {row['output_stem']}{suffix} not written")
    environment = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))["environment"]
    unknown = [name for name, version in environment.items() if version is None]
    if unknown:  # versions come from the *.dist-info folders that the spec copies into the bundle
        raise SmokeError(f"run.json records no version of {', '.join(unknown)}: package metadata missing")


# --- the checks -------------------------------------------------------------------------------

def project_version() -> str:
    """``particle_gui.__version__`` of this checkout, as packaging/build.py reads it."""
    spec = importlib.util.spec_from_file_location("particle_gui_build", Path(__file__).with_name("build.py"))
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build.project_version()


def check_version(app: FrozenApp, work: Path, env: dict[str, str]) -> str:
    output = run([app.cli, "--version"], env).stdout.strip()
    if output != f"particle-gui {project_version()}":
        raise SmokeError(f"--version printed {output!r}, expected 'particle-gui {project_version()}'")
    return output


def check_gui_start(app: FrozenApp, work: Path, env: dict[str, str]) -> str:
    """The window opens on the sample image, shows its analysis and quits: seconds to the first result,
    and the font of its text (none under Wine without the shipped fallback: every letter a box)."""
    report = work / "startup.txt"
    report.unlink(missing_ok=True)
    launched = time.time()
    run([app.gui, app.sample_data / SAMPLE_NAME, "--startup-report", report, "--quit-after", "120"], env)
    if not report.is_file():
        raise SmokeError("the window quit before showing a result (no --startup-report)")
    shown, font = (report.read_text(encoding="utf-8").splitlines() + [""])[:2]
    if not font:
        raise SmokeError("the window's text is drawn in no font (boxes): Qt found none, nor the shipped one")
    seconds = float(shown) - launched
    return f"{seconds:.2f} s from launch to the first result shown, text in {font}"


def check_gui_screenshot(app: FrozenApp, work: Path, env: dict[str, str]) -> str:
    shot = work / "window.png"
    shot.unlink(missing_ok=True)
    run([app.gui, app.sample_data / SAMPLE_NAME, "--screenshot", shot, "--quit-after", "120"], env)
    if not shot.is_file() or shot.stat().st_size < 10_000:
        raise SmokeError("no screenshot of the analysed image")
    return f"{shot} ({shot.stat().st_size:,} bytes)"


def check_cli_analyze(app: FrozenApp, work: Path, env: dict[str, str]) -> str:
    """``analyze`` on the sample and on copies of it in the TIFF compressions tifffile decodes with imagecodecs."""
    images = [app.sample_data / SAMPLE_NAME, *_compressed_copies(app.sample_data / SAMPLE_NAME, work / "tiff")]
    out_dir = work / "analyze"
    run([app.cli, "analyze", *images, "--out", out_dir, *WORKER_OPTIONS], env)
    check_outputs(out_dir, images[:1], calibrated=True)
    check_outputs(out_dir, images[1:], calibrated=False)
    shape_classes = summary_rows(out_dir)[images[0].name].get("shape_classes")  # the ONNX classifier's output
    return f"{len(images)} images analysed into {out_dir}; shape classes of the sample: {shape_classes or 'none'}"


def _compressed_copies(source: Path, folder: Path) -> list[Path]:
    try:
        import tifffile
    except ImportError:  # the smoke test's Python has no tifffile: the sample alone
        return []
    folder.mkdir(parents=True, exist_ok=True)
    image = tifffile.imread(source)
    paths = []
    for compression in ("lzw", "adobe_deflate", "zstd", "jpeg"):
        path = folder / f"sample_{compression}.tif"
        tifffile.imwrite(path, image, compression=compression)
        paths.append(path)
    return paths


def check_vendor_formats(app: FrozenApp, work: Path, env: dict[str, str], formats_dir: Path | None = None) -> str:
    """EMD (ncempy, h5py, hdf5plugin) and MRC files made here, and the vendor files in ``formats_dir``."""
    images = _vendor_copies(app.sample_data / SAMPLE_NAME, work / "vendor")
    if formats_dir is not None:
        images += [formats_dir / name for name in FORMAT_FILES if (formats_dir / name).is_file()]
    if not images:
        return "skipped: no vendor files (needs numpy, tifffile, mrcfile and ncempy here, or --formats)"
    out_dir = work / "vendor_out"
    run([app.cli, "analyze", *images, "--out", out_dir, *WORKER_OPTIONS], env)
    check_outputs(out_dir, images, calibrated=True)
    return f"{', '.join(image.name for image in images)} opened with their calibration"


def _vendor_copies(source: Path, folder: Path) -> list[Path]:
    try:
        import mrcfile
        import numpy as np
        import tifffile
        from ncempy.io import emd
    except ImportError:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    image = tifffile.imread(source)[:600].astype(np.float32)  # above the data bar
    with mrcfile.new(folder / "sample.mrc", overwrite=True) as mrc:
        mrc.set_data(image)
        mrc.voxel_size = 25.0  # Angstrom
    berkeley = emd.fileEMD(str(folder / "sample.emd"), readonly=False)
    berkeley.put_emdgroup("sample", image, emd.defaultDims(image, pixel_size=(2.5, 2.5), pixel_unit=("n_m", "n_m")))
    del berkeley  # closes the file
    return [folder / "sample.emd", folder / "sample.mrc"]


def check_dl_segmentation(app: FrozenApp, work: Path, env: dict[str, str]) -> str:
    """``analyze --method dl``: the bundled ONNX segmentation model run by onnxruntime."""
    if not (app.models / "segmentation.onnx").is_file():
        return f"skipped: no segmentation model in {app.models}"
    image = app.sample_data / SAMPLE_NAME
    out_dir = work / "dl"
    run([app.cli, "analyze", image, "--method", "dl", "--out", out_dir, *WORKER_OPTIONS], env)
    check_outputs(out_dir, [image], calibrated=True)
    return f"{summary_rows(out_dir)[image.name]['n_particles']} particles found by the ONNX model"


def check_report(app: FrozenApp, work: Path, env: dict[str, str]) -> str:
    out_dir = work / "report"
    run([app.cli, "report", app.sample_data, "--out", out_dir, *WORKER_OPTIONS], env)
    pdf = out_dir / "report.pdf"
    if not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
        raise SmokeError("report.pdf not written")
    for name in ("report.xlsx", "comparison.json"):
        if not (out_dir / name).is_file():
            raise SmokeError(f"{name} not written")
    return f"{pdf} ({pdf.stat().st_size / 1e6:.1f} MB)"


CHECKS: dict[str, Callable[..., str]] = {
    "version": check_version,
    "gui start": check_gui_start,
    "gui screenshot": check_gui_screenshot,
    "cli analyze": check_cli_analyze,
    "vendor formats": check_vendor_formats,
    "dl segmentation": check_dl_segmentation,
    "report": check_report,
}


def _run_check(check: Callable[..., str], app: FrozenApp, work: Path, env: dict[str, str],
               extra: dict) -> tuple[str, bool]:
    try:
        return check(app, work, env, **extra), True
    except (SmokeError, subprocess.TimeoutExpired, OSError) as error:
        return str(error), False


def bundle_size_mb(folder: Path) -> float:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the frozen app in dist/ and check its results.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="the build's dist folder (default: dist/)")
    parser.add_argument("--out", type=Path, help="keep the outputs here (default: a temporary folder)")
    parser.add_argument("--formats", type=Path, help="folder of vendor test files (DM3/DM4/SER/EMD/MRC)")
    parser.add_argument("--installed", type=Path, metavar="FOLDER",
                        help="check the app installed in FOLDER (Windows, Linux) instead of the build in --dist")
    parser.add_argument("--jobs", type=int, help="worker processes of analyze and report (default: theirs, "
                                                  "every core); build.sh gives 1 under Wine, whose pipes "
                                                  "sometimes leave multiprocessing waiting for ever")
    parser.add_argument("--retry-crashed", action="store_true",
                        help="run a check once more when its program crashed (access violation), and say "
                             "so; build.sh gives it under Wine, where the window crashed once in ~13 starts")
    args = parser.parse_args(argv)
    WORKER_OPTIONS[:] = ["--jobs", str(args.jobs)] if args.jobs else []
    if args.installed:
        app_folder = args.installed.resolve()
        app = FrozenApp.in_folder(app_folder)
    else:
        app = FrozenApp.in_dist(args.dist.resolve())
        app_folder = args.dist.resolve() / (f"{APP_NAME}.app" if sys.platform == "darwin" else APP_NAME)
    if not app.exists():
        print(f"no frozen app in {args.installed or args.dist}: build it with python packaging/build.py",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="particle_gui_smoke_") as temporary:
        work = (args.out or Path(temporary)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        env = app_environment(work / "config")
        results = {"bundle_mb": round(bundle_size_mb(app_folder), 1), "checks": {}}
        for name, check in CHECKS.items():
            started = time.perf_counter()
            extra = {"formats_dir": args.formats} if check is check_vendor_formats else {}
            detail, ok = _run_check(check, app, work, env, extra)
            if not ok and args.retry_crashed and f"exit code {ACCESS_VIOLATION}," in detail:
                first = detail.splitlines()[0]
                detail, ok = _run_check(check, app, work, env, extra)
                detail = f"{detail} (second try: the first crashed: {first})"
            seconds = time.perf_counter() - started
            results["checks"][name] = {"ok": ok, "seconds": round(seconds, 2), "detail": detail}
            print(f"{'PASS' if ok else 'FAIL'} {name} ({seconds:.1f} s): {detail}", flush=True)
        print(f"bundle: {results['bundle_mb']:.0f} MB unpacked")
        (work / "smoke.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
        failed = [name for name, result in results["checks"].items() if not result["ok"]]
        print(f"{len(CHECKS) - len(failed)} of {len(CHECKS)} checks passed"
              + (f"; failed: {', '.join(failed)}" if failed else ""))
        return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
