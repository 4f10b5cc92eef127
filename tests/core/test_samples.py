"""Samples: grouping folders into samples, analysing images into records, pooling by unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from particle_gui.core.output.render import OUTLINE_RGBA
from particle_gui.core.output import samples as samples_module
from particle_gui.core.output.batch import ImageOutcome
from particle_gui.core.io.calibration import UNCALIBRATED, Calibration
from particle_gui.core.params import PipelineParams
from particle_gui.core.output.samples import (
    ImageRecord, analyse_image, folder_names, image_rows, pool_sample, sample_row, samples_from_folder,
)


def lognormal_disc_image(median_px: float, *, seed: int, size: int = 256, count: int = 40, sigma: float = 0.15):
    """uint8 image: background ~40 with noise, up to ``count`` separated bright discs (~200) whose
    diameters are log-normal with the given median; returns the image and the true diameters."""
    rng = np.random.default_rng(seed)
    image = 40.0 + rng.normal(0.0, 6.0, (size, size))
    yy, xx = np.mgrid[:size, :size]
    placed: list[tuple[float, float, float]] = []
    for _ in range(3000):
        if len(placed) == count:
            break
        radius = float(rng.lognormal(np.log(median_px), sigma)) / 2
        cy, cx = rng.uniform(radius + 3, size - radius - 3, 2)
        if all(np.hypot(cy - y, cx - x) > radius + r + 4 for y, x, r in placed):
            placed.append((cy, cx, radius))
    for cy, cx, radius in placed:
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
        image[inside] = 200.0 + rng.normal(0.0, 6.0, int(inside.sum()))
    return np.clip(image + 0.5, 0, 255).astype(np.uint8), np.array([2 * r for _, _, r in placed])


def test_samples_from_folder(tmp_path: Path) -> None:
    for name in ("beta", "alpha", ".hidden", "empty"):
        (tmp_path / name).mkdir()
    for path in ("alpha/2.tif", "alpha/1.png", "beta/x.tif", ".hidden/h.tif", "loose.tif", "alpha/notes.txt"):
        (tmp_path / path).write_bytes(b"x")
    found = samples_from_folder(tmp_path)
    assert list(found) == ["alpha", "beta"]  # sorted; hidden and image-less folders skipped; loose.tif left out
    assert [p.name for p in found["alpha"]] == ["1.png", "2.tif"]

    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.tif").write_bytes(b"x")
    assert {k: [p.name for p in v] for k, v in samples_from_folder(flat).items()} == {"flat": ["a.tif"]}
    assert samples_from_folder(tmp_path / "empty") == {}


def test_folder_names_are_safe_and_unique() -> None:
    assert folder_names(["A", "a", "x/y", "", "a:b", "A"]) == ["A", "a_2", "x_y", "sample", "a_b", "A_3"]


def particles(diameters_px, *, pixel_size_nm: float | None = None) -> pd.DataFrame:
    d = np.asarray(diameters_px, dtype=float)
    table = pd.DataFrame({"id": np.arange(1, d.size + 1), "ecd": d, "circularity": 0.9, "feret_ratio": 1.1})
    if pixel_size_nm is not None:
        table["ecd_nm"] = d * pixel_size_nm
    return table


def record(name: str, diameters_px, calibration: Calibration | None, *, error: str | None = None) -> ImageRecord:
    outcome = ImageOutcome(path=Path(f"/data/{name}"), stem=Path(name).stem, row={"image": name, "status": "ok"},
                           calibration=calibration, error=error)
    if error is not None:
        return ImageRecord(sample="S", outcome=outcome)
    nm = calibration.pixel_size_nm if calibration is not None else None
    return ImageRecord(sample="S", outcome=outcome, particles=particles(diameters_px, pixel_size_nm=nm))


def test_pool_sample_keeps_one_unit_and_says_what_it_left_out() -> None:
    two_nm = Calibration(2.0, "manual")
    images = [
        record("a.tif", [10, 12, 14], two_nm),
        record("b.tif", [11, 13], Calibration(3.0, "metadata")),
        record("c.tif", [50, 60], UNCALIBRATED),
        record("bad.tif", [], None, error="broken"),
    ]
    sample = pool_sample("S", images)
    assert sample.unit == "nm" and sample.excluded == ("c.tif",)
    assert [r.name for r in sample.pooled] == ["a.tif", "b.tif"] and [r.name for r in sample.failed] == ["bad.tif"]
    assert sample.diameters().tolist() == [20, 24, 28, 33, 39]  # each image in its own pixel size
    assert list(sample.particles.columns[:2]) == ["image", "id"]
    assert sample.particles["image"].tolist() == ["a.tif"] * 3 + ["b.tif"] * 2
    assert sample.summary.count == 5 and sample.summary.unit == "nm" and sample.summary.d50 == 28
    assert len(sample.warnings) == 2 and "c.tif" in sample.warnings[0] and "left out" in sample.warnings[0]
    assert "fewer than 3 usable images" in sample.warnings[1]  # two images: no image-level interval

    pixels = pool_sample("P", [record("c.tif", [50, 60], UNCALIBRATED)])
    assert pixels.unit == "px" and pixels.diameters().tolist() == [50, 60]
    assert "uncalibrated" in pixels.warnings[0]
    nothing = pool_sample("N", [record("bad.tif", [], None, error="broken")])
    assert nothing.unit is None and nothing.summary.count == 0 and nothing.diameters().size == 0
    assert "no image could be analysed" in nothing.warnings[-1]


def test_summary_rows_per_image_and_per_sample() -> None:
    sample = pool_sample("S", [record("a.tif", [10, 12, 14, 16, 18, 20], Calibration(2.0, "manual")),
                               record("c.tif", [50], UNCALIBRATED), record("bad.tif", [], None, error="broken")])
    rows = image_rows([sample])
    assert [(r["image"], r["pooled"], r["manual_edits"], r["level"]) for r in rows] == [
        ("a.tif", True, 0, "image"), ("c.tif", False, 0, "image"), ("bad.tif", False, 0, "image")]
    row = sample_row(sample)
    assert row["level"] == "sample" and row["n_particles"] == 6 and row["unit"] == "nm"
    assert (row["images"], row["images_analysed"], row["images_failed"], row["images_pooled"]) == (3, 2, 1, 1)
    assert row["d50"] == 30 and row["d50_ci_low"] <= 30 <= row["d50_ci_high"] and row["manual_edits"] == 0


def test_analyse_image_writes_outputs_and_small_previews(tmp_path: Path, monkeypatch) -> None:
    image, truth = lognormal_disc_image(16, seed=3)
    path = tmp_path / "img.tif"
    tifffile.imwrite(path, image)
    monkeypatch.setattr(samples_module, "PREVIEW_MAX_PX", 128)
    result = analyse_image("S", path, "img", tmp_path, PipelineParams(), pixel_size_nm=2.0)
    assert result.ok and result.unit == "nm" and result.image_shape == (256, 256)
    assert len(result.particles) == truth.size
    assert np.median(result.diameters()) == pytest.approx(2 * np.median(truth), rel=0.05)
    assert result.preview.shape == (128, 128) and result.overlay_preview.shape == (128, 128, 3)
    assert np.all(result.overlay_preview == OUTLINE_RGBA[:3], axis=2).any()  # outlines drawn at preview size
    assert sorted(p.name for p in result.outcome.outputs) == ["img_labels.tif", "img_overlay.png", "img_particles.csv"]
    assert all(p.exists() for p in result.outcome.outputs)

    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00 not really a tiff")
    failed = analyse_image("S", broken, "broken", tmp_path, PipelineParams())
    assert not failed.ok and failed.outcome.row["status"].startswith("failed: ") and failed.particles is None
    assert failed.outcome.sha256 is not None and failed.diameters().size == 0
