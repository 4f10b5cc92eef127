"""Property-based tests of the engine: random images, parameters and files never raise anything
but the engine's own documented error, and every stage keeps its contract (shapes, types, ranges)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from particle_gui.core.errors import ImageLoadError, ParticleGuiError
from particle_gui.core.io.loading import LoadedImage, load_image, to_normalised_grey
from particle_gui.core.analysis.measure import measure_particles
from particle_gui.core.params import STAGE_FIELDS, PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.analysis.preprocess import preprocess
from particle_gui.core.analysis.clean import clean_mask
from particle_gui.core.analysis.segment import split_particles
from particle_gui.core.statistics.stats import summarise
from particle_gui.core.analysis.threshold import threshold_image

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Caps that keep one example fast without leaving any code path out.
SPEED_CAPS = {"bootstrap_samples": 300}


def field_strategy(spec: dataclasses.Field) -> st.SearchStrategy:
    """Any valid value of one parameter, from its metadata (choices, range, type)."""
    meta, kind = spec.metadata, type(spec.default)
    if meta.get("choices"):
        return st.sampled_from(meta["choices"])
    if kind is bool:
        return st.booleans()
    low, high = meta["minimum"], SPEED_CAPS.get(spec.name, meta["maximum"])
    if kind is int:
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False)


def stage_strategy(stage_cls: type) -> st.SearchStrategy:
    return st.builds(stage_cls, **{spec.name: field_strategy(spec) for spec in dataclasses.fields(stage_cls)})


DEFAULTS = PipelineParams()
params_strategy = st.builds(
    PipelineParams, **{name: stage_strategy(type(getattr(DEFAULTS, name))) for name in STAGE_FIELDS}
)


@st.composite
def grey_images(draw, *, min_side: int = 2, max_side: int = 48) -> np.ndarray:
    """float32 [0, 1] images: noise, blobs, constant, or extremes only."""
    shape = draw(st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side)))
    kind = draw(st.sampled_from(["noise", "blobs", "constant", "binary"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "constant":
        return np.full(shape, draw(st.floats(0, 1)), np.float32)
    if kind == "binary":
        return (rng.random(shape) > draw(st.floats(0, 1))).astype(np.float32)
    image = rng.random(shape).astype(np.float32)
    if kind == "blobs":
        yy, xx = np.mgrid[: shape[0], : shape[1]]
        image *= 0.3
        for _ in range(draw(st.integers(1, 6))):
            cy, cx, r = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(1, 12)
            image[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] += 0.6
        image = np.clip(image, 0, 1)
    return image


def loaded(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


@FAST
@given(grey=grey_images(), params=params_strategy)
def test_stages_keep_their_contracts(grey, params):
    pre = preprocess(grey, params.preprocess)
    assert pre.shape == grey.shape and pre.dtype == np.float32
    assert np.isfinite(pre).all() and pre.min() >= 0.0 and pre.max() <= 1.0
    rows = int(grey.shape[0])
    thresholded = threshold_image(pre, params.threshold, analysis_rows=rows)
    assert thresholded.mask.dtype == bool and thresholded.mask.shape == grey.shape
    assert thresholded.polarity in ("bright", "dark") and np.isfinite(thresholded.value)
    mask = clean_mask(thresholded.mask, params.clean)
    assert mask.dtype == bool and mask.shape == grey.shape
    labels = split_particles(mask, params.split)
    assert labels.dtype == np.int32 and labels.shape == grey.shape
    assert not (labels[~mask] != 0).any()  # particles lie inside the mask
    table = measure_particles(labels, grey)
    ids = np.unique(labels[labels > 0])
    assert table["id"].tolist() == ids.tolist()
    assert (table["area"].to_numpy() == np.bincount(labels.ravel())[ids]).all()
    assert ((table["circularity"] > 0) & (table["circularity"] <= 1)).all()
    summary = summarise(table["ecd"].to_numpy(), params.summary)
    assert summary.count == len(table)


@FAST
@given(grey=grey_images(), params=params_strategy, changed=params_strategy)
def test_the_pipeline_raises_only_its_own_errors_and_its_cache_is_exact(grey, params, changed):
    """A run, then a run with other parameters on the same (cached) pipeline, equals a fresh run."""
    pipeline = Pipeline(loaded(grey))
    try:
        first = pipeline.run(params)
        second = pipeline.run(changed)
    except ParticleGuiError:
        return
    assert first.labels.shape == grey.shape and first.count == len(first.particles)
    fresh = Pipeline(loaded(grey)).run(changed)
    np.testing.assert_array_equal(second.labels, fresh.labels)
    assert second.count == fresh.count


@FAST
@given(diameters=arrays(np.float64, st.integers(0, 60),
                       elements=st.floats(1e-6, 1e9) | st.sampled_from([0.0, -1.0, np.nan, np.inf, -np.inf])),
       params=stage_strategy(type(DEFAULTS.summary)))
def test_summary_of_any_numbers(diameters, params):
    summary = summarise(diameters, params)
    valid = diameters[np.isfinite(diameters) & (diameters > 0)]
    assert summary.count == valid.size
    if valid.size:
        assert valid.min() <= summary.d50 <= valid.max()


@FAST
@given(data=arrays(st.sampled_from([np.uint8, np.uint16, np.int16, np.int32, np.uint32, np.float16, np.float32,
                                     np.float64, np.bool_]),
                   st.tuples(st.integers(2, 24), st.integers(2, 24)),
                   elements=None))
@example(data=np.array([[2, -54582347], [-54582347, -54582347]], np.int32))  # float32 rounding overshot 1
@example(data=np.full((2, 2), 3.40282357e38))  # past float32's range: became inf
@example(data=np.array([[-1.7e308, 1.7e308], [0.0, 0.0]]))  # a range float64 cannot hold
def test_any_pixel_type_and_values_normalise_or_are_refused(data):
    notes: list[str] = []
    try:
        grey, offset, scale = to_normalised_grey(data, notes)
    except ImageLoadError as exc:
        assert "no finite values" in str(exc) or "too wide a range" in str(exc)
        return
    assert grey.dtype == np.float32 and grey.shape == data.shape
    assert np.isfinite(grey).all() and grey.min() >= 0.0 and grey.max() <= 1.0
    assume(np.isfinite(data.astype(np.float64)).all())
    restored = grey.astype(np.float64) * scale + offset
    tolerance = 1e-3 * max(1.0, float(np.abs(data.astype(np.float64)).max()))
    np.testing.assert_allclose(restored, data.astype(np.float64), atol=tolerance)


MAGIC = [b"II*\x00", b"MM\x00*", b"II+\x00", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"GIF89a", b""]


@settings(max_examples=60, deadline=None)
@given(magic=st.sampled_from(MAGIC), body=st.binary(min_size=0, max_size=600),
       suffix=st.sampled_from([".tif", ".png", ".jpg", ".bmp"]))
def test_random_bytes_are_refused_with_the_engine_error(tmp_path_factory, magic, body, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"random{suffix}"
    path.write_bytes(magic + body)
    try:
        image = load_image(path)
    except ImageLoadError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    Pipeline(image).run(PipelineParams())  # a lucky valid file must analyse


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 2), (2, 200), (200, 2), (3, 3), (5, 700)])
def test_the_smallest_images_analyse(shape):
    """The smallest accepted images (2 px a side) run every stage: OpenCV crashed on empty regions."""
    rng = np.random.default_rng(0)
    for grey in (rng.random(shape, dtype=np.float32), np.zeros(shape, np.float32)):
        result = Pipeline(loaded(grey)).run(PipelineParams())
        assert result.labels.shape == shape


@pytest.mark.parametrize(("shape", "size"), [((2, 31), 25), ((2, 2), 25), ((12, 31), 25), ((16, 16), 17)])
def test_median_of_images_smaller_than_the_window_is_the_reflected_median(shape, size):
    """SciPy's median filter read past its buffer here (results changed from call to call)."""
    from numpy.lib.stride_tricks import sliding_window_view

    from particle_gui.core.analysis.preprocess import median_reflect

    image = np.random.default_rng(1).random(shape, dtype=np.float32)
    padded = np.pad(image, size // 2, mode="symmetric")
    expected = np.median(sliding_window_view(padded, (size, size)), axis=(2, 3)).astype(np.float32)
    for _ in range(10):
        junk = [np.random.default_rng(n).random(n) for n in (7, 700)]  # churn the allocator between calls
        np.testing.assert_array_equal(median_reflect(image.copy(), size), expected)
        del junk
