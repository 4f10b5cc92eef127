"""The packaging files, checked without building (fast; runs in every test run)."""

from __future__ import annotations

import _json
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import particle_gui
from tests.packaging._scripts import PACKAGING, ROOT, load

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
ABSOLUTE_PATH = re.compile(r"""["'(\s=](/(home|root|work|tmp|usr|opt|Users)/|[A-Za-z]:\\\\?[A-Za-z])""")


def _packaging_texts() -> dict[Path, str]:
    paths = [PACKAGING / "particle_gui.spec", *PACKAGING.rglob("*.py"), *PACKAGING.rglob("*.iss"),
             *PACKAGING.rglob("*.sh"), WORKFLOW]
    return {path: path.read_text(encoding="utf-8") for path in paths}


def _allowed_absolute_path(path: Path, match: str) -> bool:
    """macOS's /Applications; and in packaging/wine, Windows paths on the C: drive of the Wine
    prefix that build.sh makes itself (C:\\python311, C:\\src, C:\\Program Files)."""
    in_wine_prefix = path.is_relative_to(PACKAGING / "wine") and re.search(r"C:\\\\?[A-Za-z]", match)
    return "/Applications" in match or bool(in_wine_prefix)


def test_packaging_files_hold_no_absolute_paths():
    offending = [f"{path.relative_to(ROOT)}: {match.group(0)!r}"
                 for path, text in _packaging_texts().items()
                 for match in ABSOLUTE_PATH.finditer(text)
                 if not _allowed_absolute_path(path, match.group(0))]
    assert offending == []


def test_icons_are_generated_from_the_source_png():
    make_icons = load("make_icons")
    for path, data in make_icons.icon_files().items():
        assert path.is_file(), f"{path} missing: run python packaging/make_icons.py"
        assert make_icons.is_current(path, data), f"{path} is stale: run python packaging/make_icons.py"


def test_window_icon_is_package_data():
    # The lookup in particle_gui/gui/app.py; it works in a checkout, a wheel and the frozen app.
    icon = Path(particle_gui.__file__).resolve().parent / "resources" / "particle_gui.png"
    assert icon.is_file()
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "resources/*.png" in pyproject["tool"]["setuptools"]["package-data"]["particle_gui"]


def test_build_reads_the_package_version():
    assert load("build").project_version() == particle_gui.__version__


def test_spec_keeps_tensorflow_and_test_tools_out():
    spec = (PACKAGING / "particle_gui.spec").read_text(encoding="utf-8")
    excludes = spec[spec.index("EXCLUDES = ["):spec.index("]\n", spec.index("EXCLUDES = ["))]
    for name in ("tensorflow", "keras", "stardist", "tf2onnx", "pytest", "IPython", "tkinter", "PySide6.QtTest"):
        assert f'"{name}"' in excludes


def test_inno_setup_names_the_installer_after_the_version():
    script = (PACKAGING / "windows" / "particle_gui.iss").read_text(encoding="utf-8")
    assert "OutputBaseFilename=ParticleGUI-{#AppVersion}-Setup" in script
    assert "{uninstallexe}" in script and "associatetif" in script
    for relative in re.findall(r'(?:Source|SetupIconFile|LicenseFile)=?:? ?"?(\.\.[^"\s]+)', script):
        assert (PACKAGING / "windows" / relative.replace("\\", "/")).exists(), relative


def test_release_workflow_builds_both_installers_with_the_packaging_scripts():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["tags"] == ["v*"]
    assert workflow["jobs"]["installer"]["strategy"]["matrix"]["os"] == ["windows-latest", "macos-latest"]
    commands = " ".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])
    scripts = re.findall(r"python (packaging/\S+\.py)", commands)
    assert {"packaging/build.py", "packaging/smoke_test.py"} <= set(scripts)
    assert all((ROOT / script).is_file() for script in scripts)


def _write(path: Path, size: int, head: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + bytes(size - len(head)))


def test_strip_leaves_vendored_libraries_and_the_executable_alone(tmp_path):
    build = load("build")
    app = tmp_path / "ParticleGUI"
    _write(app / "ParticleGUI", 64, b"\x7fELF")  # the archive is appended to it: never stripped
    vendored = app / "_internal" / "numpy.libs" / "libopenblas.so"
    _write(vendored, 64, b"\x7fELF")
    _write(app / "_internal" / "data.txt", 10)
    assert build.strip_linux_binaries(app) == 0  # nothing else is an ELF file: nothing handed to strip
    assert (app / "ParticleGUI").stat().st_size == 64 and vendored.stat().st_size == 64
    if not sys.platform.startswith("linux") or shutil.which("strip") is None:
        return
    extension = Path(_json.__file__)  # a real extension module; CPython builds keep its symbols
    copied = app / "_internal" / "lib-dynload" / extension.name
    copied.parent.mkdir()
    shutil.copyfile(extension, copied)
    saved = build.strip_linux_binaries(app)
    assert saved == extension.stat().st_size - copied.stat().st_size
    if b".debug_info" in extension.read_bytes():
        assert saved > 0 and b".debug_info" not in copied.read_bytes()
    spec = importlib.util.spec_from_file_location("_json", copied)  # still loads
    assert importlib.util.module_from_spec(spec).__name__ == "_json"


def test_windows_size_estimate_swaps_linux_binaries_for_windows_ones(tmp_path):
    estimate = load("estimate_windows_size")
    linux, windows = tmp_path / "linux" / "ParticleGUI", tmp_path / "windows"
    _write(linux / "ParticleGUI", 1000)
    _write(linux / "sample_data" / "a.tif", 10)
    _write(linux / "_internal" / "numpy" / "_core" / "_umath.cpython-311-x86_64-linux-gnu.so", 500)
    _write(windows / "numpy" / "_core" / "_umath.cp311-win_amd64.pyd", 200)
    _write(linux / "_internal" / "cv2" / "cv2.abi3.so", 300)  # no Windows counterpart: Linux size kept
    _write(linux / "_internal" / "numpy.libs" / "libopenblas.so", 400)
    _write(linux / "_internal" / "numpy.libs" / "libgfortran.so", 100)
    _write(windows / "numpy.libs" / "openblas.dll", 250)
    _write(linux / "_internal" / "PySide6" / "Qt" / "lib" / "libQt6Core.so.6", 700)
    _write(linux / "_internal" / "PySide6" / "Qt" / "lib" / "libicudata.so.73", 900)  # Windows has its own ICU
    _write(windows / "PySide6" / "Qt6Core.dll", 600)
    _write(linux / "_internal" / "libX11.so.6", 80)  # a system library: none on Windows
    _write(linux / "_internal" / "python3.11" / "lib-dynload" / "_ssl.cpython-311-x86_64-linux-gnu.so", 70)
    _write(linux / "_internal" / "particle_gui" / "models" / "m.onnx", 40)
    sizes, unmatched = estimate.estimate(linux, windows)
    assert sizes["executable (Python code archive)"] == 1000 and sizes["sample data"] == 10
    assert sizes["extension modules"] == 200 + 300 and unmatched == [str(Path("cv2") / "cv2.abi3.so")]
    assert sizes["wheel-vendored libraries"] == 250
    assert sizes["Qt"] == 600
    assert sizes["Python code, data, models"] == 40
    assert sum(sizes.values()) == 1000 + 10 + 500 + 250 + 600 + 40 + sum(estimate.WINDOWS_ONLY_BYTES.values())


def test_qtopengl_stand_ins_let_pyqtgraph_draw_without_qt_opengl(tmp_path):
    """The runtime hook's stand-ins (the bundle leaves Qt's OpenGL modules out), put before the
    real modules as they would be where those are missing: pyqtgraph imports and draws an image."""
    script = tmp_path / "stand_ins.py"
    script.write_text(f"""
import runpy, sys
runpy.run_path({str(PACKAGING / "hooks" / "rthooks" / "pyi_rth_qtopengl.py")!r})
sys.meta_path.insert(0, sys.meta_path.pop())  # the stand-ins first: as if the real modules were absent
import numpy as np
import pyqtgraph as pg
from PySide6 import QtOpenGL, QtOpenGLWidgets, QtWidgets
assert QtOpenGL.__spec__.origin is None and QtOpenGLWidgets.QOpenGLWidget is QtWidgets.QWidget
try:
    QtOpenGL.QOpenGLTexture
except ImportError as error:
    assert "not part of this app's bundle" in str(error)
else:
    raise AssertionError("QOpenGLTexture from a stand-in")
app = pg.mkQApp()
widget = pg.PlotWidget()
widget.addItem(pg.ImageItem(np.arange(100.0).reshape(10, 10)))
widget.resize(200, 150)
image = widget.grab().toImage()
assert image.width() == 200 and len({{image.pixel(x, y) for x in range(0, 200, 7) for y in range(0, 150, 7)}}) > 5
print("ok")
""")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert completed.returncode == 0 and completed.stdout.strip().endswith("ok"), completed.stderr[-2000:]
