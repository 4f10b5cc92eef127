"""``particle-gui analyze --method dl`` end to end, and its message when the model is unusable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import tifffile

from particle_gui.cli import main
from particle_gui.core.network import dl
from tests.test_cli import GRID_CENTRES, N_DISCS, disc_image


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    tifffile.imwrite(folder / "discs.tif", disc_image(GRID_CENTRES, diameter=24))
    return folder


def test_analyze_with_dl_counts_discs(image_folder, tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(image_folder), "--out", str(out), "--method", "dl"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "status"] == "ok"
    assert abs(int(summary.loc[0, "n_particles"]) - N_DISCS) <= 1
    assert '"method": "dl"' in (out / "run.json").read_text()


def test_analyze_with_missing_model_is_a_usage_error(image_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dl, "MODEL_PATH", tmp_path / "nowhere.onnx")
    monkeypatch.setattr(dl, "_MODELS", {})
    assert main(["analyze", str(image_folder), "--out", str(tmp_path / "out"), "--method", "dl"]) == 2
    assert "missing" in capsys.readouterr().err
    assert main(["analyze", str(image_folder), "--out", str(tmp_path / "out2")]) == 0  # classical still works


def test_expected_diameter_reaches_the_network_and_is_recorded(image_folder, tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(image_folder), "--out", str(out), "--method", "dl", "--expected-diameter", "24px"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert abs(int(summary.loc[0, "n_particles"]) - N_DISCS) <= 1
    assert '"expected_diameter_px": 24.0' in (out / "run.json").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "dl", "--expected-diameter", "-3"], "plausible"),
        (["--method", "dl", "--expected-diameter", "99999"], "outside"),
        (["--method", "dl", "--expected-diameter", "big"], "not a number of pixels"),
        (["--expected-diameter", "24"], "--method dl only"),
    ],
)
def test_bad_expected_diameter_is_a_usage_error(image_folder, tmp_path, capsys, extra, message):
    assert main(["analyze", str(image_folder), "--out", str(tmp_path / "out"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "summary.csv").exists()
