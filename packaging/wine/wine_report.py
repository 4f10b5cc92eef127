"""The figures of a Windows build made under Wine (``packaging/wine/build.sh``): ``wine_build.json``.

Runs on the Linux side with the standard library only::

    python3 packaging/wine/wine_report.py --out OUTDIR --installed-dir DIR --setup SETUP.exe \
        --build-smoke build_smoke/smoke.json --installed-smoke installed_smoke/smoke.json \
        --linux-analyze LINUX_OUT --windows-analyze WINDOWS_OUT --stages stages.tsv

``wine_build.json`` holds ``installed_mb``, ``setup_mb``, ``smoke_ok`` (every check of the smoke
test on the PyInstaller folder and on the installed app), ``analyze_ok`` (the installed app's
``analyze`` against this checkout's on Linux: same images, same particle counts, every ECD within
0.1 %), ``minutes``, the time of each stage, the cold start to the first result, and what each
part of the installed app weighs. Exit code 1 when a figure misses its target.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

INSTALLED_MB_MAX = 350.0
SETUP_MB_MAX = 120.0
ECD_TOLERANCE = 0.001  # relative: 0.1 %
MB = 1e6


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def _part_name(name: str) -> str:
    """The part a top-level entry of ``_internal`` belongs to: ``scipy.libs`` to scipy, and so on."""
    lowered = name.lower()
    if lowered.endswith((".dist-info", ".egg-info")):
        return "package metadata and licences"
    if lowered.startswith(("python3", "base_library", "vcruntime", "msvcp", "concrt", "libffi", "libcrypto",
                           "libssl", "_", "select", "unicodedata", "pyexpat", "api-ms-", "ucrtbase")):
        return "Python and the C runtime"
    for suffix in (".libs", ".dll", ".pyd"):
        lowered = lowered.removesuffix(suffix)
    return {"cv2": "opencv", "skimage": "scikit-image", "pil": "pillow", "shiboken6": "pyside6"}.get(lowered, lowered)


def installed_parts(folder: Path, top: int = 14) -> list[dict[str, float | str]]:
    """What each part of an installed one-folder app weighs (MB), largest first; the rest summed."""
    sizes: dict[str, int] = {}
    for entry in folder.iterdir():
        if entry.name == "_internal":
            for inner in entry.iterdir():
                part = _part_name(inner.name)
                sizes[part] = sizes.get(part, 0) + _size(inner)
        else:
            part = "the executable and uninstaller" if entry.suffix.lower() in (".exe", ".dat", ".msg") else entry.name
            sizes[part] = sizes.get(part, 0) + _size(entry)
    ranked = sorted(sizes.items(), key=lambda item: -item[1])
    parts = [{"part": name, "mb": round(size / MB, 1)} for name, size in ranked[:top]]
    rest = sum(size for _, size in ranked[top:])
    if rest:
        parts.append({"part": f"{len(ranked) - top} other parts", "mb": round(rest / MB, 1)})
    return parts


def _summary(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "summary.csv", newline="", encoding="utf-8") as handle:
        return {row["image"]: row for row in csv.DictReader(handle)}


def _ecds(folder: Path, stem: str) -> list[float]:
    path = folder / f"{stem}_particles.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [float(row["ecd"]) for row in csv.DictReader(handle)]


def compare_analyze(linux_out: Path, windows_out: Path) -> dict:
    """Image by image: the same status and particle count, and each particle's ECD (by id) within 0.1 %."""
    linux, windows = _summary(linux_out), _summary(windows_out)
    images = []
    for name in sorted(set(linux) | set(windows)):
        one, other = linux.get(name), windows.get(name)
        if one is None or other is None:
            images.append({"image": name, "ok": False, "detail": "analysed on one system only"})
            continue
        ecd_linux, ecd_windows = _ecds(linux_out, one["output_stem"]), _ecds(windows_out, other["output_stem"])
        worst = max((abs(a - b) / a for a, b in zip(ecd_linux, ecd_windows) if a > 0), default=0.0)
        same_count = one["n_particles"] == other["n_particles"] and len(ecd_linux) == len(ecd_windows)
        ok = one["status"] == other["status"] == "ok" and same_count and worst <= ECD_TOLERANCE
        images.append({"image": name, "ok": ok, "status": [one["status"], other["status"]],
                       "particles": [one["n_particles"], other["n_particles"]],
                       "max_ecd_difference_pct": round(100 * worst, 4)})
    return {"ok": bool(images) and all(image["ok"] for image in images), "images": images}


def _smoke(path: Path) -> dict:
    if not path.is_file():
        return {"ok": False, "checks": {}, "detail": f"{path} missing: the smoke test did not run"}
    results = json.loads(path.read_text(encoding="utf-8"))
    checks = results.get("checks", {})
    return {"ok": bool(checks) and all(check["ok"] for check in checks.values()), **results}


def _cold_start_s(smoke: dict) -> float | None:
    detail = smoke.get("checks", {}).get("gui start", {}).get("detail", "")
    try:
        return float(detail.split(" s ", 1)[0])
    except ValueError:
        return None


def _stages(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    stages = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, seconds = line.rpartition("\t")
        if name:
            stages[name] = round(float(seconds) / 60, 1)
    return stages


def build_figures(args: argparse.Namespace) -> dict:
    installed = args.installed_dir
    installed_mb = round(_size(installed) / MB, 1) if installed.is_dir() else None
    setup_mb = round(_size(args.setup) / MB, 1) if args.setup.is_file() else None
    build_smoke, installed_smoke = _smoke(args.build_smoke), _smoke(args.installed_smoke)
    analyze = (compare_analyze(args.linux_analyze, args.windows_analyze)
               if (args.linux_analyze / "summary.csv").is_file() and (args.windows_analyze / "summary.csv").is_file()
               else {"ok": False, "images": [], "detail": "an analyze run is missing"})
    stages = _stages(args.stages)
    figures = {
        "installed_mb": installed_mb,
        "setup_mb": setup_mb,
        "smoke_ok": build_smoke["ok"] and installed_smoke["ok"],
        "analyze_ok": analyze["ok"],
        "minutes": round(sum(stages.values()), 1),
        "cold_start_s": _cold_start_s(installed_smoke),
        "stages_minutes": stages,
        "setup": args.setup.name,
        "installed_parts": installed_parts(installed) if installed.is_dir() else [],
        "smoke_build": {name: check["ok"] for name, check in build_smoke.get("checks", {}).items()},
        "smoke_installed": installed_smoke.get("checks", {}),
        "analyze_vs_linux": analyze,
        "targets": {"installed_mb": INSTALLED_MB_MAX, "setup_mb": SETUP_MB_MAX, "ecd_tolerance": ECD_TOLERANCE},
    }
    figures["targets_met"] = bool(
        figures["smoke_ok"] and figures["analyze_ok"] and installed_mb is not None and setup_mb is not None
        and installed_mb <= INSTALLED_MB_MAX and setup_mb <= SETUP_MB_MAX)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where wine_build.json goes")
    parser.add_argument("--installed-dir", type=Path, required=True, help="the installed app's folder")
    parser.add_argument("--setup", type=Path, required=True, help="the installer")
    parser.add_argument("--build-smoke", type=Path, required=True, help="smoke.json of the PyInstaller folder")
    parser.add_argument("--installed-smoke", type=Path, required=True, help="smoke.json of the installed app")
    parser.add_argument("--linux-analyze", type=Path, required=True, help="analyze output of this checkout on Linux")
    parser.add_argument("--windows-analyze", type=Path, required=True, help="analyze output of the installed app")
    parser.add_argument("--stages", type=Path, required=True, help="stage<TAB>seconds lines written by build.sh")
    args = parser.parse_args(argv)
    figures = build_figures(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "wine_build.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"installed {figures['installed_mb']} MB (max {INSTALLED_MB_MAX:.0f}), setup {figures['setup_mb']} MB "
          f"(max {SETUP_MB_MAX:.0f}), smoke {'ok' if figures['smoke_ok'] else 'FAILED'}, analyze vs Linux "
          f"{'ok' if figures['analyze_ok'] else 'FAILED'}, cold start {figures['cold_start_s']} s, "
          f"{figures['minutes']} min")
    for part in figures["installed_parts"]:
        print(f"  {part['mb']:7.1f} MB  {part['part']}")
    return 0 if figures["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
