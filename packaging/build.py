"""Build the frozen app (PyInstaller, one folder) and, with ``--installer``, the platform's installer.

Run from anywhere; outputs land in the repository's ``dist/`` (``build/`` holds PyInstaller's work)::

    python packaging/build.py                # dist/ParticleGUI/ (+ dist/ParticleGUI.app on macOS)
    python packaging/build.py --installer    # + dist/ParticleGUI-<version>-Setup.exe (Windows, Inno Setup)
                                             #   or dist/ParticleGUI-<version>.dmg (macOS)

Then ``python packaging/smoke_test.py`` runs the built app. Needs ``pip install -e ".[package]"``
(PyInstaller) and, for ``--installer`` on Windows, Inno Setup 6 (``iscc`` on PATH or in its default folder).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
APP_NAME = "ParticleGUI"
SPEC = PACKAGING / "particle_gui.spec"


def project_version() -> str:
    """``particle_gui.__version__``, read without importing the package (the build Python may differ)."""
    tree = ast.parse((ROOT / "particle_gui" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise RuntimeError("particle_gui/__init__.py defines no __version__")


def folder_size_bytes(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (links not followed, as ``du`` counts them)."""
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def run_pyinstaller(dist_dir: Path, work_dir: Path, *, clean: bool) -> None:
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(dist_dir), "--workpath", str(work_dir), str(SPEC)]
    if clean:
        command.insert(3, "--clean")
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def find_iscc() -> str:
    found = shutil.which("iscc")
    if found:
        return found
    for base in (os.environ.get("ProgramFiles(x86)"), os.environ.get("ProgramFiles")):
        if base and (Path(base) / "Inno Setup 6" / "ISCC.exe").is_file():
            return str(Path(base) / "Inno Setup 6" / "ISCC.exe")
    raise SystemExit("Inno Setup 6 not found: install it (choco install innosetup) or put iscc on PATH")


def strip_linux_binaries(app_dir: Path) -> int:
    """Strip symbols from the bundle's ELF files on Linux; returns the bytes saved.

    PyInstaller's own ``strip`` option cannot be used: it also strips the libraries that
    auditwheel vendored into ``*.libs`` folders (numpy's OpenBLAS then fails to load, "ELF load
    command address/offset not page-aligned"). Those are left alone; the rest (libpython, Python
    extension modules, codec plug-ins) lose ~80 MB of symbols. Windows binaries carry none (their
    symbols are in separate .pdb files) and macOS ones are signed, so this runs on Linux only.
    """
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return 0
    before = folder_size_bytes(app_dir)
    # Only _internal/: the executables carry the Python archive appended to the ELF, which strip drops.
    for path in sorted((app_dir / "_internal").rglob("*")):
        if path.is_symlink() or not path.is_file() or any(part.endswith(".libs") for part in path.parts):
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
    return before - folder_size_bytes(app_dir)


def build_installer(dist_dir: Path, version: str) -> Path:
    """The platform's installer from the frozen app; returns its path."""
    if sys.platform == "win32":
        command = [find_iscc(), f"/DAppVersion={version}", f"/DBundleDir={dist_dir / APP_NAME}",
                   f"/DOutputDir={dist_dir}", str(PACKAGING / "windows" / "particle_gui.iss")]
        installer = dist_dir / f"{APP_NAME}-{version}-Setup.exe"
    elif sys.platform == "darwin":
        command = ["bash", str(PACKAGING / "macos" / "make_dmg.sh"), str(dist_dir / f"{APP_NAME}.app"),
                   str(dist_dir / f"{APP_NAME}-{version}.dmg")]
        installer = dist_dir / f"{APP_NAME}-{version}.dmg"
    else:
        raise SystemExit("installers are built on Windows (Inno Setup) and macOS (.dmg); "
                         f"on this system use the folder {dist_dir / APP_NAME}")
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    return installer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the frozen particle_gui app and its installer.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller work folder (default: build/)")
    parser.add_argument("--installer", action="store_true", help="also build the Windows or macOS installer")
    parser.add_argument("--no-clean", action="store_true", help="reuse PyInstaller's cache from the last build")
    args = parser.parse_args(argv)
    version = project_version()
    if subprocess.run([sys.executable, str(PACKAGING / "make_icons.py"), "--check"]).returncode:
        return 1
    run_pyinstaller(args.dist.resolve(), args.work.resolve(), clean=not args.no_clean)
    app_dir = args.dist.resolve() / APP_NAME
    saved = strip_linux_binaries(app_dir)
    if saved:
        print(f"stripped symbols from the Linux binaries: {saved / 1e6:.0f} MB")
    print(f"built {app_dir} (particle_gui {version}, {folder_size_bytes(app_dir) / 1e6:.0f} MB unpacked)")
    if args.installer:
        installer = build_installer(args.dist.resolve(), version)
        print(f"built {installer} ({installer.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
