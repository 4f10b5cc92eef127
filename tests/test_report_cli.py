"""End-to-end tests of ``particle-gui report`` and :func:`build_report` on known synthetic samples.

Three samples of three 256x256 images each, with separated bright discs whose diameters are
log-normal with medians of 16, 16 and 24 px (2 nm/px): C is larger than A and B by about 50 %,
A and B do not differ. Sample B also holds a corrupt TIFF.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tifffile

from particle_gui.cli import main
from particle_gui.core.statistics.compare import format_length
from particle_gui.core.errors import CancelledError
from particle_gui.core.params import PipelineParams
from particle_gui.core.output.report import build_report, excel_sheet_names
from particle_gui.core.output.samples import samples_from_folder
from tests.core.test_samples import lognormal_disc_image

REPO = Path(__file__).resolve().parents[1]
MEDIANS_PX = {"A": 16, "B": 16, "C": 24}
IMAGES_PER_SAMPLE = 3


def make_samples(root: Path, medians=MEDIANS_PX, *, images: int = IMAGES_PER_SAMPLE, count: int = 40) -> Path:
    for index, (name, median) in enumerate(medians.items()):
        (root / name).mkdir(parents=True)
        for i in range(images):
            image, _ = lognormal_disc_image(median, seed=100 * index + i, count=count)
            tifffile.imwrite(root / name / f"{name.lower()}{i}.tif", image)
    return root


def run_cli(*args) -> tuple[int, str]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["report", *map(str, args)])
    return code, stdout.getvalue()


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[int, str, Path, Path]:
    root = make_samples(tmp_path_factory.mktemp("data") / "study")
    (root / "B" / "broken.tif").write_bytes(b"II*\x00 this is not a TIFF")
    out = tmp_path_factory.mktemp("out") / "report"
    code, stdout = run_cli(root, "--out", out, "--pixel-size", "2nm")
    return code, stdout, root, out


def test_known_samples_give_the_right_verdicts(report) -> None:
    code, stdout, _, out = report
    assert code == 1  # the corrupt image failed; the report was still built
    record = json.loads((out / "comparison.json").read_text())
    (comparison,) = record["comparisons"]
    assert comparison["unit"] == "nm" and comparison["samples"] == ["A", "B", "C"]
    assert comparison["kruskal_pvalue"] < 0.05
    pairs = {(p["first"], p["second"]): p for p in comparison["pairs"]}
    assert pairs["A", "B"]["larger"] is None
    assert pairs["A", "B"]["verdict"].startswith("A and B do not differ detectably")
    for other in ("A", "B"):
        pair = pairs[other, "C"]
        assert pair["larger"] == "C" and pair["tukey_pvalue"] < 0.05
        assert pair["verdict"].startswith(f"C is larger than {other} (median ")
        assert pair["change_percent"] == pytest.approx(50, abs=12)
    lines = stdout.splitlines()
    assert lines == record["verdicts"] and any(line.startswith("C is larger than A") for line in lines)
    medians = {row["sample"]: row["d50"] for row in record["samples"]}
    for name, median_px in MEDIANS_PX.items():
        assert medians[name] == pytest.approx(2.0 * median_px, rel=0.08)


def test_outputs_per_sample_and_failed_image_listed(report) -> None:
    *_, out = report
    for name in MEDIANS_PX:
        for i in range(IMAGES_PER_SAMPLE):
            for suffix in ("_labels.tif", "_particles.csv", "_overlay.png"):
                assert (out / name / f"{name.lower()}{i}{suffix}").is_file()
        summary = pd.read_csv(out / name / "summary.csv")
        assert len(summary) == IMAGES_PER_SAMPLE + (name == "B")
        assert json.loads((out / name / "run.json").read_text())["params"] == PipelineParams().to_dict()
    record = json.loads((out / "comparison.json").read_text())
    broken = [row for row in record["images"] if row["image"] == "broken.tif"]
    assert len(broken) == 1 and broken[0]["status"].startswith("failed: ") and broken[0]["sample"] == "B"
    assert all(row["manual_edits"] == 0 for row in record["images"])
    assert record["version"] and record["params"] == PipelineParams().to_dict()
    assert record["command_line"][:2] == ["particle-gui", "report"]
    assert not [p for p in out.rglob(".*")]  # no temporary files left


def test_pdf_pages_and_text(report) -> None:
    _, _, _, out = report
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    images_ok = 3 * IMAGES_PER_SAMPLE
    expected_pages = 2 + 1 + len(MEDIANS_PX) + images_ok  # summary, provenance, comparison, samples, images
    text = pdf_text(out / "report.pdf")
    assert text.count("\f") == expected_pages  # pdftotext ends every page with a form feed
    record = json.loads((out / "comparison.json").read_text())
    for row in record["samples"]:
        assert format_length(row["d50"], "nm") in text
    flat = " ".join(text.split())
    for verdict in record["verdicts"]:
        assert verdict in flat
    assert "B/broken.tif: failed:" in flat
    assert "no manual edits" in flat and "2 nm/px from manual" in flat
    assert "particle-gui 0.1.0" in flat and "split.min_distance_px = " in flat  # provenance: version, parameters
    pages = text.split("\f")
    assert pages[3].lstrip().startswith("Sample A") and pages[4].lstrip().startswith("A / a0.tif")


def test_excel_has_one_sheet_per_sample(report) -> None:
    _, _, _, out = report
    sheets = pd.read_excel(out / "report.xlsx", sheet_name=None)
    assert list(sheets) == ["summary", "comparison", "A", "B", "C"]
    record = json.loads((out / "comparison.json").read_text())
    for row in record["samples"]:
        particles = sheets[row["sample"]]
        assert len(particles) == row["n_particles"] > 100
        assert particles.columns[0] == "image" and "ecd_nm" in particles.columns
    summary = sheets["summary"]
    assert list(summary["level"]).count("image") == 10 and list(summary["level"]).count("sample") == 3
    assert "C is larger than A" in " ".join(sheets["comparison"]["verdict"].dropna())


def test_single_folder_without_subfolders_is_one_sample(tmp_path: Path) -> None:
    folder = tmp_path / "only"
    folder.mkdir()
    image, _ = lognormal_disc_image(16, seed=7, count=12)
    tifffile.imwrite(folder / "one.tif", image)
    code, stdout = run_cli(folder, "--out", tmp_path / "out")
    assert code == 0
    assert stdout.strip() == "Only one sample: nothing to compare."
    record = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert [row["sample"] for row in record["samples"]] == ["only"] and record["samples"][0]["unit"] == "px"
    assert (tmp_path / "out" / "only" / "one_overlay.png").is_file()
    assert any("only 12 particles" in w for w in record["warnings"])  # unstable D50
    assert any("uncalibrated" in w for w in record["warnings"])
    text = pdf_text(tmp_path / "out" / "report.pdf")
    assert text.count("\f") == 2 + 0 + 1 + 1
    assert "Sample only: only 12 particles; D50 95 % CI is ±" in " ".join(text.split())


def test_usage_errors_exit_2(tmp_path: Path, capsys) -> None:
    image, _ = lognormal_disc_image(16, seed=8, count=5)
    (tmp_path / "data" / "A").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data" / "A" / "a.tif", image)
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    cases = [
        ([tmp_path / "missing", "--out", tmp_path / "o"], "is not a folder"),
        ([tmp_path / "empty", "--out", tmp_path / "o"], "no images found"),
        ([tmp_path / "data", "--out", tmp_path / "o", "--pixel-size", "2"], "no unit"),
        ([tmp_path / "data", "--out", tmp_path / "file.txt"], "not a folder"),
        ([tmp_path / "data", "--out", tmp_path / "data"], "holds the sample folder"),
        ([tmp_path / "data", "--out", tmp_path / "o", "--params", tmp_path / "file.txt"], "not valid JSON"),
        ([tmp_path / "data"], "--out"),
    ]
    for args, message in cases:
        assert run_cli(*args)[0] == 2, args
        assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_units_are_not_mixed_and_progress_and_cancel(tmp_path: Path) -> None:
    """Sample A is calibrated by ImageJ metadata, B is not: they are not compared, and B's px
    sizes never enter A's nm pool."""
    root = make_samples(tmp_path / "data", {"A": 16, "B": 24}, images=2, count=15)
    image, _ = lognormal_disc_image(16, seed=9, count=15)
    for path in (root / "A").iterdir():
        tifffile.imwrite(path, tifffile.imread(path), imagej=True, resolution=(0.5, 0.5), metadata={"unit": "nm"})
    tifffile.imwrite(root / "A" / "plain.tif", image)  # uncalibrated, in a calibrated sample
    calls = []
    result = build_report(samples_from_folder(root), tmp_path / "out", PipelineParams(),
                          progress=lambda done, total, message: calls.append((done, total)))
    assert [s.unit for s in result.samples] == ["nm", "px"] and result.comparisons == ()
    assert result.samples[0].excluded == ("plain.tif",)
    assert any("left out of its pooled nm distribution" in w for w in result.warnings)
    assert any("not compared with calibrated" in w for w in result.warnings)
    assert result.pages == 2 + 0 + 2 + 5 and result.timings_s["total"] > 0
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[0][0] == 0 and calls[-1][0] == calls[-1][1]
    assert {t for _, t in calls} == {2 * 5 + 2 + 5}

    with pytest.raises(CancelledError):
        build_report({"A": sorted((root / "A").iterdir())}, tmp_path / "cancelled", PipelineParams(),
                     should_cancel=lambda: True)
    assert not (tmp_path / "cancelled" / "report.pdf").exists()
    with pytest.raises(ValueError):
        build_report({}, tmp_path / "none", PipelineParams())


def test_excel_sheet_names() -> None:
    assert excel_sheet_names(["Summary", "a[1]", "x" * 40, "x" * 40]) == \
        ["Summary_2", "a_1_", "x" * 31, "x" * 29 + "_2"]


def test_report_uses_neither_pyplot_nor_qt() -> None:
    probe = (
        "import sys\n"
        "from particle_gui.core.output.report_pdf import ReportContent, render_pdf\n"
        "pdf = render_pdf(ReportContent('t', 'now', (), (), (), ()))\n"
        "loaded = [m for m in sys.modules if m == 'matplotlib.pyplot' or m.split('.')[0] in ('PySide6', 'pyqtgraph')]\n"
        "print(pdf[:5].decode(), loaded)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "%PDF- []"
