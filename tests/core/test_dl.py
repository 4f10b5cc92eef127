"""Deep-learning segmentation: the shipped ONNX model, its errors, tiling, and the pipeline's cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from particle_gui.core.network import dl, dl_probe
from particle_gui.core.network.dl import ModelError, ProbabilityMaps, SegmentationModel, predict_probabilities
from particle_gui.core.network.dl_scale import three_class_target, typical_diameter
from particle_gui.core.network.dl_segment import split_probabilities
from particle_gui.core.errors import CancelledError
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams, SplitParams
from particle_gui.core.analysis.pipeline import Pipeline
from tests.core.synthetic import disc_image, disc_mask, grid_centres
from tests.keras_models import load_keras_model

REPO = Path(__file__).resolve().parents[2]
KERAS_MODEL = REPO / "training" / "models" / "unet.keras"
CENTRES = grid_centres(20, spacing=56, origin=44, columns=5)  # 4 rows x 5 columns, 32+ px from the border
RADIUS = 13.0
DL = PipelineParams(method="dl")


def loaded(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


@pytest.fixture(scope="module")
def discs() -> np.ndarray:
    return disc_image((256, 320), CENTRES, RADIUS, noise=0.05)


@pytest.fixture
def broken_model(tmp_path, monkeypatch):
    """Point the engine at a model path in tmp_path (initially missing) and forget loaded models."""
    path = tmp_path / "segmentation.onnx"
    monkeypatch.setattr(dl, "MODEL_PATH", path)
    monkeypatch.setattr(dl, "_MODELS", {})
    return path


@pytest.mark.parametrize("polarity", ["bright", "dark"])
def test_shipped_model_counts_and_sizes_discs(discs, polarity):
    grey = discs if polarity == "bright" else 1.0 - discs
    result = Pipeline(loaded(grey)).run(DL)
    assert abs(result.count - len(CENTRES)) <= 1
    assert result.summary.d50 == pytest.approx(2 * RADIUS, rel=0.1)


def test_expected_diameter_sets_the_scale(discs):
    maps = predict_probabilities(discs, expected_diameter_px=2 * RADIUS)
    target = dl.load_model().info.target_diameter_px
    assert maps.scale == pytest.approx(target / (2 * RADIUS))
    assert maps.foreground.shape == discs.shape and not maps.foreground.flags.writeable


def test_estimated_diameter_is_close(discs):
    maps = predict_probabilities(discs)
    assert maps.diameter_px == pytest.approx(2 * RADIUS, rel=0.25)


def test_slider_changes_reuse_the_cached_inference(discs):
    pipeline = Pipeline(loaded(discs))
    calls = []
    first = pipeline.run(DL, progress=lambda name, done, total: calls.append(name))
    assert "inference" in first.stages_run and "inference" in calls
    softer = dataclasses.replace(DL, dl=dataclasses.replace(DL.dl, probability=0.4))
    again = pipeline.run(softer)
    assert "inference" not in again.stages_run and again.stages_run[0] == "threshold"
    seeds = dataclasses.replace(softer, split=dataclasses.replace(DL.split, mode="distance_peaks", min_distance_px=9))
    third = pipeline.run(seeds)
    assert third.stages_run[0] == "split"
    assert pipeline.run(PipelineParams()).stages_run[0] == "threshold"  # back to classical: no inference


def test_cancel_during_inference_caches_nothing(discs):
    pipeline = Pipeline(loaded(discs))
    answers = iter([False, False, False, True] + [False] * 100)  # stage boundaries 0-2, then the first tile
    with pytest.raises(CancelledError):
        pipeline.run(DL, should_cancel=lambda: next(answers))
    assert "inference" in pipeline.run(DL).stages_run


def test_missing_model_is_a_clear_error_and_classical_still_works(discs, broken_model):
    pipeline = Pipeline(loaded(discs))
    with pytest.raises(ModelError, match="missing.*classical method"):
        pipeline.run(DL)
    assert pipeline.run(PipelineParams()).count == len(CENTRES)


def test_corrupt_model_is_a_clear_error(discs, broken_model):
    broken_model.write_bytes(b"not an onnx file" * 100)
    shipped_json = REPO / "particle_gui" / "models" / "segmentation.json"
    broken_model.with_suffix(".json").write_text(shipped_json.read_text())
    with pytest.raises(ModelError, match="cannot be read"):
        Pipeline(loaded(discs)).run(DL)
    broken_model.with_suffix(".json").write_text("{")
    with pytest.raises(ModelError, match="description"):
        SegmentationModel(broken_model)


def test_unlike_image_gives_a_warning():
    flat = np.full((128, 160), 0.5, dtype=np.float32)
    result = Pipeline(loaded(flat)).run(DL)
    assert result.count == 0
    assert any("network" in w for w in result.warnings)


def _scale_recorder(population_px: np.ndarray, *, visible_px: float = 3.0):
    """A stand-in network: at ``scale`` it finds the particles of ``population_px`` (image pixels)
    that are at least ``visible_px`` model pixels wide; it records the scales it runs at."""
    scales = []

    def measure(scale):
        scales.append(scale)
        found = population_px * scale
        return found[found >= visible_px], None

    return scales, measure


def test_small_particles_send_the_next_pass_straight_to_their_scale():
    scales, measure = _scale_recorder(np.full(50, 12.0))
    sizes, scale, _ = dl_probe.estimate_scale(measure, (768, 1024), target_px=24.0)
    # the first pass (long side 512 px, scale 0.5) finds 6 px particles -> the next runs at 2.0
    assert scales == pytest.approx([0.5, 2.0])
    assert sizes.d50 == pytest.approx(12.0) and scale == pytest.approx(2.0)


def test_particles_near_the_target_size_take_one_pass():
    scales, measure = _scale_recorder(np.full(50, 50.0))
    _sizes, scale, _ = dl_probe.estimate_scale(measure, (768, 1024), target_px=24.0)
    assert scales == pytest.approx([0.5]) and scale == 0.5


def test_large_particles_send_the_next_pass_coarser():
    scales, measure = _scale_recorder(np.full(50, 400.0))
    sizes, scale, _ = dl_probe.estimate_scale(measure, (768, 1024), target_px=24.0)
    assert scales == pytest.approx([0.5, 0.06]) and sizes.d50 == pytest.approx(400.0)


def test_a_wide_size_distribution_is_refined_until_the_small_particles_are_in_range():
    # 40 % of the particles are 10 px wide, 60 % 80 px: the first pass sees the small ones as 5 px
    # specks, enough to call for a pass where they are 9 px while the large ones stay under 110
    population = np.r_[np.full(40, 10.0), np.full(60, 80.0)]
    scales, measure = _scale_recorder(population, visible_px=3.0)
    sizes, scale, _ = dl_probe.estimate_scale(measure, (768, 1024), target_px=24.0)
    assert sizes.count == 100 and sizes.d10 == pytest.approx(10.0)
    assert scale == pytest.approx(dl_probe.choose_scale(sizes, target_px=24.0))
    assert 10.0 * scale >= dl_probe.SMALL_PX and 80.0 * scale <= dl_probe.LARGE_PX
    assert len(scales) <= dl_probe.MAX_PASSES


def test_nothing_found_at_any_scale():
    scales, measure = _scale_recorder(np.zeros(0))
    sizes, _scale, _ = dl_probe.estimate_scale(measure, (256, 256), target_px=24.0)
    assert sizes.count == 0 and 1 <= len(scales) <= dl_probe.MAX_PASSES


def test_an_image_that_fits_one_tile_runs_once_without_overlap():
    seen = []

    class Session:
        def run(self, outputs, feeds):
            x = feeds["image"]
            seen.append(x.shape)
            return [np.concatenate([1 - x, x, np.zeros_like(x)], axis=-1)]

    model = SegmentationModel.__new__(SegmentationModel)
    model._session, model._input, model._output = Session(), "image", "out"
    model.info = dl.ModelInfo(24.0, 2.0, ("background", "interior", "border"), (0.5, 99.5), "test")
    image = np.random.default_rng(1).random((768, 1000), dtype=np.float32)
    probs = model.predict(image)
    assert seen == [(1, 768, 1008, 1)]  # padded to a multiple of 16 (this model's) only
    np.testing.assert_array_equal(probs[..., 1], image)


def test_tiles_cover_a_large_image_exactly():
    class Session:  # stands in for onnxruntime: class probabilities from the pixel value
        def run(self, outputs, feeds):
            x = feeds["image"]
            return [np.concatenate([1 - x, x, np.zeros_like(x)], axis=-1)]

    model = SegmentationModel.__new__(SegmentationModel)
    model._session, model._input, model._output = Session(), "image", "out"
    model.info = dl.ModelInfo(24.0, 2.0, ("background", "interior", "border"), (0.5, 99.5), "test")
    image = np.random.default_rng(0).random((700, 1100), dtype=np.float32)
    done = []
    probs = model.predict(image, progress=lambda d, t: done.append((d, t)))
    np.testing.assert_array_equal(probs[..., 1], image)
    assert done[-1][0] == done[-1][1] > 1


def test_three_class_target_separates_touching_particles():
    labels = np.zeros((20, 30), int)
    labels[5:15, 5:15], labels[5:15, 15:25] = 1, 2
    target = three_class_target(labels, border_px=1)
    assert set(np.unique(target[5:15, 14:16])) == {2}
    assert target[10, 10] == 1 and target[0, 0] == 0
    assert typical_diameter(labels) == pytest.approx(np.sqrt(400 / np.pi))


def test_cores_split_touching_discs_of_different_sizes():
    shape = (70, 110)
    centres, radii = [(35, 30), (35, 63), (35, 88)], [20, 13, 12]
    mask = np.zeros(shape, bool)
    truth = np.zeros(shape, np.int32)
    for k, ((y, x), r) in enumerate(zip(centres, radii), start=1):
        disc = disc_mask(shape, [(y, x)], r)
        truth[disc & (truth == 0)] = k
        mask |= disc
    from particle_gui.core.network.dl_scale import centre_target

    core = (centre_target(truth) >= 0.5).astype(np.float32)  # what the network learns to predict
    maps = ProbabilityMaps(mask.astype(np.float32), mask.astype(np.float32), 1.0, 30.0, core=core)
    labels = split_probabilities(mask, maps, SplitParams(), 0.5, core_level=0.5)
    assert labels.max() == 3 and np.all((labels > 0) == mask)


def test_watershed_splits_touching_discs_from_their_interiors():
    shape = (60, 90)
    mask = disc_mask(shape, [(30, 30), (30, 56)], 14)
    interior = disc_mask(shape, [(30, 30), (30, 56)], 10).astype(np.float32)
    maps = ProbabilityMaps(mask.astype(np.float32), interior, 1.0, 28.0)
    labels = split_probabilities(mask, maps, SplitParams(), 0.5)
    assert labels.max() == 2 and np.all((labels > 0) == mask)
    peaks = split_probabilities(mask, maps, SplitParams(mode="distance_peaks", min_distance_px=5), 0.5)
    assert peaks.max() == 2


@pytest.mark.filterwarnings("ignore")
def test_onnx_agrees_with_keras():
    model = load_keras_model(KERAS_MODEL)
    session = dl.load_model()._session
    rng = np.random.default_rng(0)
    for x in (rng.random((1, 64, 96, 1), dtype=np.float32), disc_image((128, 160), CENTRES[:3], RADIUS)[None, ..., None]):
        expected = np.asarray(model(x))
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        np.testing.assert_allclose(got, expected, atol=1e-4)
