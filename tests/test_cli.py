"""End-to-end tests of ``particle-gui analyze``: real files on disk, known answers.

The synthetic images are dark (about 40 of 255, with noise) with bright discs of a known
diameter on a grid away from the border, so every count and size is known exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image
from skimage.segmentation import find_boundaries

import particle_gui
from particle_gui.core.output.render import OUTLINE_RGBA
from particle_gui.cli import main
from particle_gui.core.output.batch import run_batch
from particle_gui.core.output.inputs import find_inputs, unique_stems
from particle_gui.core.errors import ExportError
from particle_gui.core.output.export import atomic_write_bytes, write_labels_tiff
from particle_gui.core.params import PipelineParams

REPO = Path(__file__).resolve().parents[1]
SIZE = 256
DIAMETER_PX = 20
GRID_CENTRES = [(48 + 53 * i, 48 + 53 * j) for i in range(4) for j in range(4)]  # 16 discs, 38 px from the border
N_DISCS = len(GRID_CENTRES)


def disc_image(centres, *, diameter=DIAMETER_PX, seed=0, size=SIZE, small_centres=(), small_diameter=8):
    """uint8 image: background ~40 with noise, discs ~200 with noise."""
    rng = np.random.default_rng(seed)
    image = 40.0 + rng.normal(0.0, 6.0, (size, size))
    yy, xx = np.mgrid[:size, :size]
    for radius, points in ((diameter / 2, centres), (small_diameter / 2, small_centres)):
        for cy, cx in points:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
            image[inside] = 200.0 + rng.normal(0.0, 6.0, int(inside.sum()))
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def with_data_bar(image, *, bar_px=100):
    """Black bottom 15 % with a white scale bar of ``bar_px`` pixels and white text-like blocks."""
    image = image.copy()
    top = int(round(image.shape[0] * 0.85))
    image[top:] = 0
    image[top + 20 : top + 24, 30 : 30 + bar_px] = 255
    for x in range(160, 230, 14):
        image[top + 10 : top + 18, x : x + 9] = 255
    return image, top


def analyze(*args) -> int:
    return main(["analyze", *map(str, args)])


def read_summary(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "summary.csv")


def row_for(summary: pd.DataFrame, image: str) -> pd.Series:
    rows = summary[summary["image"] == image]
    assert len(rows) == 1, summary
    return rows.iloc[0]


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """Two good images (TIFF, PNG), a corrupt TIFF, an empty PNG and a text file."""
    folder = tmp_path / "images"
    folder.mkdir()
    tifffile.imwrite(folder / "grid_a.tif", disc_image(GRID_CENTRES, seed=1))
    Image.fromarray(disc_image(GRID_CENTRES, seed=2)).save(folder / "grid_b.png")
    (folder / "bad.tif").write_bytes(np.random.default_rng(3).integers(0, 256, 100, dtype=np.uint8).tobytes())
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image\n")
    return folder


def test_batch_writes_outputs_and_reports_failures(mixed_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert analyze(mixed_folder, "--out", out, "--pixel-size", "2nm") == 1

    summary = read_summary(out)
    assert list(summary["image"]) == ["bad.tif", "empty.png", "grid_a.tif", "grid_b.png"]  # sorted; .txt skipped
    for name in ("bad.tif", "empty.png"):
        assert row_for(summary, name)["status"].startswith("failed: ")
    assert "empty" in row_for(summary, "empty.png")["status"]
    for name in ("grid_a.tif", "grid_b.png"):
        row = row_for(summary, name)
        assert row["status"] == "ok"
        assert row["n_particles"] == N_DISCS
        assert row["d50"] == pytest.approx(2.0 * DIAMETER_PX, rel=0.03)
        assert row["unit"] == "nm"
        assert row["calibration_source"] == "manual"
        assert row["pixel_size_nm"] == 2.0
        assert row["data_bar_rows"] == 0
        assert row["d50_ci_low"] <= row["d50"] <= row["d50_ci_high"]

        stem = Path(name).stem
        labels = tifffile.imread(out / f"{stem}_labels.tif")
        assert labels.dtype == np.uint16
        assert labels.shape == (SIZE, SIZE)
        assert np.count_nonzero(np.unique(labels)) == N_DISCS
        particles = pd.read_csv(out / f"{stem}_particles.csv")
        assert len(particles) == N_DISCS
        assert set(particles["id"]) == set(np.unique(labels[labels > 0]))
        assert particles["ecd_nm"].to_numpy() == pytest.approx(2.0 * DIAMETER_PX, rel=0.03)
        overlay = np.asarray(Image.open(out / f"{stem}_overlay.png"))
        assert overlay.shape == (SIZE, SIZE, 3) and overlay.dtype == np.uint8
        yellow = np.all(overlay == OUTLINE_RGBA[:3], axis=2)
        assert np.array_equal(yellow, find_boundaries(labels, mode="inner"))  # 1-px outlines, nothing else
        assert np.all(overlay[0, 0, 0] == overlay[0, 0])  # background stays grey

    record = json.loads((out / "run.json").read_text())
    assert record["version"] == particle_gui.__version__
    assert record["params"] == PipelineParams().to_dict()
    assert record["command_line"][:2] == ["particle-gui", "analyze"] and "--pixel-size" in record["command_line"]
    assert record["started_at"] and record["finished_at"]
    inputs = {Path(item["path"]).name: item for item in record["inputs"]}
    assert set(inputs) == {"bad.tif", "empty.png", "grid_a.tif", "grid_b.png"}
    for name, item in inputs.items():
        assert item["sha256"] == hashlib.sha256((mixed_folder / name).read_bytes()).hexdigest()
    assert inputs["grid_a.tif"]["calibration"] == {"pixel_size_nm": 2.0, "source": "manual", "detail": "given by the user"}
    assert inputs["bad.tif"]["calibration"] is None and inputs["bad.tif"]["status"].startswith("failed")
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_all_good_folder_exits_0_and_uncalibrated_sizes_are_pixels(tmp_path: Path) -> None:
    folder = tmp_path / "good"
    folder.mkdir()
    image = disc_image(GRID_CENTRES, seed=4)
    tifffile.imwrite(folder / "one.tif", image)
    tifffile.imwrite(folder / "deep.tif", image.astype(np.uint16) * 200 + 1000)  # 16-bit: stretched for display
    Image.fromarray(np.dstack([image, image, image // 2])).save(folder / "colour.png")
    out = tmp_path / "out"
    assert analyze(folder, "--out", out) == 0
    summary = read_summary(out)
    assert list(summary["image"]) == ["colour.png", "deep.tif", "one.tif"]
    for _, row in summary.iterrows():
        assert row["status"] == "ok" and row["n_particles"] == N_DISCS
        assert row["unit"] == "px" and row["calibration_source"] == "uncalibrated"
        assert pd.isna(row["pixel_size_nm"])
        assert row["d50"] == pytest.approx(DIAMETER_PX, rel=0.03)
        overlay = np.asarray(Image.open(out / f"{row['output_stem']}_overlay.png"))
        assert overlay.shape == (SIZE, SIZE, 3)
        background = overlay[5:30, 5:30, 0]
        assert 0 < background.mean() < 128 and overlay[48, 48, 0] > 150  # dark background, bright disc


def test_params_file_is_honoured(tmp_path: Path) -> None:
    small = [(75, 75), (75, 180), (180, 75), (180, 180)]  # 8-px discs (~50 px²) between the big ones
    image = tmp_path / "mixed.tif"
    tifffile.imwrite(image, disc_image(GRID_CENTRES, small_centres=small, seed=5))
    assert analyze(image, "--out", tmp_path / "default") == 0
    assert row_for(read_summary(tmp_path / "default"), "mixed.tif")["n_particles"] == N_DISCS + len(small)

    params_file = tmp_path / "params.json"
    params = PipelineParams.from_dict({"clean": {"min_area_px": 150.0}})
    params_file.write_text(params.to_json())
    out = tmp_path / "strict"
    assert analyze(image, "--out", out, "--params", params_file, "--method", "classical") == 0
    assert row_for(read_summary(out), "mixed.tif")["n_particles"] == N_DISCS
    assert json.loads((out / "run.json").read_text())["params"]["clean"]["min_area_px"] == 150.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--pixel-size", "abc"], "--pixel-size"),
        (["--pixel-size", "2.5"], "no unit"),
        (["--scale-bar", "0nm"], "must be positive"),
        (["--scale-bar", "200 parsecs"], "Unknown length unit"),
        (["--method", "magic"], "--method"),
        (["--params", "missing.json"], "Cannot read the parameter file"),
        (["--params", "broken.json"], "not valid JSON"),
        (["--params", "unknown.json"], "Unknown parameter"),
    ],
)
def test_argument_errors_exit_2(tmp_path: Path, capsys, extra, message) -> None:
    image = tmp_path / "one.tif"
    tifffile.imwrite(image, disc_image(GRID_CENTRES))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "unknown.json").write_text('{"clean": {"min_area": 5}}')
    extra = [str(tmp_path / arg) if arg.endswith(".json") else arg for arg in extra]
    assert analyze(image, "--out", tmp_path / "out", *extra) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_no_images_and_bad_out_exit_2(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("nothing here")
    assert analyze(empty, "--out", tmp_path / "out") == 2
    assert "no images found" in capsys.readouterr().err
    image = tmp_path / "one.tif"
    tifffile.imwrite(image, disc_image(GRID_CENTRES))
    assert analyze(image, "--out", image) == 2
    assert "not a folder" in capsys.readouterr().err


def test_data_bar_is_excluded_and_scale_bar_calibrates(tmp_path: Path) -> None:
    centres = [(40 + 50 * i, 48 + 53 * j) for i in range(3) for j in range(4)]  # clear of the bar
    image, bar_top = with_data_bar(disc_image(centres, seed=6), bar_px=100)
    path = tmp_path / "sem.tif"
    tifffile.imwrite(path, image)
    out = tmp_path / "out"
    assert analyze(path, "--out", out, "--scale-bar", "500nm") == 0

    row = row_for(read_summary(out), "sem.tif")
    assert row["status"] == "ok" and row["n_particles"] == len(centres)
    assert row["pixel_size_nm"] == pytest.approx(5.0)
    assert row["calibration_source"] == "scale_bar"
    assert row["scale_bar_px"] == 100
    assert row["data_bar_rows"] == SIZE - bar_top
    assert row["d50"] == pytest.approx(5.0 * DIAMETER_PX, rel=0.03)
    labels = tifffile.imread(out / "sem_labels.tif")
    assert labels.shape == image.shape
    assert not labels[bar_top:].any()
    overlay = np.asarray(Image.open(out / "sem_overlay.png")).astype(int)
    assert np.all(overlay[bar_top:, :, 2] > overlay[bar_top:, :, 0])  # the bar is tinted blue
    calibration = json.loads((out / "run.json").read_text())["inputs"][0]["calibration"]
    assert calibration["source"] == "scale_bar" and calibration["pixel_size_nm"] == pytest.approx(5.0)


def test_scale_bar_length_without_a_bar_fails_the_row_unless_a_pixel_size_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, disc_image(GRID_CENTRES, seed=7))
    out = tmp_path / "out"
    assert analyze(path, "--out", out, "--scale-bar", "500nm") == 1
    row = row_for(read_summary(out), "plain.tif")
    assert "no scale bar was found" in row["status"] and "--pixel-size" in row["status"]
    assert analyze(path, "--out", out, "--scale-bar", "500nm", "--pixel-size", "2nm") == 0
    row = row_for(read_summary(out), "plain.tif")
    assert row["calibration_source"] == "manual" and row["pixel_size_nm"] == 2.0


def test_image_without_particles_is_ok_with_zero(tmp_path: Path) -> None:
    path = tmp_path / "blank.tif"
    tifffile.imwrite(path, np.full((128, 160), 90, np.uint8))
    out = tmp_path / "out"
    assert analyze(path, "--out", out, "--pixel-size", "2nm") == 0
    row = row_for(read_summary(out), "blank.tif")
    assert row["status"] == "ok" and row["n_particles"] == 0
    assert pd.isna(row["d50"]) and row["unit"] == "nm"
    assert "No particles" in row["warnings"]
    labels = tifffile.imread(out / "blank_labels.tif")
    assert labels.shape == (128, 160) and labels.dtype == np.uint16 and not labels.any()
    assert len(pd.read_csv(out / "blank_particles.csv")) == 0
    assert np.asarray(Image.open(out / "blank_overlay.png")).shape == (128, 160, 3)


def test_same_stem_from_two_folders_is_not_overwritten(tmp_path: Path) -> None:
    for folder, count in (("day1", 16), ("day2", 9)):
        (tmp_path / folder).mkdir()
        tifffile.imwrite(tmp_path / folder / "sample.tif", disc_image(GRID_CENTRES[:count], seed=count))
    out = tmp_path / "out"
    assert analyze(tmp_path / "day1", tmp_path / "day2", "--out", out) == 0
    summary = read_summary(out)
    assert list(summary["output_stem"]) == ["sample", "sample_2"]
    assert list(summary["n_particles"]) == [16, 9]
    assert len(pd.read_csv(out / "sample_particles.csv")) == 16
    assert len(pd.read_csv(out / "sample_2_particles.csv")) == 9
    assert np.unique(tifffile.imread(out / "sample_2_labels.tif")).size == 10


def test_explicit_file_is_attempted_whatever_its_suffix(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    good = tmp_path / "good.png"
    Image.fromarray(disc_image(GRID_CENTRES)).save(good)
    out = tmp_path / "out"
    assert analyze(text_file, good, tmp_path / "missing.tif", "--out", out) == 1
    summary = read_summary(out)
    assert row_for(summary, "notes.txt")["status"].startswith("failed: ")
    assert "not found" in row_for(summary, "missing.tif")["status"]
    assert row_for(summary, "good.png")["n_particles"] == N_DISCS


def test_python_m_entry_point(tmp_path: Path) -> None:
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, disc_image(GRID_CENTRES, seed=8))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "particle_gui", "analyze", str(path), "--out", str(out), "--pixel-size", "2nm"]
    completed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert row_for(read_summary(out), "one.tif")["n_particles"] == N_DISCS
    version = subprocess.run([sys.executable, "-m", "particle_gui", "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"particle-gui {particle_gui.__version__}"


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"particle-gui {particle_gui.__version__}"


@pytest.mark.parametrize("argv", [[], ["image.tif"]])
def test_gui_unavailable_message(monkeypatch, capsys, argv) -> None:
    monkeypatch.setitem(sys.modules, "particle_gui.gui", None)  # makes the import fail
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not available" in err and "particle-gui analyze" in err


def test_run_batch_reports_progress_and_stops_when_cancelled(tmp_path: Path) -> None:
    paths = []
    for index in range(3):
        paths.append(tmp_path / f"img{index}.tif")
        tifffile.imwrite(paths[-1], disc_image(GRID_CENTRES[: 4 + index], seed=index))
    out = tmp_path / "out"
    out.mkdir()
    calls = []
    report = run_batch(
        paths, out, PipelineParams(),
        progress=lambda done, total, outcome: calls.append((done, total, outcome and outcome.row["n_particles"])),
        should_cancel=lambda: len(calls) > 2,
    )
    assert calls == [(0, 3, None), (1, 3, 4), (2, 3, 5)]
    assert report.cancelled and report.failed == 0 and len(report.outcomes) == 2
    assert len(read_summary(out)) == 2
    assert json.loads((out / "run.json").read_text())["cancelled"] is True


def test_find_inputs_and_unique_stems(tmp_path: Path) -> None:
    (tmp_path / "b.TIF").write_bytes(b"x")
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / ".hidden.tif").write_bytes(b"x")
    (tmp_path / "c.csv").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.tif").write_bytes(b"x")
    found = find_inputs([tmp_path, tmp_path / "a.png"])  # a.png appears once
    assert [p.name for p in found] == ["a.png", "b.TIF"]
    assert unique_stems([Path("x/A.tif"), Path("y/a.png"), Path("a_2.tif")]) == ["A", "a_2", "a_2_2"]


def test_atomic_write_and_export_errors(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]
    with pytest.raises(ExportError, match="Cannot write"):
        atomic_write_bytes(target / "inside-a-file.bin", b"data")  # parent is a file
    big = np.zeros((4, 5), np.int64)
    big[1, 1] = 70_000
    write_labels_tiff(tmp_path / "big.tif", big)
    assert tifffile.imread(tmp_path / "big.tif").dtype == np.uint32


def test_version_and_help_answer_without_importing_the_engine() -> None:
    code = (
        "import sys\n"
        "from particle_gui.cli import main\n"
        "codes = [main(['--version']), main(['analyze', '--help'])]\n"
        "heavy = [m for m in ('particle_gui.core.analysis.pipeline', 'scipy', 'pandas', 'cv2', 'onnxruntime') if m in sys.modules]\n"
        "print(codes, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[0, 0] []"
