"""Known-answer tests for particle_gui.core.analysis.pipeline: counts, sizes, stage caching, cancellation."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

from particle_gui.core.io.calibration import UNCALIBRATED, Calibration
from particle_gui.core.errors import CancelledError
from particle_gui.core.io.loading import LoadedImage, load_image
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import STAGES, Pipeline
from tests.core.synthetic import add_data_bar, disc_image, grid_centres

SHAPE = (512, 512)
DIAMETER = 24
# Half-pixel centres make the digital disc area close to pi r^2 (ECD 23.9 px for r = 12).
CENTRES = [(r + 0.5, c + 0.5) for r, c in grid_centres(25, spacing=96, origin=64, columns=5)]
TWO_NM = Calibration(2.0, "manual", "test")
DEFAULT = PipelineParams()


def loaded(grey: np.ndarray) -> LoadedImage:
    grey = np.asarray(grey, dtype=np.float32)
    return LoadedImage(
        path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0, metadata_calibration=None
    )


def with_stage(params: PipelineParams, stage: str, **changes) -> PipelineParams:
    return dataclasses.replace(params, **{stage: dataclasses.replace(getattr(params, stage), **changes)})


@pytest.fixture(scope="module")
def discs_image():
    return disc_image(SHAPE, CENTRES, DIAMETER / 2, background=0.2, foreground=0.8, noise=0.05, seed=11)


@pytest.fixture
def pipeline(discs_image):
    return Pipeline(loaded(discs_image))


def test_counts_and_sizes_25_discs(pipeline):
    result = pipeline.run(DEFAULT, TWO_NM)
    assert result.count == 25
    assert result.stages_run == STAGES
    np.testing.assert_allclose(result.particles["ecd"], DIAMETER, rtol=0.02)
    np.testing.assert_allclose(result.particles["ecd_nm"], 2 * DIAMETER, rtol=0.02)
    assert result.summary.unit == "nm" and result.summary.count == 25
    assert result.summary.d50 == pytest.approx(2 * DIAMETER, rel=0.02)
    assert result.labels.max() == 25 and result.labels.dtype == np.int32
    assert result.calibration is TWO_NM
    assert result.data_bar is None
    assert result.warnings == ()


def test_uncalibrated_run_reports_pixels(pipeline):
    result = pipeline.run(DEFAULT)
    assert result.calibration is UNCALIBRATED
    assert result.summary.unit == "px"
    assert result.summary.d50 == pytest.approx(DIAMETER, rel=0.02)
    assert not any(c.endswith("_nm") for c in result.particles.columns)


def test_identical_second_run_runs_no_stage(pipeline):
    first = pipeline.run(DEFAULT, TWO_NM)
    second = pipeline.run(PipelineParams(), TWO_NM)  # an equal, not identical, params object
    assert second.stages_run == ()
    assert second.labels is first.labels
    assert second.count == first.count


def test_split_change_reruns_from_split(pipeline):
    pipeline.run(DEFAULT, TWO_NM)
    changed = with_stage(DEFAULT, "split", min_distance_px=DEFAULT.split.min_distance_px + 2)
    result = pipeline.run(changed, TWO_NM)
    assert result.stages_run == ("split", "edge", "measure", "summary")
    assert result.count == 25


def test_threshold_change_reruns_from_threshold(pipeline):
    pipeline.run(DEFAULT, TWO_NM)
    result = pipeline.run(with_stage(DEFAULT, "threshold", method="li"), TWO_NM)
    assert result.stages_run == STAGES[STAGES.index("threshold") :]
    assert result.count == 25


def test_calibration_change_reruns_only_summary(pipeline):
    first = pipeline.run(DEFAULT, TWO_NM)
    assert DEFAULT.clean.min_area_nm2 == 0
    result = pipeline.run(DEFAULT, Calibration(3.0, "manual"))
    assert result.stages_run == ("summary",)
    np.testing.assert_allclose(result.particles["ecd_nm"], first.particles["ecd"] * 3.0)
    assert result.summary.d50 == pytest.approx(first.summary.d50 * 1.5)


def test_calibration_change_reruns_clean_when_min_area_is_calibrated(pipeline):
    params = with_stage(DEFAULT, "clean", min_area_nm2=100.0)
    pipeline.run(params, TWO_NM)
    result = pipeline.run(params, Calibration(3.0, "manual"))
    assert result.stages_run[0] == "clean"
    assert "threshold" not in result.stages_run
    assert result.count == 25


def test_progress_reports_every_stage_in_order(pipeline):
    calls = []
    pipeline.run(DEFAULT, progress=lambda name, index, total: calls.append((name, index, total)))
    assert calls == [(name, index, len(STAGES)) for index, name in enumerate(STAGES)]
    calls.clear()
    pipeline.run(DEFAULT, progress=lambda name, index, total: calls.append(name))
    assert calls == list(STAGES)  # reported even when the stages come from the cache


def test_cancel_raises(pipeline):
    with pytest.raises(CancelledError):
        pipeline.run(DEFAULT, should_cancel=lambda: True)


def test_cancel_keeps_the_stages_already_computed(pipeline):
    answers = iter([False, False, True])  # cancel at the third boundary, before "threshold"
    with pytest.raises(CancelledError):
        pipeline.run(DEFAULT, should_cancel=lambda: next(answers))
    result = pipeline.run(DEFAULT)
    assert result.stages_run == STAGES[2:]
    assert result.count == 25


def test_edge_discs_kept_and_flagged_when_not_excluded():
    # Four interior discs and three cut by the left, top and right borders.
    centres = [(60.5, 60.5), (60.5, 140.5), (140.5, 60.5), (140.5, 140.5), (100.5, 4.5), (3.5, 100.5), (100.5, 196.5)]
    image = disc_image((200, 200), centres, 12, background=0.2, foreground=0.8, noise=0.03, seed=2)
    pipeline = Pipeline(loaded(image))
    kept = pipeline.run(with_stage(DEFAULT, "edge", exclude_edge=False))
    assert kept.count == 7
    assert int(kept.particles["touches_edge"].sum()) == 3
    edge_rows = kept.particles[kept.particles["touches_edge"]]
    assert sorted(edge_rows["id"]) == sorted(kept.edge_ids.tolist())
    excluded = pipeline.run(DEFAULT)
    assert excluded.count == 4
    assert not excluded.particles["touches_edge"].any()


def test_data_bar_rows_are_never_labelled():
    specimen = disc_image(
        (400, 300), [(60.5, 60.5), (60.5, 200.5), (200.5, 120.5), (300.5, 60.5), (300.5, 220.5)], 12,
        background=0.3, foreground=0.7, noise=0.04, seed=5,
    )
    image = add_data_bar(specimen, rows=40, bar_colour=0.0, ink=1.0, bar_length=120)
    result = Pipeline(loaded(image)).run(DEFAULT)
    assert result.data_bar is not None and result.data_bar.first_row == 360
    assert result.analysis_rows == 360
    assert result.scale_bar is not None and result.scale_bar.length_px == 120
    assert not result.labels[360:].any()
    assert not result.mask[360:].any()
    assert result.count == 5


def test_data_bar_detection_can_be_switched_off():
    image = add_data_bar(disc_image((400, 300), [(100.5, 100.5)], 12, noise=0.03), rows=40)
    result = Pipeline(loaded(image)).run(with_stage(DEFAULT, "region", detect_data_bar=False))
    assert result.data_bar is None and result.analysis_rows == 400


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_constant_image_has_no_particles_and_says_so(value):
    result = Pipeline(loaded(np.full((128, 128), value, np.float32))).run(DEFAULT)
    assert result.count == 0
    assert result.summary.count == 0
    assert any("No particles" in w for w in result.warnings)


def test_all_black_png_from_disk_has_no_particles(tmp_path):
    path = tmp_path / "black.png"
    Image.fromarray(np.zeros((96, 128), np.uint8)).save(path)
    result = Pipeline(load_image(path)).run(DEFAULT, TWO_NM)
    assert result.count == 0 and len(result.particles) == 0
    assert any("No particles" in w for w in result.warnings)
    assert result.summary.unit == "nm"


def test_result_arrays_are_read_only(pipeline):
    result = pipeline.run(with_stage(DEFAULT, "edge", exclude_edge=False))
    for name in ("preprocessed", "mask", "labels", "edge_ids"):
        array = getattr(result, name)
        assert not array.flags.writeable, name
        with pytest.raises(ValueError):
            array[...] = 0


def test_threshold_mask_is_read_only_and_the_cache_cannot_be_corrupted(pipeline):
    result = pipeline.run(DEFAULT)
    assert not result.threshold.mask.flags.writeable
    with pytest.raises(ValueError):
        result.threshold.mask[...] = False
    rerun = pipeline.run(with_stage(DEFAULT, "clean", min_area_px=DEFAULT.clean.min_area_px + 5))
    assert rerun.stages_run[0] == "clean"  # the cached threshold stage is reused, intact
    assert rerun.count == 25


def test_region_accessor_matches_the_run():
    image = add_data_bar(disc_image((400, 300), [(100.5, 100.5)], 12, noise=0.03), rows=40)
    pipeline = Pipeline(loaded(image))
    region = pipeline.region(DEFAULT)
    assert region.data_bar.first_row == 360 and region.scale_bar.length_px == 120
    assert region.rows == (0, 360) and region.outliers == 0
    assert pipeline.run(DEFAULT).stages_run[0] == "preprocess"  # region came from the cache


def test_saturated_discs_are_particles_not_annotations():
    # Perfect contrast (discs at 1.0 on 0.0, and the inverse) is specimen, not burned-in text.
    centres = [(r + 0.5, c + 0.5) for r, c in grid_centres(9, spacing=60, origin=40, columns=3)]
    for foreground, background in ((1.0, 0.0), (0.0, 1.0)):
        image = disc_image((220, 220), centres, 10, background=background, foreground=foreground)
        assert Pipeline(loaded(image)).run(DEFAULT).count == 9


def test_burned_in_letter_is_excluded_as_an_annotation():
    centres = [(r + 0.5, c + 0.5) for r, c in grid_centres(9, spacing=60, origin=60, columns=3)]
    image = disc_image((240, 240), centres, 10, background=0.2, foreground=0.7, noise=0.03, seed=4)
    # A white panel letter "E" drawn with 4-px strokes, away from the border.
    image[8:32, 8:12] = 1.0
    image[8:12, 8:26] = 1.0
    image[18:22, 8:24] = 1.0
    image[28:32, 8:26] = 1.0
    pipeline = Pipeline(loaded(image))
    assert pipeline.run(DEFAULT).count == 9
    assert pipeline.run(with_stage(DEFAULT, "edge", exclude_annotations=False)).count == 10
