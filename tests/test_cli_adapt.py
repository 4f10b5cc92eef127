"""``particle-gui adapt`` and ``--profile`` end to end: real files, the known answer of touching pairs."""

from __future__ import annotations

import json

import numpy as np
import tifffile
from PIL import Image

from particle_gui.cli import main
from particle_gui.core.adapt.agreement import agreement
from synthetic.known_shapes import touching_pairs


def _folder(tmp_path):
    images, labels = tmp_path / "images", tmp_path / "corrected"
    images.mkdir()
    labels.mkdir()
    truths = {}
    for seed, stem in enumerate(("a", "b")):
        grey, truth = touching_pairs(seed)
        Image.fromarray((grey * 255).round().astype(np.uint8)).save(images / f"{stem}.png")
        truths[stem] = truth
    tifffile.imwrite(labels / "a_labels.tif", truths["a"].astype(np.uint16))
    return images, labels, truths


def test_adapt_then_analyze_with_the_profile(tmp_path, capsys):
    images, labels, truths = _folder(tmp_path)
    profile = tmp_path / "profile.json"
    assert main(["adapt", str(images), "--labels", str(labels), "--out", str(profile), "--seconds", "120"]) == 0
    out = capsys.readouterr().out
    assert "On the corrected images: F1 0.67 -> 1.00" in out and "Correct a second image" in out
    saved = json.loads(profile.read_text())
    assert saved["method"] == "classical" and saved["images"][0]["name"] == "a.png" and len(saved["images"][0]["sha256"]) == 64
    assert main(["analyze", str(images / "b.png"), "--profile", str(profile), "--out", str(tmp_path / "out")]) == 0
    found = tifffile.imread(tmp_path / "out" / "b_labels.tif")
    assert agreement(truths["b"], found).f1 == 1.0  # the image the profile never saw
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["adapted_profile"]["path"] == str(profile.resolve()) and run["adapted_profile"]["images"][0]["name"] == "a.png"
    assert main(["analyze", str(images / "b.png"), "--out", str(tmp_path / "plain")]) == 0
    assert agreement(truths["b"], tifffile.imread(tmp_path / "plain" / "b_labels.tif")).f1 < 0.75


def test_adapt_and_profile_usage_errors(tmp_path, capsys):
    images, labels, _ = _folder(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["adapt", str(images), "--labels", str(empty), "--out", str(tmp_path / "p.json")]) == 2
    assert "No corrections in" in capsys.readouterr().err
    params = tmp_path / "params.json"
    params.write_text("{}")
    assert main(["analyze", str(images), "--profile", str(params), "--out", str(tmp_path / "o")]) == 2
    assert "not an adapted profile" in capsys.readouterr().err
    assert main(["analyze", str(images), "--profile", str(params), "--params", str(params), "--out", str(tmp_path / "o")]) == 2
    assert "not both" in capsys.readouterr().err


def test_report_records_the_profile(tmp_path):
    images, labels, _ = _folder(tmp_path)
    profile = tmp_path / "profile.json"
    assert main(["adapt", str(images), "--labels", str(labels), "--out", str(profile), "--seconds", "60",
                 "--no-held-out"]) == 0
    assert main(["report", str(images), "--profile", str(profile), "--out", str(tmp_path / "report")]) == 0
    comparison = json.loads((tmp_path / "report" / "comparison.json").read_text())
    assert comparison["adapted_profile"]["images"][0]["name"] == "a.png"
    summary = (tmp_path / "report" / "images" / "summary.csv").read_text()
    assert "suspect_particles" in summary.splitlines()[0]
