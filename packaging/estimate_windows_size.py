"""Estimate the unpacked size of the Windows bundle from a Linux build and the Windows wheels.

The Windows installer cannot be built on Linux, but its content can be predicted: PyInstaller
collects the same modules there, only the binaries differ. This script walks a Linux build
(``dist/ParticleGUI/``) and replaces each binary by its Windows counterpart found in unpacked
``win_amd64`` wheels of the same runtime dependencies:

- extension modules (``*.cpython-311-x86_64-linux-gnu.so``, ``*.abi3.so``) -> the ``.pyd`` of the
  same module;
- wheel-vendored libraries (``numpy.libs/`` ...) -> the Windows wheel's folder of the same name
  (empty when the Windows wheel links them statically, as OpenCV and Pillow do);
- Qt libraries and plug-ins -> ``Qt6*.dll`` and ``plugins/*/q*.dll`` (ICU is Windows' own);
- system libraries the Linux build takes from the build machine (X11, GLib, ...) -> nothing, but
  Python's DLL, the MSVC runtime and Qt's Windows-only DLLs that PyInstaller collects are added;
- CPython's own extension modules (``python3.11/lib-dynload``) -> the ``DLLs`` folder of a Windows
  Python (a fixed size below);
- everything else (the executable with the Python code archive, data, models, sample images) ->
  as on Linux.

Usage (the wheels: ``pip download -r requirements.txt --platform win_amd64 --python-version 3.11
--only-binary=:all: -d WHEELS``, then unzip them all into one folder)::

    python packaging/estimate_windows_size.py dist/ParticleGUI WINDOWS_WHEELS_UNPACKED
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

EXTENSION = re.compile(r"^(?P<name>[^.]+)\.(cpython-\d+-x86_64-linux-gnu|abi3)\.so$")
QT_LIBRARY = re.compile(r"^libQt6(?P<name>\w+)\.so(\.\d+)*$")
QT_PLUGIN = re.compile(r"^lib(?P<name>.+)\.so$")
#: Files PyInstaller adds on Windows only (CPython's own DLL and runtime are found in the Python
#: installation, not in a wheel: sizes of the python.org 3.11 x64 build).
WINDOWS_ONLY_BYTES = {
    "python311.dll": 5_800_000,
    "vcruntime140.dll + vcruntime140_1.dll": 160_000,
    "DLLs/*.pyd (standard-library extension modules)": 4_500_000,
}
#: Collected by PyInstaller's Qt hooks on Windows; the spec drops ``opengl32sw.dll``.
QT_WINDOWS_DLLS = ("msvcp140.dll", "msvcp140_1.dll", "msvcp140_2.dll", "concrt140.dll", "vcruntime140.dll",
                   "vcruntime140_1.dll", "pyside6.abi3.dll")


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def estimate(linux_bundle: Path, windows: Path) -> tuple[dict[str, int], list[str]]:
    """Estimated bytes per category, and the Linux binaries with no Windows counterpart found."""
    internal = linux_bundle / "_internal"
    sizes: dict[str, int] = defaultdict(int)
    unmatched: list[str] = []
    vendored_done: set[str] = set()
    for path in sorted(p for p in linux_bundle.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(internal) if path.is_relative_to(internal) else None
        linux_bytes = path.stat().st_size
        if relative is None:  # the executable and sample_data beside it
            sizes["executable (Python code archive)" if path.name == "ParticleGUI" else "sample data"] += linux_bytes
            continue
        parts = relative.parts
        if parts[0].startswith("python3") and "lib-dynload" in parts:
            continue  # counted as the Windows DLLs folder
        if parts[0].endswith(".libs"):
            if parts[0] not in vendored_done:
                vendored_done.add(parts[0])
                sizes["wheel-vendored libraries"] += sum(_size(p) for p in (windows / parts[0]).glob("*"))
            continue
        if parts[0] == "PySide6" and len(parts) > 2 and parts[1] == "Qt":
            qt = QT_LIBRARY.match(path.name)
            plugin = QT_PLUGIN.match(path.name)
            if parts[2] == "lib" and qt:
                sizes["Qt"] += _size(windows / "PySide6" / f"Qt6{qt['name']}.dll")
            elif parts[2] == "lib":
                pass  # ICU: Windows has its own
            elif parts[2] == "plugins" and plugin:
                counterpart = windows / "PySide6" / "plugins" / parts[3] / f"{plugin['name']}.dll"
                sizes["Qt"] += _size(counterpart)  # Linux-only plug-ins (xcb, wayland, eglfs) have none
            else:
                sizes["Qt"] += linux_bytes
            continue
        extension = EXTENSION.match(path.name)
        if extension:
            folder = windows.joinpath(*parts[:-1])
            found = sorted(folder.glob(f"{extension['name']}.*pyd")) if folder.is_dir() else []
            if found:
                sizes["extension modules"] += found[0].stat().st_size
            else:
                sizes["extension modules"] += linux_bytes
                unmatched.append(str(relative))
            continue
        if len(parts) == 1 and ".so" in path.name:
            sizes["(Linux system libraries: not on Windows)"] += 0
            continue
        sizes["Python code, data, models"] += linux_bytes
    for name in QT_WINDOWS_DLLS:
        sizes["Qt"] += _size(windows / "PySide6" / name)
    for name, size in WINDOWS_ONLY_BYTES.items():
        sizes[f"Windows only: {name}"] += size
    return dict(sizes), unmatched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("linux_bundle", type=Path)
    parser.add_argument("windows_wheels", type=Path, help="folder with the win_amd64 wheels unzipped into it")
    args = parser.parse_args(argv)
    sizes, unmatched = estimate(args.linux_bundle, args.windows_wheels)
    linux_total = sum(p.stat().st_size for p in args.linux_bundle.rglob("*") if p.is_file() and not p.is_symlink())
    for key, value in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"{value / 2**20:9.1f} MiB  {key}")
    print(f"{sum(sizes.values()) / 2**20:9.1f} MiB  estimated Windows bundle (Linux build: {linux_total / 2**20:.1f} MiB)")
    if unmatched:
        print(f"{len(unmatched)} extension modules without a Windows counterpart (Linux size kept), e.g. {unmatched[:3]}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
