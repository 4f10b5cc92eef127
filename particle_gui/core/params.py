"""Frozen parameter dataclasses, one per pipeline stage, composed into :class:`PipelineParams`.

Every field carries metadata (label, range, step, unit, choices) so that the GUI can build its
controls from it and the JSON reader can validate input. ``PipelineParams.to_json`` writes the
same JSON the CLI reads with ``--params`` and that every export records.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from particle_gui.core.errors import ParamsError

PARAMS_FORMAT_VERSION = 1


def _param(
    default: Any,
    *,
    label: str,
    minimum: float | None = None,
    maximum: float | None = None,
    step: float | None = None,
    unit: str = "",
    choices: tuple[str, ...] | None = None,
    help: str = "",
    hidden: bool = False,
) -> Any:
    metadata = {
        "label": label,
        "minimum": minimum,
        "maximum": maximum,
        "step": step,
        "unit": unit,
        "choices": choices,
        "help": help,
        "hidden": hidden,
    }
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class RegionParams:
    """Which part of the image is analysed."""

    detect_data_bar: bool = _param(
        True, label="Exclude instrument data bar", help="Find the text/scale-bar strip and never analyse it."
    )
    remove_outlier_pixels: bool = _param(
        True, label="Replace hot and cold pixels",
        help="Isolated detector outliers (dead or hot pixels, cosmic rays) take their neighbourhood's median.",
    )


@dataclass(frozen=True)
class PreprocessParams:
    """Denoising and contrast correction before thresholding."""

    denoise: str = _param(
        "gaussian",
        label="Denoise",
        choices=("none", "gaussian", "median", "bilateral", "nlm"),
        help="Filter applied before thresholding.",
    )
    gaussian_sigma_px: float = _param(1.5, label="Gaussian sigma", minimum=0.3, maximum=20.0, step=0.1, unit="px")
    median_size_px: int = _param(5, label="Median size", minimum=3, maximum=31, step=2, unit="px")
    bilateral_sigma_px: float = _param(3.0, label="Bilateral spatial sigma", minimum=0.5, maximum=20.0, step=0.5, unit="px")
    bilateral_sigma_intensity: float = _param(
        0.1, label="Bilateral intensity sigma", minimum=0.01, maximum=1.0, step=0.01, help="Fraction of the range."
    )
    nlm_h: float = _param(
        0.06, label="Non-local means strength h", minimum=0.01, maximum=0.5, step=0.01, help="Fraction of the range."
    )
    clahe: bool = _param(False, label="CLAHE (local contrast)")
    clahe_clip_limit: float = _param(2.0, label="CLAHE clip limit", minimum=0.5, maximum=20.0, step=0.5)
    flatten_background: bool = _param(False, label="Flatten uneven background")
    background_radius_px: float = _param(
        60.0, label="Background radius", minimum=5.0, maximum=1000.0, step=5.0, unit="px",
        help="Larger than the largest particle.",
    )


@dataclass(frozen=True)
class ThresholdParams:
    """Foreground/background separation."""

    method: str = _param(
        "otsu", label="Threshold method", choices=("otsu", "li", "triangle", "yen", "manual", "local")
    )
    manual_value: float = _param(
        0.5, label="Manual threshold", minimum=0.0, maximum=1.0, step=0.005, help="Fraction of the intensity range."
    )
    local_block_px: int = _param(101, label="Local window", minimum=3, maximum=2001, step=2, unit="px")
    local_offset: float = _param(0.0, label="Local offset", minimum=-0.5, maximum=0.5, step=0.005)
    polarity: str = _param(
        "auto",
        label="Particles are",
        choices=("auto", "bright", "dark"),
        help="bright: bright particles on a dark background; dark: dark particles on a bright one.",
    )


@dataclass(frozen=True)
class CleanParams:
    """Mask clean-up."""

    min_area_px: float = _param(30.0, label="Minimum area", minimum=0.0, maximum=1e6, step=1.0, unit="px²")
    min_area_nm2: float = _param(
        0.0, label="Minimum area in nm² (0: the px² value)", minimum=0.0, maximum=1e12, step=1.0, unit="nm²",
        help="Used instead of the pixel value when the image is calibrated and this is above 0.",
    )
    min_area_fraction: float = _param(
        0.0, label="Minimum area (relative)", minimum=0.0, maximum=1.0, step=0.01,
        help="Also drop objects smaller than this fraction of the typical object (area-weighted median area). "
        "Off by default: it drops a real population of small particles along with specks.",
    )
    fill_holes: bool = _param(True, label="Fill holes")
    opening_radius_px: int = _param(2, label="Smoothing (opening) radius", minimum=0, maximum=20, step=1, unit="px")


@dataclass(frozen=True)
class SplitParams:
    """Separation of touching particles."""

    mode: str = _param(
        "sure_foreground",
        label="Split touching particles",
        choices=("none", "distance_peaks", "h_maxima", "sure_foreground", "neck"),
        help="neck splits where touching particles meet at a neck narrower than their own width, at any size; "
        "sure_foreground keeps each clump's core; distance_peaks and h_maxima use fixed pixel distances.",
    )
    min_distance_px: int = _param(5, label="Least distance between centres", minimum=1, maximum=200, step=1, unit="px",
                                  help="distance_peaks: two particles' centres are at least this far apart.")
    h_maxima_px: float = _param(1.5, label="h-maxima depth", minimum=0.1, maximum=50.0, step=0.1, unit="px")
    neck_depth: float = _param(
        0.25, label="Neck depth", minimum=0.05, maximum=0.9, step=0.01,
        help="Split touching particles where the neck between them is narrower than (1 - this) times the smaller one.",
    )
    sure_foreground_fraction: float = _param(
        0.6, label="Sure-foreground level", minimum=0.05, maximum=0.95, step=0.01,
        help="Fraction of each clump's largest inner distance that counts as a particle core.",
    )


@dataclass(frozen=True)
class EdgeParams:
    """Objects that are not measurable particles: cut by the border or the data bar, or burned-in text."""

    exclude_edge: bool = _param(True, label="Exclude particles touching the edge")
    exclude_annotations: bool = _param(
        True,
        label="Exclude burned-in labels and text",
        help="Drop objects whose pixels are mostly pure black or pure white (panel letters, scale-bar text).",
    )
    half_maximum_sizes: bool = _param(
        False,
        label="Sizes at half maximum",
        help="Area and ECD with each particle's edge midway between its plateau and the background around it: "
             "independent of blur, denoising and the threshold, for flat particles (plates, cubes, discs). "
             "Off by default: spheres in TEM and SEM have no plateau and read 15-25 % small.",
    )


@dataclass(frozen=True)
class SummaryParams:
    """Distribution statistics, and the shape classes they are broken down by."""

    bootstrap_samples: int = _param(1000, label="Bootstrap resamples", minimum=100, maximum=100000, step=100)
    max_families: int = _param(3, label="Largest number of size families", minimum=1, maximum=3, step=1)
    seed: int = _param(0, label="Random seed", minimum=0, maximum=2**31 - 1, step=1)
    classify_shapes: bool = _param(
        True, label="Classify particle shapes",
        help="Round, elongated, square, triangle, hexagon or irregular, by a small neural network (shape_class column).",
    )


@dataclass(frozen=True)
class DlParams:
    """Deep-learning segmentation (method ``dl``): thresholds on the network's cached probabilities."""

    probability: float = _param(
        0.5, label="Particle probability", minimum=0.05, maximum=0.95, step=0.01,
        help="Pixels more likely than this to be particle are particle.",
    )
    core_level: float = _param(
        0.5, label="Particle core level", minimum=0.05, maximum=0.95, step=0.01,
        help="Where the network is surer than this that a pixel is in a particle's core (its inner half), the "
        "particle's seed is: higher splits touching particles more readily, lower keeps irregular ones whole.",
    )
    expected_diameter_px: float = _param(
        0.0, label="Expected particle diameter", minimum=0.0, maximum=5000.0, step=1.0, unit="px",
        help="The image is rescaled so particles have the size the network was trained on; 0 = estimate it.",
    )
    scale_factor: float = _param(
        1.0, label="Scale relative to the automatic one", minimum=0.25, maximum=4.0, step=0.05,
        help="With the expected diameter at 0, the network runs at the scale it chooses itself times this: above 1 "
        "finer (small particles seen, large ones may break up), below 1 coarser. Relative, so a value learnt on one "
        "image (Adapt) carries over to images at another magnification.",
    )
    adapted_layers: str = _param(
        "", label="Fine-tuned last layers", hidden=True,
        help="The network's last two layers retrained on corrected images (Adapt), as text; empty = as shipped.",
    )


#: Core size of a montage's tile (px): a window of (4096 + 2 x 256)^2 px peaks near 1 GB through the pipeline.
DEFAULT_TILE_PX = 4096
#: How far each tile's window reaches past its core (px); particles wider than this may be cut by a seam.
DEFAULT_OVERLAP_PX = 256

#: Stage names in pipeline order, each with the params attribute that feeds it.
STAGE_FIELDS: tuple[str, ...] = ("region", "preprocess", "threshold", "dl", "clean", "split", "edge", "summary")


@dataclass(frozen=True)
class PipelineParams:
    """All analysis parameters: one frozen value, changed with :func:`dataclasses.replace`."""

    method: str = "classical"
    region: RegionParams = field(default_factory=RegionParams)
    preprocess: PreprocessParams = field(default_factory=PreprocessParams)
    threshold: ThresholdParams = field(default_factory=ThresholdParams)
    dl: DlParams = field(default_factory=DlParams)
    clean: CleanParams = field(default_factory=CleanParams)
    split: SplitParams = field(default_factory=SplitParams)
    edge: EdgeParams = field(default_factory=EdgeParams)
    summary: SummaryParams = field(default_factory=SummaryParams)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ParamsError(f"Unknown segmentation method {self.method!r}; choose one of {', '.join(METHODS)}.")
        for name in STAGE_FIELDS:
            validate_stage(getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary, with a format version."""
        return {"format_version": PARAMS_FORMAT_VERSION, **dataclasses.asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineParams:
        """Build params from a dictionary; missing keys keep their defaults, unknown keys are errors."""
        if not isinstance(data, dict):
            raise ParamsError("Parameters must be a JSON object.")
        data = dict(data)
        version = data.pop("format_version", PARAMS_FORMAT_VERSION)
        if version != PARAMS_FORMAT_VERSION:
            raise ParamsError(f"Parameter format version {version} is not supported (expected {PARAMS_FORMAT_VERSION}).")
        unknown = set(data) - {"method", *STAGE_FIELDS}
        if unknown:
            raise ParamsError(f"Unknown parameter group(s): {', '.join(sorted(unknown))}.")
        stages = {}
        for name in STAGE_FIELDS:
            stage_cls = _STAGE_CLASSES[name]
            stages[name] = _stage_from_dict(stage_cls, data.get(name, {}), name)
        return cls(method=data.get("method", "classical"), **stages)

    def with_value(self, group: str, name: str, value: Any) -> PipelineParams:
        """These params with one value changed, checked as a JSON value would be.

        Raises
        ------
        ParamsError
            Unknown group or name, a value of the wrong kind or outside the parameter's range.

        >>> PipelineParams().with_value("clean", "min_area_px", 30).clean.min_area_px
        30.0
        """
        if group not in STAGE_FIELDS:
            raise ParamsError(f"Unknown parameter group {group!r}.")
        stage = getattr(self, group)
        spec = {f.name: f for f in dataclasses.fields(stage)}.get(name)
        if spec is None:
            raise ParamsError(f"Unknown parameter {group}.{name}.")
        stage = dataclasses.replace(stage, **{name: _coerce(value, spec, group)})
        return dataclasses.replace(self, **{group: stage})

    @classmethod
    def from_json(cls, text: str) -> PipelineParams:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParamsError(f"The parameter file is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> PipelineParams:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParamsError(f"Cannot read the parameter file {path}: {exc}") from exc
        return cls.from_json(text)


#: Segmentation methods: thresholding (``classical``) or the U-Net's probabilities (``dl``).
METHODS: tuple[str, ...] = ("classical", "dl")

_STAGE_CLASSES = {
    "region": RegionParams,
    "preprocess": PreprocessParams,
    "threshold": ThresholdParams,
    "dl": DlParams,
    "clean": CleanParams,
    "split": SplitParams,
    "edge": EdgeParams,
    "summary": SummaryParams,
}


def _stage_from_dict(stage_cls: type, values: Any, group: str) -> Any:
    if not isinstance(values, dict):
        raise ParamsError(f"Parameter group {group!r} must be a JSON object.")
    names = {f.name: f for f in dataclasses.fields(stage_cls)}
    unknown = set(values) - set(names)
    if unknown:
        raise ParamsError(f"Unknown parameter(s) in {group!r}: {', '.join(sorted(unknown))}.")
    coerced = {}
    for key, value in values.items():
        coerced[key] = _coerce(value, names[key], group)
    return stage_cls(**coerced)


def _coerce(value: Any, spec: dataclasses.Field, group: str) -> Any:
    kind = type(spec.default)
    where = f"{group}.{spec.name}"
    if kind is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{where} must be true or false, not {value!r}.")
        return value
    if kind is int:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or float(value) != int(value)
        ):
            raise ParamsError(f"{where} must be a whole number, not {value!r}.")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ParamsError(f"{where} must be a number, not {value!r}.")
        return float(value)
    if not isinstance(value, str):
        raise ParamsError(f"{where} must be text, not {value!r}.")
    return value


def validate_stage(stage: Any) -> None:
    """Check every field of a stage's params against its metadata; raise :class:`ParamsError`."""
    group = type(stage).__name__
    for spec in dataclasses.fields(stage):
        value = getattr(stage, spec.name)
        meta = spec.metadata
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ParamsError(f"{group}.{spec.name} is {value!r}; choose one of {', '.join(choices)}.")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value != value:
            raise ParamsError(f"{group}.{spec.name} is not a number.")
        lo, hi = meta.get("minimum"), meta.get("maximum")
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ParamsError(f"{group}.{spec.name} = {value} is outside [{lo}, {hi}].")


def field_metadata(stage_cls: type) -> dict[str, dict[str, Any]]:
    """Return ``{field name: metadata}`` for a stage class, for building controls."""
    return {f.name: dict(f.metadata) for f in dataclasses.fields(stage_cls)}
