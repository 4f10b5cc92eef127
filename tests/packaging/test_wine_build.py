"""The Windows build under Wine (packaging/wine/): its figures, CI's trigger and the harness DLLs.

The build itself (~35 min) runs in CI only when its inputs change (ci_check.sh); these tests check
its pieces with known answers.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging._scripts import PACKAGING, ROOT, load

WINE = PACKAGING / "wine"
WINE_UCRTBASE = Path("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/ucrtbase.dll")


def _wine_report():
    spec = importlib.util.spec_from_file_location("packaging_wine_report", WINE / "wine_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_analysis(folder: Path, ecds: dict[str, list[float]], status: str = "ok") -> Path:
    """A folder as ``analyze`` leaves it: summary.csv and one particles table per image."""
    folder.mkdir(parents=True)
    with open(folder / "summary.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "status", "n_particles", "output_stem"])
        for image, values in ecds.items():
            writer.writerow([image, status, len(values), Path(image).stem])
    for image, values in ecds.items():
        with open(folder / f"{Path(image).stem}_particles.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "ecd"])
            writer.writerows([index + 1, value] for index, value in enumerate(values))
    return folder


def test_identical_analyses_agree(tmp_path):
    ecds = {"a.tif": [10.0, 20.0, 30.0], "b.png": [5.0]}
    result = _wine_report().compare_analyze(_write_analysis(tmp_path / "linux", ecds),
                                            _write_analysis(tmp_path / "windows", ecds))
    assert result["ok"] and [image["max_ecd_difference_pct"] for image in result["images"]] == [0.0, 0.0]


def test_an_ecd_off_by_more_than_a_tenth_of_a_percent_fails(tmp_path):
    linux = _write_analysis(tmp_path / "linux", {"a.tif": [10.0, 20.0]})
    within = _write_analysis(tmp_path / "within", {"a.tif": [10.009, 20.0]})
    beyond = _write_analysis(tmp_path / "beyond", {"a.tif": [10.0, 20.03]})
    report = _wine_report()
    assert report.compare_analyze(linux, within)["ok"]
    result = report.compare_analyze(linux, beyond)
    assert not result["ok"] and result["images"][0]["max_ecd_difference_pct"] == pytest.approx(0.15)


def test_a_different_count_or_a_missing_image_fails(tmp_path):
    linux = _write_analysis(tmp_path / "linux", {"a.tif": [10.0, 20.0], "b.tif": [3.0]})
    fewer = _write_analysis(tmp_path / "fewer", {"a.tif": [10.0], "b.tif": [3.0]})
    missing = _write_analysis(tmp_path / "missing", {"a.tif": [10.0, 20.0]})
    report = _wine_report()
    by_image = {image["image"]: image["ok"] for image in report.compare_analyze(linux, fewer)["images"]}
    assert by_image == {"a.tif": False, "b.tif": True}
    assert not report.compare_analyze(linux, missing)["ok"]


def test_installed_parts_group_libraries_with_their_package(tmp_path):
    app = tmp_path / "ParticleGUI"
    internal = app / "_internal"
    for name, size in {"scipy/linalg.pyd": 3_000_000, "scipy.libs/openblas.dll": 2_000_000,
                       "cv2/cv2.pyd": 4_000_000, "numpy-2.4.6.dist-info/LICENSE.txt": 100_000,
                       "python311.dll": 1_000_000}.items():
        (internal / name).parent.mkdir(parents=True, exist_ok=True)
        (internal / name).write_bytes(b"\0" * size)
    (app / "ParticleGUI.exe").write_bytes(b"\0" * 500_000)
    parts = {part["part"]: part["mb"] for part in _wine_report().installed_parts(app)}
    assert parts == {"scipy": 5.0, "opencv": 4.0, "Python and the C runtime": 1.0,
                     "the executable and uninstaller": 0.5, "package metadata and licences": 0.1}


def test_report_fails_when_the_setup_is_too_large(tmp_path):
    ecds = {"a.tif": [10.0]}
    installed = tmp_path / "installed"
    (installed / "_internal").mkdir(parents=True)
    (installed / "ParticleGUI.exe").write_bytes(b"\0" * 1000)
    setup = tmp_path / "ParticleGUI-0.1.0-Setup.exe"
    with open(setup, "wb") as handle:  # sparse: 121 MB without writing them
        handle.truncate(121_000_000)
    smoke = tmp_path / "smoke.json"
    smoke.write_text(json.dumps({"checks": {"gui start": {"ok": True, "detail": "2.50 s from launch"}}}))
    stages = tmp_path / "stages.tsv"
    stages.write_text("PyInstaller\t600\nInno Setup\t300\n")
    args = ["--out", str(tmp_path / "out"), "--installed-dir", str(installed), "--setup", str(setup),
            "--build-smoke", str(smoke), "--installed-smoke", str(smoke),
            "--linux-analyze", str(_write_analysis(tmp_path / "l", ecds)),
            "--windows-analyze", str(_write_analysis(tmp_path / "w", ecds)), "--stages", str(stages)]
    report = _wine_report()
    assert report.main(args) == 1
    figures = json.loads((tmp_path / "out" / "wine_build.json").read_text())
    assert figures["smoke_ok"] and figures["analyze_ok"] and not figures["targets_met"]
    assert (figures["setup_mb"], figures["minutes"], figures["cold_start_s"]) == (121.0, 15.0, 2.5)
    setup.unlink()
    with open(setup, "wb") as handle:
        handle.truncate(110_000_000)
    assert report.main(args) == 0


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(tmp_path) -> Path:
    """A repository with the packaging scripts, a pyproject.toml and a model file."""
    repo = tmp_path / "repo"
    (repo / "packaging" / "wine").mkdir(parents=True)
    shutil.copy(WINE / "ci_check.sh", repo / "packaging" / "wine" / "ci_check.sh")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / "particle_gui" / "models").mkdir(parents=True)
    (repo / "particle_gui" / "models" / "segmentation.onnx").write_bytes(b"model")
    (repo / "particle_gui" / "core.py").write_text("x = 1\n")
    _git("init", "-q", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start", cwd=repo)
    return repo


def _ci_check(repo: Path, **env: str) -> subprocess.CompletedProcess:
    # WINE_BUILD_OUT names no build: a decision to build shows as build.sh missing from this repository.
    return subprocess.run(["bash", "packaging/wine/ci_check.sh"], cwd=repo, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **env})


def _verify(repo: Path) -> None:
    digest = subprocess.run(["bash", "packaging/wine/ci_check.sh", "--hash"], cwd=repo, check=True,
                            capture_output=True, text=True).stdout.strip()
    (repo / "packaging" / "wine" / "verified_inputs.txt").write_text(f"# stamp\n{digest}\n")


def test_ci_builds_only_when_the_installer_inputs_change(clone):
    assert "runs" in _ci_check(clone).stdout  # never verified
    _verify(clone)
    unchanged = _ci_check(clone)
    assert unchanged.returncode == 0 and "not run" in unchanged.stdout
    (clone / "particle_gui" / "core.py").write_text("x = 2\n")  # app code: not an installer input
    (clone / "packaging" / "NOTES.md").write_text("# notes\n")  # nor are Markdown files
    assert "not run" in _ci_check(clone).stdout
    (clone / "particle_gui" / "models" / "segmentation.onnx").write_bytes(b"retrained")
    changed = _ci_check(clone)
    assert "runs" in changed.stdout and changed.returncode != 0  # build.sh is not in this test repository
    _verify(clone)
    (clone / "packaging" / "new_hook.py").write_text("hiddenimports = []\n")  # untracked files count too
    assert "runs" in _ci_check(clone).stdout
    assert "not run" in _ci_check(clone, WINE_BUILD="never").stdout


def test_ci_builds_on_a_release_tag(clone):
    _verify(clone)
    _git("tag", "v0.1.0", cwd=clone)
    assert "runs" in _ci_check(clone).stdout


def test_the_committed_stamp_is_a_hash():
    lines = [line for line in (WINE / "verified_inputs.txt").read_text().splitlines() if not line.startswith("#")]
    assert len(lines) == 1 and len(lines[0]) == 64 and int(lines[0], 16) >= 0


def test_build_script_is_valid_bash():
    for script in ("build.sh", "ci_check.sh", "harness/build_harness.sh"):
        subprocess.run(["bash", "-n", str(WINE / script)], check=True)


@pytest.mark.skipif(not (shutil.which("x86_64-w64-mingw32-gcc") and WINE_UCRTBASE.is_file()),
                    reason="needs mingw-w64 and Wine 8 (packaging/wine/build.sh installs both)")
def test_harness_ucrtbase_implements_the_stubs_and_forwards_the_rest(tmp_path):
    subprocess.run(["bash", str(WINE / "harness" / "build_harness.sh"), str(WINE_UCRTBASE), str(tmp_path)],
                   check=True, capture_output=True)
    exports = dict(line.strip().split("=", 1) for line in (tmp_path / "ucrtbase.def").read_text().splitlines()[2:])
    assert exports["crealf"] == "shim_crealf" and exports["feholdexcept"] == "shim_feholdexcept"
    assert exports["cexpf"] == "shim_cexpf" and exports["_FCbuild"] == "shim__FCbuild"
    assert exports["sqrt"] == "ucrtwine.sqrt" and exports["malloc"] == "ucrtwine.malloc"
    imports = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", str(tmp_path / "ucrtbase.dll")],
                             check=True, capture_output=True, text=True).stdout
    assert "DLL Name: ucrtbase" not in imports and "libgcc" not in imports
    assert (tmp_path / "icuuc.dll").is_file()


def test_no_harness_dll_is_listed_among_the_files_the_installer_carries():
    iss = (PACKAGING / "windows" / "particle_gui.iss").read_text()
    assert "ucrtwine" not in iss and "icuuc" not in iss
    assert "PrivilegesRequiredOverridesAllowed=commandline dialog" in iss  # /ALLUSERS from the command line
    assert ROOT.joinpath("packaging", "wine", "requirements-win.txt").read_text().count("==") >= 40


def test_smoke_test_retries_a_crashed_check_once_and_says_so(tmp_path, monkeypatch):
    smoke = load("smoke_test")
    folder = tmp_path / "ParticleGUI"  # an installed app's folder, as --installed takes it (Linux layout)
    folder.mkdir()
    (folder / "ParticleGUI").write_bytes(b"")
    calls = []

    def crashes_once(app, work, env):
        calls.append(app.gui)
        if len(calls) == 1:
            raise smoke.SmokeError(f"ParticleGUI --screenshot: exit code {smoke.ACCESS_VIOLATION}, expected 0")
        return "drawn"

    def wrong_output(app, work, env):
        raise smoke.SmokeError("ParticleGUI analyze: exit code 1, expected 0")

    monkeypatch.setattr(smoke, "CHECKS", {"window": crashes_once, "analyze": wrong_output})
    out = tmp_path / "out"
    assert smoke.main(["--installed", str(folder), "--out", str(out), "--retry-crashed", "--jobs", "1"]) == 1
    checks = json.loads((out / "smoke.json").read_text())["checks"]
    assert calls == [folder / "ParticleGUI"] * 2 and smoke.WORKER_OPTIONS == ["--jobs", "1"]
    assert checks["window"]["ok"] and "second try: the first crashed" in checks["window"]["detail"]
    assert not checks["analyze"]["ok"]  # a failure that is no crash is not tried again
    calls.clear()
    assert smoke.main(["--installed", str(folder), "--out", str(tmp_path / "again")]) == 1
    assert len(calls) == 1 and smoke.WORKER_OPTIONS == []
