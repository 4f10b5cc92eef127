"""Montages read by windows and analysed in tiles: the same particles as the image analysed whole."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile
from scipy.spatial import cKDTree

from particle_gui.cli import main
from particle_gui.core.analysis.montage import LabelStore, analyse_montage, plan_tiles
from particle_gui.core.errors import CancelledError, ImageLoadError
from particle_gui.core.io.calibration import UNCALIBRATED
from particle_gui.core.io.montage_source import open_montage, tiff_pixel_count
from particle_gui.core.output.batch import analyze_file, run_batch
from particle_gui.core.params import PipelineParams
from synthetic.particle_images import particle_image

TILE, OVERLAP = 512, 64


@pytest.fixture(scope="module")
def montage(tmp_path_factory):
    """A 1300 x 1700 8-bit image of 420 separate particles (some cut by the border, many on seams)."""
    grey, truth = particle_image(1300, 1700, 420, seed=11, touching_fraction=0.0, diameter_range=(14.0, 40.0))
    path = tmp_path_factory.mktemp("montage") / "montage.tif"
    tifffile.imwrite(path, np.rint(grey * 255).astype(np.uint8))
    return path, truth


def _pairs(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    distance, index = cKDTree(b[["centroid_y", "centroid_x"]].to_numpy()).query(a[["centroid_y", "centroid_x"]].to_numpy())
    return distance, index


def test_tiles_cover_every_pixel_once_and_windows_reach_the_overlap():
    tiles = plan_tiles((1000, 1300), tile_px=300, overlap_px=40)
    cover = np.zeros((1000, 1300), int)
    for tile in tiles:
        top, bottom, left, right = tile.core
        cover[top:bottom, left:right] += 1
        w_top, w_bottom, w_left, w_right = tile.window
        assert (w_top, w_left) == (max(0, top - 40), max(0, left - 40))
        assert (w_bottom, w_right) == (min(1000, bottom + 40), min(1300, right + 40))
    assert (cover == 1).all()
    assert len(tiles) == 4 * 5
    with pytest.raises(ValueError, match="at least 64"):
        plan_tiles((100, 100), tile_px=10)


@pytest.mark.parametrize("layout", [{}, {"tile": (128, 128), "compression": "zlib"},
                                    {"rowsperstrip": 37, "compression": "zlib"}, {"bigtiff": True}])
def test_windows_read_back_the_stored_values(tmp_path, layout):
    rng = np.random.default_rng(0)
    grey16 = rng.integers(100, 60000, (500, 700), dtype=np.uint16)
    colour = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    for name, data in (("grey16", grey16), ("colour", colour)):
        path = tmp_path / f"{name}.tif"
        tifffile.imwrite(path, data, **layout)
        source = open_montage(path)
        assert source.shape == data.shape[:2]
        assert np.array_equal(source.read(17, 290, 33, 351), data[17:290, 33:351])
        assert tiff_pixel_count(path) == data.shape[0] * data.shape[1]
    source = open_montage(tmp_path / "grey16.tif")
    # The whole image's range: the window's grey is scaled as the whole image would be.
    assert (source.intensity_offset, source.intensity_scale) == (float(grey16.min()), float(grey16.max() - grey16.min()))
    window = source.grey(0, 10, 0, 10)
    assert np.allclose(window, (grey16[:10, :10] - grey16.min()) / (grey16.max() - grey16.min()), atol=1e-6)


def test_not_a_montage_says_why(tmp_path):
    text = tmp_path / "notes.tif"
    text.write_text("not an image")
    assert tiff_pixel_count(text) is None
    with pytest.raises(ImageLoadError, match="notes.tif"):
        open_montage(text)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.zeros((3, 40, 50), np.uint8), planarconfig="separate", photometric="rgb")
    with pytest.raises(ImageLoadError, match="plane by plane"):
        open_montage(stack)


def test_tiled_analysis_finds_the_same_particles_as_the_whole_image(montage, tmp_path):
    path, truth = montage
    _, whole, _ = analyze_file(path, PipelineParams())
    source = open_montage(path)
    store = LabelStore(tmp_path / "labels.raw", source.shape)
    tiled = analyse_montage(source, PipelineParams(), UNCALIBRATED, store, tile_px=TILE, overlap_px=OVERLAP)
    # Many true particles cross the seams (x = 512, 1024, 1536; y = 512, 1024).
    crossing = [i for i in range(1, truth.max() + 1)
                if len({(y // TILE, x // TILE) for y, x in zip(*np.nonzero(truth == i))}) > 1]
    assert len(crossing) >= 20
    assert tiled.count == whole.count
    distance, index = _pairs(tiled.particles, whole.particles)
    assert distance.max() < 0.01
    assert len(set(index)) == whole.count
    relative = tiled.particles["ecd"].to_numpy() / whole.particles["ecd"].to_numpy()[index] - 1
    assert np.abs(relative).max() < 0.01
    assert tiled.summary.d50 == pytest.approx(whole.summary.d50, rel=0.01)
    # The stitched labels hold each particle once, with the table's id and area.
    labels = store.read(0, source.shape[0], 0, source.shape[1])
    ids, areas = np.unique(labels[labels > 0], return_counts=True)
    table = tiled.particles.set_index("id")
    assert sorted(ids) == sorted(table.index)
    assert np.array_equal(areas, table.loc[ids, "area"].to_numpy().astype(int))
    # Every true particle that crosses a seam and is not cut by the border is one stitched particle.
    for i in crossing:
        rows, cols = np.nonzero(truth == i)
        if rows.min() == 0 or cols.min() == 0 or rows.max() == truth.shape[0] - 1 or cols.max() == truth.shape[1] - 1:
            continue
        found = np.unique(labels[rows, cols])
        assert len(found[found > 0]) == 1
    assert any("tiles" in text for text in tiled.warnings)


def test_particles_wider_than_the_overlap_are_left_out_with_a_warning(tmp_path):
    image = np.full((400, 400), 30, np.uint8)
    yy, xx = np.mgrid[:400, :400]
    image[(yy - 200) ** 2 + (xx - 128) ** 2 < 45**2] = 200  # 90 px wide, across the seam at x = 128
    image[(yy - 60) ** 2 + (xx - 300) ** 2 < 10**2] = 200
    path = tmp_path / "wide.tif"
    tifffile.imwrite(path, image)
    source = open_montage(path)
    result = analyse_montage(source, PipelineParams(), UNCALIBRATED, LabelStore(tmp_path / "l.raw", source.shape),
                             tile_px=128, overlap_px=32)
    assert result.count == 1 and result.cut_by_seams == 1
    assert any("wider than the tile overlap (32 px)" in text for text in result.warnings)
    wide_enough = analyse_montage(source, PipelineParams(), UNCALIBRATED,
                                  LabelStore(tmp_path / "m.raw", source.shape), tile_px=128, overlap_px=100)
    assert wide_enough.count == 2 and wide_enough.cut_by_seams == 0


def test_particles_cut_by_the_border_follow_the_edge_setting(montage, tmp_path):
    path, _ = montage
    source = open_montage(path)
    kept = PipelineParams().with_value("edge", "exclude_edge", False)
    _, whole, _ = analyze_file(path, kept)
    tiled = analyse_montage(source, kept, UNCALIBRATED, LabelStore(tmp_path / "l.raw", source.shape),
                            tile_px=TILE, overlap_px=OVERLAP)
    assert tiled.count == whole.count
    assert tiled.particles["touches_edge"].sum() == whole.particles["touches_edge"].sum() > 5
    excluded = analyse_montage(source, PipelineParams(), UNCALIBRATED, LabelStore(tmp_path / "m.raw", source.shape),
                               tile_px=TILE, overlap_px=OVERLAP)
    assert not excluded.particles["touches_edge"].any()
    assert excluded.removed["edge"] == tiled.particles["touches_edge"].sum()


def test_cancel_between_tiles(montage, tmp_path):
    path, _ = montage
    source = open_montage(path)
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(CancelledError):
        analyse_montage(source, PipelineParams(), UNCALIBRATED, LabelStore(tmp_path / "l.raw", source.shape),
                        tile_px=TILE, overlap_px=OVERLAP, should_cancel=cancel)


def test_analyze_tiles_a_tiff_above_the_limit_and_writes_the_usual_files(montage, tmp_path):
    path, _ = montage
    out = tmp_path / "out"
    code = main(["analyze", str(path), "--out", str(out), "--tiled-above", "1", "--tile", str(TILE),
                 "--tile-overlap", str(OVERLAP), "--pixel-size", "2nm", "--jobs", "1"])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["montage_labels.tif", "montage_overlay.png", "montage_particles.csv", "records", "run.json",
                     "summary.csv"]  # no scratch file left
    summary = pd.read_csv(out / "summary.csv")
    table = pd.read_csv(out / "montage_particles.csv")
    _, whole, _ = analyze_file(path, PipelineParams(), pixel_size_nm=2.0)
    assert summary.loc[0, "n_particles"] == len(table) == whole.count
    assert summary.loc[0, "pixel_size_nm"] == 2.0 and summary.loc[0, "unit"] == "nm"
    assert summary.loc[0, "d50"] == pytest.approx(whole.summary.d50, rel=0.01)
    assert "Analysed in 12 tiles" in summary.loc[0, "warnings"]
    with tifffile.TiffFile(out / "montage_labels.tif") as tif:
        labels = tif.asarray()
        assert tif.pages.first.is_tiled
    assert sorted(np.unique(labels[labels > 0])) == sorted(table["id"])
    options = json.loads((out / "run.json").read_text())["options"]
    assert (options["montage_tile_px"], options["montage_overlap_px"], options["montage_above_px"]) == (TILE, OVERLAP,
                                                                                                       1_000_000)
    # Resumed with the same settings: kept as it is.
    before = (out / "montage_labels.tif").stat().st_mtime_ns
    assert main(["analyze", str(path), "--out", str(out), "--tiled-above", "1", "--tile", str(TILE), "--tile-overlap",
                 str(OVERLAP), "--pixel-size", "2nm", "--jobs", "1", "--resume"]) == 0
    assert (out / "montage_labels.tif").stat().st_mtime_ns == before


def test_a_scale_bar_length_is_refused_for_montages(montage, tmp_path):
    path, _ = montage
    report = run_batch([path], tmp_path, PipelineParams(), scale_bar_nm=100.0, montage_above_px=1_000_000,
                       montage_tile_px=TILE, montage_overlap_px=OVERLAP)
    outcome = report.outcomes[0]
    assert not outcome.ok and "not searched for a scale bar" in outcome.error
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_report_takes_a_montage_like_any_image(montage, tmp_path):
    from particle_gui.core.output.report import build_report

    path, _ = montage
    small = tmp_path / "small.tif"  # 0.9 Mpx: analysed whole
    tifffile.imwrite(small, tifffile.imread(path)[:600, :1500])
    result = build_report({"tiled": [path], "whole": [small]}, tmp_path / "out", PipelineParams(), pixel_size_nm=2.0,
                          montage_above_px=1_000_000, jobs=1)
    tiled_record, whole_record = (sample.images[0] for sample in result.samples)
    assert tiled_record.ok and whole_record.ok
    _, whole, _ = analyze_file(path, PipelineParams(), pixel_size_nm=2.0)
    assert len(tiled_record.particles) == whole.count
    assert "Analysed in" in tiled_record.outcome.row["warnings"] and "Analysed in" not in whole_record.outcome.row["warnings"]
    assert tiled_record.image_shape == (1300, 1700)
    assert tiled_record.preview is not None and tiled_record.overlay_preview.shape[:2] == tiled_record.preview.shape
    assert result.pdf_path.exists() and result.pages > 0


def test_network_tiles_share_one_scale_and_one_intensity_range(montage, tmp_path):
    path, _ = montage
    network = PipelineParams(method="dl")
    source = open_montage(path)
    probed = analyse_montage(source, network, UNCALIBRATED, LabelStore(tmp_path / "p.raw", source.shape),
                             tile_px=TILE, overlap_px=128)
    assert any("scale was set once for the whole montage" in text for text in probed.warnings)
    # With the scale given, the tiles see what the whole image sees: the same particles.
    given = network.with_value("dl", "expected_diameter_px", 22.0)
    _, whole, _ = analyze_file(path, given)
    tiled = analyse_montage(source, given, UNCALIBRATED, LabelStore(tmp_path / "g.raw", source.shape),
                            tile_px=TILE, overlap_px=128)
    assert tiled.count == whole.count > 300
    distance, index = _pairs(tiled.particles, whole.particles)
    assert distance.max() < 1.0
    relative = np.abs(tiled.particles["ecd"].to_numpy() / whole.particles["ecd"].to_numpy()[index] - 1)
    assert np.median(relative) < 0.005 and relative.max() < 0.03


@pytest.mark.parametrize("layout", [{}, {"tile": (256, 256), "compression": "zlib"}])
def test_a_truncated_montage_fails_with_a_clear_reason_and_leaves_nothing(montage, tmp_path, layout):
    path, _ = montage
    cut = tmp_path / "cut.tif"
    tifffile.imwrite(cut, tifffile.imread(path), **layout)
    with cut.open("r+b") as handle:
        handle.truncate(cut.stat().st_size // 2)
    out = tmp_path / "out"
    out.mkdir()
    report = run_batch([cut], out, PipelineParams(), montage_above_px=1_000_000, montage_tile_px=TILE,
                       montage_overlap_px=OVERLAP)
    assert "incomplete or damaged" in report.outcomes[0].error
    assert sorted(p.name for p in out.iterdir()) == ["records", "run.json", "summary.csv"]
