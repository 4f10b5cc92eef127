"""The packaging files, checked without building (fast; runs in every test run)."""

from __future__ import annotations

import re
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


def test_packaging_files_hold_no_absolute_paths():
    offending = [f"{path.relative_to(ROOT)}: {match.group(0)!r}"
                 for path, text in _packaging_texts().items()
                 for match in ABSOLUTE_PATH.finditer(text)
                 if "/Applications" not in match.group(0)]
    assert offending == []


def test_icons_are_generated_from_the_source_png():
    make_icons = load("make_icons")
    for path, data in make_icons.icon_files().items():
        assert path.is_file(), f"{path} missing: run python packaging/make_icons.py"
        assert path.read_bytes() == data, f"{path} is stale: run python packaging/make_icons.py"


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
