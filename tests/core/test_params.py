"""Known-answer tests for particle_gui.core.params: JSON round trip, validation, metadata."""

import dataclasses
import json

import pytest

from particle_gui.core.errors import ParamsError
from particle_gui.core.params import (
    STAGE_FIELDS,
    CleanParams,
    PipelineParams,
    PreprocessParams,
    SplitParams,
    ThresholdParams,
    field_metadata,
)

STAGE_CLASSES = [type(getattr(PipelineParams(), name)) for name in STAGE_FIELDS]


def non_default_params() -> PipelineParams:
    p = PipelineParams()
    return dataclasses.replace(
        p,
        preprocess=dataclasses.replace(p.preprocess, denoise="median", median_size_px=7, clahe=True),
        threshold=dataclasses.replace(p.threshold, method="manual", manual_value=0.42, polarity="dark"),
        clean=dataclasses.replace(p.clean, min_area_nm2=250.0, fill_holes=False),
        split=dataclasses.replace(p.split, mode="h_maxima", min_distance_px=9),
        edge=dataclasses.replace(p.edge, exclude_edge=False),
        summary=dataclasses.replace(p.summary, seed=7),
    )


@pytest.mark.parametrize("params", [PipelineParams(), non_default_params()], ids=["defaults", "changed"])
def test_json_round_trip_is_equal(params):
    text = params.to_json()
    assert json.loads(text)["format_version"] == 1
    assert PipelineParams.from_json(text) == params


def test_round_trip_through_a_file(tmp_path):
    params = non_default_params()
    path = tmp_path / "params.json"
    path.write_text(params.to_json(), encoding="utf-8")
    assert PipelineParams.load(path) == params


def test_load_missing_file_is_params_error(tmp_path):
    with pytest.raises(ParamsError):
        PipelineParams.load(tmp_path / "absent.json")


def test_missing_keys_keep_defaults():
    params = PipelineParams.from_json('{"threshold": {"method": "li"}}')
    default = PipelineParams()
    assert params.threshold.method == "li"
    assert params == dataclasses.replace(default, threshold=dataclasses.replace(default.threshold, method="li"))
    assert PipelineParams.from_json("{}") == default


def test_whole_number_and_float_coercion():
    params = PipelineParams.from_dict({"split": {"min_distance_px": 7.0}, "preprocess": {"gaussian_sigma_px": 2}})
    assert params.split.min_distance_px == 7 and type(params.split.min_distance_px) is int
    assert params.preprocess.gaussian_sigma_px == 2.0 and type(params.preprocess.gaussian_sigma_px) is float


@pytest.mark.parametrize(
    "data",
    [
        {"tresholds": {}},  # unknown group
        {"threshold": {"methd": "otsu"}},  # unknown key
        {"threshold": {"method": 5}},
        {"threshold": {"method": "magic"}},
        {"clean": {"fill_holes": "yes"}},
        {"clean": {"fill_holes": 1}},
        {"split": {"min_distance_px": 2.5}},
        {"split": {"min_distance_px": True}},
        {"split": {"min_distance_px": "5"}},
        {"preprocess": {"gaussian_sigma_px": "1.5"}},
        {"preprocess": {"gaussian_sigma_px": None}},
        {"threshold": []},
        {"method": "deep"},
        {"format_version": 99},
    ],
)
def test_invalid_dict_is_params_error(data):
    with pytest.raises(ParamsError):
        PipelineParams.from_dict(data)


@pytest.mark.parametrize(
    "data",
    [
        {"split": {"min_distance_px": 0}},
        {"preprocess": {"gaussian_sigma_px": 1000.0}},
        {"threshold": {"manual_value": 1.5}},
        {"threshold": {"manual_value": -0.1}},
        {"summary": {"max_families": 4}},
        {"clean": {"min_area_px": -1.0}},
    ],
)
def test_out_of_range_is_params_error(data):
    with pytest.raises(ParamsError, match="outside"):
        PipelineParams.from_dict(data)


def test_constructing_out_of_range_params_is_params_error():
    with pytest.raises(ParamsError):
        PipelineParams(split=SplitParams(min_distance_px=0))
    default = PipelineParams()
    with pytest.raises(ParamsError):
        dataclasses.replace(default, threshold=dataclasses.replace(default.threshold, polarity="sideways"))


def test_nan_float_is_params_error():
    with pytest.raises(ParamsError):
        PipelineParams.from_json('{"threshold": {"manual_value": NaN}}')


@pytest.mark.parametrize(
    "text",
    ['{"split": {"min_distance_px": Infinity}}', '{"summary": {"seed": NaN}}', '{"clean": {"min_area_px": -Infinity}}'],
)
def test_non_finite_number_is_params_error(text):
    with pytest.raises(ParamsError):
        PipelineParams.from_json(text)


@pytest.mark.parametrize("text", ["{not json", "", "[1, 2]", '"text"', "null"])
def test_bad_json_text_is_params_error(text):
    with pytest.raises(ParamsError):
        PipelineParams.from_json(text)


def test_params_are_frozen():
    params = PipelineParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.threshold.method = "li"  # type: ignore[misc]


def test_field_metadata_gives_threshold_choices():
    meta = field_metadata(ThresholdParams)
    choices = meta["method"]["choices"]
    assert {"otsu", "manual", "local"} <= set(choices)
    assert ThresholdParams().method in choices
    assert set(meta["polarity"]["choices"]) == {"auto", "bright", "dark"}
    assert meta["manual_value"]["minimum"] == 0.0 and meta["manual_value"]["maximum"] == 1.0


def test_field_metadata_units():
    assert field_metadata(PreprocessParams)["gaussian_sigma_px"]["unit"] == "px"
    assert field_metadata(CleanParams)["min_area_nm2"]["unit"] == "nm²"


@pytest.mark.parametrize("stage_cls", STAGE_CLASSES, ids=lambda c: c.__name__)
def test_every_default_is_inside_its_own_metadata(stage_cls):
    default = stage_cls()
    for name, meta in field_metadata(stage_cls).items():
        value = getattr(default, name)
        assert meta["label"], name
        if meta["choices"]:
            assert value in meta["choices"], name
        if meta["minimum"] is not None:
            assert value >= meta["minimum"], name
        if meta["maximum"] is not None:
            assert value <= meta["maximum"], name
