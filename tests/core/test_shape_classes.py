"""Shape classes: crops, the bundled ONNX model on clean silhouettes, failure modes, table, summary, exports."""

from __future__ import annotations

import dataclasses
import shutil
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from particle_gui.core.analysis import shape_classes
from particle_gui.core.errors import CancelledError, ShapeModelError
from particle_gui.core.output.export import shape_class_text, summary_row, write_particles_csv, write_particles_excel
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams, SummaryParams
from particle_gui.core.analysis.pipeline import Pipeline, complete_shapes, merge_shapes
from particle_gui.core.editing.reconcile import apply_manual_layer, manual_layer
from particle_gui.core.analysis.shape_classes import (
    CLASS_COLUMN,
    CONFIDENCE_COLUMN,
    DEFAULT_MODEL_PATH,
    PENDING,
    SHAPE_CLASSES,
    UNCLASSIFIED,
    add_shape_columns,
    classify_particles,
    load_shape_model,
)
from particle_gui.core.analysis.shape_crops import particle_crops
from particle_gui.core.statistics.stats import class_summaries
from tests.keras_models import load_keras_model

ROOT = Path(__file__).resolve().parents[2]
KERAS_MODEL = ROOT / "training" / "shapes" / "models" / "shape_classifier.keras"


def _polygon(points: np.ndarray, centre: tuple[float, float], scale: float, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rotated = points @ np.array([[c, s], [-s, c]])
    return np.round((rotated * scale + centre) * 16).astype(np.int32)


def silhouettes(seed: int = 0, *, dark_on_bright: bool = False) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """A 320x320 image with a disc, a rod, a square and a triangle (labels 1-4), blurred and noisy."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((320, 320), np.int32)
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    shapes = {
        "round": np.c_[np.cos(t), np.sin(t)],
        "elongated": np.array([[-3.0, -0.7], [3.0, -0.7], [3.0, 0.7], [-3.0, 0.7]]),
        "square": np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]),
        "triangle": np.array([[0.0, -1.15], [1.0, 0.58], [-1.0, 0.58]]),
    }
    centres = [(80, 80), (240, 80), (80, 240), (240, 240)]
    truth = {}
    for index, ((name, points), centre) in enumerate(zip(shapes.items(), centres), start=1):
        scale = 12 if name == "elongated" else 30
        cv2.fillPoly(labels, [_polygon(points, centre, scale, rng.uniform(0, np.pi))], index, shift=4)
        truth[index] = name
    grey = np.where(labels > 0, 0.75, 0.25).astype(np.float32)
    grey = cv2.GaussianBlur(grey, (0, 0), 1.0) + rng.normal(0, 0.03, grey.shape).astype(np.float32)
    return (1 - grey if dark_on_bright else grey), labels, truth


@pytest.fixture
def no_model(tmp_path, monkeypatch):
    """The bundled model path points at a file that does not exist."""
    missing = tmp_path / "models" / "shape_classifier.onnx"
    monkeypatch.setattr(shape_classes, "DEFAULT_MODEL_PATH", missing)
    return missing


def _image(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


# --- crops --------------------------------------------------------------------------------------


def test_crops_are_scale_normalised_and_polarity_free() -> None:
    grey, labels, _ = silhouettes()
    ids, crops = particle_crops(grey, labels, size=48, fill=0.8)
    assert ids.tolist() == [1, 2, 3, 4] and crops.shape == (4, 48, 48, 2) and crops.dtype == np.float32
    mask = crops[..., 1] > 0.5
    for k in range(4):  # the particle's longer bounding-box side spans ~80 % of the crop
        rows, cols = np.nonzero(mask[k])
        assert 0.7 * 48 <= max(np.ptp(rows), np.ptp(cols)) + 1 <= 0.9 * 48
    _, inverted = particle_crops(1 - grey, labels, size=48)
    np.testing.assert_allclose(inverted, crops, atol=1e-4)  # dark-on-bright looks the same
    assert abs(crops[..., 0].mean()) < 1e-4  # standardised


def test_crops_keep_the_order_asked_and_handle_border_and_absent_ids() -> None:
    labels = np.zeros((50, 50), np.int32)
    labels[0:10, 0:30] = 5  # touches the image corner: padded
    labels[30:40, 30:40] = 2
    ids, crops = particle_crops(labels.astype(np.float32), labels, np.array([5, 9, 2]), size=32)
    assert ids.tolist() == [5, 9, 2]
    assert crops[1].max() == 0  # an id that is not in the image gives an empty crop
    assert crops[0, ..., 1].sum() > 0 and crops[2, ..., 1].sum() > 0
    with pytest.raises(ValueError):
        particle_crops(labels.astype(np.float32), labels.astype(float))


# --- the bundled model ----------------------------------------------------------------------------


@pytest.mark.parametrize("dark_on_bright", [False, True])
def test_clean_silhouettes_are_classified(dark_on_bright: bool) -> None:
    grey, labels, truth = silhouettes(seed=1, dark_on_bright=dark_on_bright)
    result = classify_particles(grey, labels)
    assert dict(zip(result.ids.tolist(), result.classes.tolist())) == truth
    assert result.probabilities.shape == (4, len(SHAPE_CLASSES))
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(result.confidence > 0.5)


def test_model_files_are_small_and_described() -> None:
    model = load_shape_model()
    assert model.classes == SHAPE_CLASSES
    assert DEFAULT_MODEL_PATH.stat().st_size < 1_000_000
    assert load_shape_model() is model  # loaded once


def test_onnx_agrees_with_keras() -> None:
    network = load_keras_model(KERAS_MODEL)
    grey, labels, _ = silhouettes(seed=2)
    _, crops = particle_crops(grey, labels)
    rng = np.random.default_rng(0)
    crops = np.concatenate([crops, rng.normal(size=(4, *crops.shape[1:])).astype(np.float32)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(network(crops, training=False))
    np.testing.assert_allclose(load_shape_model().predict(crops), expected, atol=1e-4)


# --- failure modes: the analysis goes on ------------------------------------------------------------


def test_missing_model_is_a_clear_error(no_model: Path) -> None:
    with pytest.raises(ShapeModelError, match="shape classifier model is missing.*unclassified"):
        load_shape_model()


def test_corrupt_model_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "shape_classifier.onnx"
    path.write_bytes(b"\x00not an onnx model" * 50)
    shutil.copyfile(DEFAULT_MODEL_PATH.with_suffix(".json"), path.with_suffix(".json"))
    with pytest.raises(ShapeModelError, match="corrupt or not an ONNX model"):
        load_shape_model(path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ShapeModelError, match="description .* missing or unreadable"):
        load_shape_model(path)


def test_analysis_completes_without_the_model(no_model: Path) -> None:
    grey, _, _ = silhouettes()
    result = Pipeline(_image(grey)).run(PipelineParams())
    assert result.count == 4
    assert result.particles[CLASS_COLUMN].tolist() == [UNCLASSIFIED] * 4
    assert result.particles[CONFIDENCE_COLUMN].isna().all()
    assert any("shape classifier model is missing" in w for w in result.warnings)
    assert result.summary.d50 is not None


def test_switched_off_adds_the_column_without_running_the_model(no_model: Path) -> None:
    grey, _, _ = silhouettes()
    params = dataclasses.replace(PipelineParams(), summary=SummaryParams(classify_shapes=False))
    result = Pipeline(_image(grey)).run(params)
    assert set(result.particles[CLASS_COLUMN]) == {UNCLASSIFIED}
    assert not any("shape" in w for w in result.warnings)


def test_add_shape_columns_on_an_empty_table() -> None:
    table, warning = add_shape_columns(pd.DataFrame({"id": pd.Series(dtype=np.int64)}), np.zeros((4, 4)),
                                       np.zeros((4, 4), np.int32))
    assert list(table.columns) == ["id", CLASS_COLUMN, CONFIDENCE_COLUMN] and warning is None


# --- pipeline, summary, exports ------------------------------------------------------------------


def test_pipeline_table_summary_and_cache(monkeypatch) -> None:
    grey, _, truth = silhouettes(seed=3)
    pipeline = Pipeline(_image(grey))
    result = pipeline.run(PipelineParams())  # the pipeline numbers particles in its own order
    assert sorted(result.particles[CLASS_COLUMN]) == sorted(truth.values())
    assert [(c.shape_class, c.count) for c in result.summary.shape_classes] == [(n, 1) for n in truth.values()]
    calls = []
    monkeypatch.setattr(shape_classes, "classify_particles", lambda *a, **k: calls.append(1))
    rerun = pipeline.run(dataclasses.replace(PipelineParams(), summary=SummaryParams(bootstrap_samples=200)))
    assert rerun.stages_run == ("summary",) and not calls  # the classes came from the cache
    assert rerun.particles[CLASS_COLUMN].tolist() == result.particles[CLASS_COLUMN].tolist()


def test_deferred_classes_are_the_direct_ones_and_are_cached(monkeypatch) -> None:
    grey, _, truth = silhouettes(seed=3)
    direct = Pipeline(_image(grey)).run(PipelineParams())
    pipeline = Pipeline(_image(grey))
    shown = pipeline.run(PipelineParams(), defer_shapes=True)
    assert shown.shapes_pending and set(shown.particles[CLASS_COLUMN]) == {PENDING}
    assert [(c.shape_class, c.count) for c in shown.summary.shape_classes] == [(PENDING, 4)]
    assert shown.summary.d50 == direct.summary.d50 and shown.summary.lognormal == direct.summary.lognormal
    completed = pipeline.complete_shapes(shown)
    assert not completed.shapes_pending and completed.labels is shown.labels
    pd.testing.assert_frame_equal(completed.particles, direct.particles)
    assert completed.summary == direct.summary
    assert pipeline.complete_shapes(completed) is completed  # nothing left to do
    calls = []
    monkeypatch.setattr(shape_classes, "classify_particles", lambda *a, **k: calls.append(1))
    again = pipeline.run(PipelineParams(), defer_shapes=True)  # the classes were cached
    assert not again.shapes_pending and not calls and again.stages_run == ()
    pd.testing.assert_frame_equal(again.particles, direct.particles)


def test_without_the_model_deferred_classes_end_unclassified_with_the_warning(no_model: Path) -> None:
    grey, _, _ = silhouettes()
    pipeline = Pipeline(_image(grey))
    shown = pipeline.run(PipelineParams(), defer_shapes=True)
    assert shown.shapes_pending and not any("shape" in w for w in shown.warnings)
    completed = pipeline.complete_shapes(shown)
    assert set(completed.particles[CLASS_COLUMN]) == {UNCLASSIFIED}
    assert sum("shape classifier model is missing" in w for w in completed.warnings) == 1


def test_classification_runs_in_cancellable_batches_with_the_same_answer(monkeypatch) -> None:
    grey, labels, truth = silhouettes(seed=5)
    whole = classify_particles(grey, labels)
    monkeypatch.setattr(shape_classes, "CLASSIFY_BATCH", 1)
    batched = classify_particles(grey, labels)
    assert batched.ids.tolist() == [1, 2, 3, 4] and batched.classes.tolist() == [truth[i] for i in range(1, 5)]
    np.testing.assert_allclose(batched.probabilities, whole.probabilities, atol=1e-6)
    checks = []
    with pytest.raises(CancelledError):
        classify_particles(grey, labels, should_cancel=lambda: checks.append(1) or len(checks) > 2)
    assert len(checks) == 3  # cancelled before the third batch


def test_pending_rows_stay_pending_through_a_reconcile_and_are_classified_after() -> None:
    grey, _, truth = silhouettes(seed=3)
    shown = Pipeline(_image(grey)).run(PipelineParams(), defer_shapes=True)
    base = np.array(shown.labels)
    drawn = base.copy()
    drawn[drawn == drawn.max()] = 0  # the user deleted one particle
    reconciled = apply_manual_layer(shown, manual_layer(drawn, base), grey)
    assert reconciled.count == 3 and reconciled.shapes_pending
    completed = complete_shapes(reconciled, grey)
    assert not completed.shapes_pending and set(completed.particles[CLASS_COLUMN]) < set(truth.values())
    assert sum(c.count for c in completed.summary.shape_classes) == 3


def test_merged_classes_fill_only_what_is_still_pending() -> None:
    grey, _, truth = silhouettes(seed=3)
    pipeline = Pipeline(_image(grey))
    shown = pipeline.run(PipelineParams(), defer_shapes=True)
    classified = pipeline.complete_shapes(shown)
    table = shown.particles.copy()
    table.loc[0, CLASS_COLUMN] = "irregular"  # as if an edit had re-classified particle 1
    table = table[table["id"] != 4]  # and deleted particle 4
    edited = dataclasses.replace(shown, particles=table.reset_index(drop=True))
    merged = merge_shapes(edited, classified)
    expected = classified.particles.set_index("id")[CLASS_COLUMN].to_dict()
    got = merged.particles.set_index("id")[CLASS_COLUMN].to_dict()
    assert got == {1: "irregular", 2: expected[2], 3: expected[3]} and not merged.shapes_pending
    assert sorted((c.shape_class, c.count) for c in merged.summary.shape_classes) == sorted(
        (name, list(got.values()).count(name)) for name in set(got.values()))


def test_class_summaries_order_and_percentiles() -> None:
    d = np.array([10.0, 20.0, 30.0, 5.0, 7.0])
    names = np.array(["irregular", "round", "round", UNCLASSIFIED, "elongated"])
    rows = class_summaries(d, names)
    assert [(r.shape_class, r.count) for r in rows] == [("round", 2), ("elongated", 1), ("irregular", 1),
                                                         (UNCLASSIFIED, 1)]
    assert rows[0].d50 == 25.0 and rows[0].fraction == pytest.approx(0.4)


def test_exports_carry_the_class(tmp_path: Path) -> None:
    grey, _, truth = silhouettes(seed=4)
    result = Pipeline(_image(grey)).run(PipelineParams())
    classes = result.particles[CLASS_COLUMN].tolist()
    assert sorted(classes) == sorted(truth.values())
    write_particles_csv(tmp_path / "p.csv", result.particles)
    assert pd.read_csv(tmp_path / "p.csv")[CLASS_COLUMN].tolist() == classes
    write_particles_excel(tmp_path / "p.xlsx", result.particles, result.summary)
    sheets = pd.read_excel(tmp_path / "p.xlsx", sheet_name=None)
    assert sheets["particles"][CLASS_COLUMN].tolist() == classes
    assert sheets["shape classes"]["shape_class"].tolist() == list(truth.values())  # in class order
    row = summary_row("image.png", result)
    assert row["shape_classes"] == shape_class_text(result.summary) and row["shape_classes"].startswith("round 1 (D50")
