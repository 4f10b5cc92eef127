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


def test_scale_factor_runs_finer_than_the_chosen_scale(discs):
    chosen = predict_probabilities(discs)
    finer = predict_probabilities(discs, scale_factor=2.0)
    assert finer.scale == pytest.approx(2.0 * chosen.scale)
    assert finer.diameter_px == pytest.approx(chosen.diameter_px)  # the sizes the ladder found
    # in the pipeline: its own cache key, and ignored when an expected diameter is set
    pipeline = Pipeline(loaded(discs))
    pipeline.run(DL.with_value("dl", "scale_factor", 2.0))
    assert pipeline.stage_output("inference").scale == pytest.approx(2.0 * chosen.scale)
    pipeline.run(DL.with_value("dl", "scale_factor", 2.0).with_value("dl", "expected_diameter_px", 2 * RADIUS))
    assert pipeline.stage_output("inference").scale == pytest.approx(dl.load_model().info.target_diameter_px / (2 * RADIUS))


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


def _ladder_recorder(unsure_at, *, diameter_px: float = 40.0):
    """A stand-in network: at ``scale`` it finds ten particles of ``diameter_px`` image pixels and is
    unsure about ``unsure_at(scale)`` of their pixels (None: it finds nothing); it records its scales
    and windows, and the whole-image runs."""
    scales, windows, wholes = [], [], []

    def measure(scale, window):
        scales.append(scale)
        windows.append(window)
        unsure = unsure_at(scale)
        found = np.zeros(0) if unsure is None else np.full(10, diameter_px * scale)
        return found, (1.0 if unsure is None else unsure), f"output at {scale:.3f}"

    def run_whole(scale):
        wholes.append(scale)
        return f"whole at {scale:.3f}"

    return scales, windows, wholes, measure, run_whole


def test_the_ladder_runs_coarse_to_fine_and_chooses_the_surest_pass():
    # surest at 0.5 (the image's long side at 512 model px); finer passes get less sure and stop it
    curve = {0.125: 0.30, 0.177: 0.20, 0.25: 0.10, 0.354: 0.05, 0.5: 0.02, 0.707: 0.04, 1.0: 0.08}
    scales, windows, wholes, measure, run_whole = _ladder_recorder(lambda s: curve[round(s, 3)])
    sizes, scale, output = dl_probe.estimate_scale(measure, (768, 1024), run_whole)
    assert [round(s, 3) for s in scales] == [0.125, 0.177, 0.25, 0.354, 0.5, 0.707, 1.0]  # 0.08 > 0.02 + 0.05
    assert scale == pytest.approx(0.5) and output == "output at 0.500" and wholes == []
    assert windows[0] == (slice(0, 768), slice(0, 1024))  # small passes see the whole image
    assert sizes.d50 == pytest.approx(40.0) and sizes.count == 10


def test_a_coarser_pass_as_sure_as_the_surest_is_chosen():
    # within CHOOSE_WITHIN of the surest: the coarser keeps large particles whole
    curve = {0.125: 0.30, 0.177: 0.04, 0.25: 0.03, 0.354: 0.025, 0.5: 0.03, 0.707: 0.2}
    scales, _windows, _wholes, measure, run_whole = _ladder_recorder(lambda s: curve[round(s, 3)])
    _sizes, scale, _ = dl_probe.estimate_scale(measure, (768, 1024), run_whole)
    assert scale == pytest.approx(0.25)
    assert len(scales) == 6


def test_small_particles_are_found_by_the_finer_passes():
    # nothing is seen until the long side reaches 1448 model px; the surest of the rest is chosen
    def unsure_at(scale):
        return None if scale < 1.4 else {1.414: 0.1, 2.0: 0.04, 2.255: 0.06}[round(scale, 3)]

    scales, windows, wholes, measure, run_whole = _ladder_recorder(unsure_at, diameter_px=10.0)
    sizes, scale, output = dl_probe.estimate_scale(measure, (768, 1024), run_whole)
    assert scale == pytest.approx(2.0) and sizes.d50 == pytest.approx(10.0)
    assert scales[-1] == pytest.approx(dl_probe.ladder_scales((768, 1024))[-1])  # the largest pass allowed
    # fine passes look at a centred window of at most WINDOW_PIXELS; the chosen one then runs whole
    rows, cols = windows[-1]
    assert (rows.stop - rows.start) * (cols.stop - cols.start) * scales[-1] ** 2 <= dl_probe.WINDOW_PIXELS
    assert rows.start + rows.stop == 768 and cols.start + cols.stop == 1024
    assert wholes == [pytest.approx(2.0)] and output == "whole at 2.000"


def test_nothing_found_at_any_scale():
    scales, _windows, _wholes, measure, run_whole = _ladder_recorder(lambda s: None)
    sizes, _scale, output = dl_probe.estimate_scale(measure, (256, 256), run_whole)
    assert sizes.count == 0 and scales == dl_probe.ladder_scales((256, 256))
    assert output in (f"output at {scales[-1]:.3f}", f"whole at {scales[-1]:.3f}")


def test_the_shipped_network_keeps_large_textured_particles_whole():
    # The old probe ran finer whenever the network broke large particles into pieces of the size it
    # knows (EMPS validation F1 0.41); the ladder chooses the scale where it is surest.
    grey = disc_image((512, 512), [(130, 130), (130, 380), (380, 130), (380, 380)], 100.0, noise=0.05)
    texture = np.random.default_rng(0).normal(0.0, 0.08, grey.shape).astype(np.float32)
    grey = np.clip(grey + texture * (grey > 0.5), 0, 1)
    maps = predict_probabilities(grey)
    labels = Pipeline(loaded(grey)).run(DL).labels
    assert labels.max() == 4
    assert maps.diameter_px == pytest.approx(200.0, rel=0.15)


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
