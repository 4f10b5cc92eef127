"""A search over the pipeline's parameters for the settings that best reproduce the user's corrections.

Coordinate ascent: the axes are walked in pipeline order (pre-processing, threshold, cleaning,
splitting) and on each the option with the best pooled :attr:`~particle_gui.core.adapt.agreement.
Agreement.objective` over the corrected images is kept; a second round revisits every axis with
the others settled. Each corrected image has its own :class:`~particle_gui.core.analysis.pipeline.
Pipeline`, so a try that changes only the split re-runs only the split (the staged cache): most
tries cost a fraction of a full analysis. The search stops at a deadline and returns the best
settings found so far; every try is kept for the report.

The options of the size-dependent axes (split distance, smallest particle) are scaled to the typical
diameter of the corrected particles; the network's scale is learnt relative to the one it chooses
itself, so that a profile carries over to images at another magnification.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from particle_gui.core.adapt.agreement import Agreement, agreement, pooled
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.errors import CancelledError, ParamsError
from particle_gui.core.params import PipelineParams

#: One option of an axis: the values it sets, as (group, name, value).
Option = tuple[tuple[str, str, Any], ...]
SearchProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Axis:
    """One dimension of the search: a name for the report and its options."""

    name: str
    options: tuple[Option, ...]
    #: An option must raise the objective by more than this to replace the current one.
    min_gain: float = 0.0


def _odd(value: float) -> int:
    return int(max(3, 2 * round(value / 2) + 1))


def _split_options(typical_px: float, *, dl: bool) -> tuple[Option, ...]:
    distances = tuple(("distance_peaks", max(2, int(round(typical_px * f)))) for f in (0.25, 0.35, 0.5))
    out: list[Option] = [(("split", "mode", "none"),)]
    if dl:
        out += [(("split", "mode", "sure_foreground"), ("dl", "core_level", level)) for level in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
    else:
        out += [(("split", "mode", "sure_foreground"), ("split", "sure_foreground_fraction", f)) for f in (0.4, 0.5, 0.6, 0.7, 0.8)]
        out += [(("split", "mode", "neck"), ("split", "neck_depth", d)) for d in (0.1, 0.2, 0.3, 0.45)]
        out += [(("split", "mode", "h_maxima"), ("split", "h_maxima_px", h)) for h in (0.5, 1.0, 2.0, 3.0)]
    out += [(("split", "mode", mode), ("split", "min_distance_px", d)) for mode, d in distances]
    return tuple(out)


def _cleaning_axes() -> list[Axis]:
    # The smallest particle is learnt relative to each image's typical particle (a fraction of its
    # area-weighted median area), so that a profile carries over to images at another magnification;
    # an absolute area learnt on large particles would remove every particle of an image of small ones.
    return [
        Axis("smoothing", tuple((("clean", "opening_radius_px", r),) for r in (0, 1, 2, 3))),
        Axis("smallest particle", tuple((("clean", "min_area_fraction", f),) for f in (0.0, 0.01, 0.03, 0.1))),
    ]


def classical_axes(typical_px: float) -> list[Axis]:
    """The classical pipeline's axes, in pipeline order, scaled to ``typical_px``."""
    block = _odd(4 * typical_px)
    return [
        Axis("denoise", (
            (("preprocess", "denoise", "none"),),
            *((("preprocess", "denoise", "gaussian"), ("preprocess", "gaussian_sigma_px", s)) for s in (0.8, 1.5, 3.0)),
            (("preprocess", "denoise", "median"), ("preprocess", "median_size_px", 5)),
        )),
        Axis("uneven background", tuple((("preprocess", "flatten_background", v),) for v in (False, True))),
        Axis("threshold", (
            *((("threshold", "method", m),) for m in ("otsu", "li", "triangle", "yen")),
            *((("threshold", "method", "local"), ("threshold", "local_block_px", min(block, 2001)),
               ("threshold", "local_offset", o)) for o in (-0.02, 0.0, 0.02)),
        )),
        *_cleaning_axes(),
        Axis("split", _split_options(typical_px, dl=False)),
    ]


#: The network's scale changes only for a clear gain on the corrected images: a scale that fits one
#: image a little better often fits the next one much worse (EMPS images of one kind: F1 1.00 -> 0.55).
SCALE_MIN_GAIN = 0.05


def dl_axes(typical_px: float) -> list[Axis]:
    """The network's axes (scale relative to its own choice, probability, cleaning, split), the split's scaled to ``typical_px``."""
    # The scale is learnt relative to the network's own choice, never as an absolute diameter: a
    # diameter learnt on one image ruins images of the same kind at another magnification (EMPS
    # images of one size: F1 0.70 -> 0.17). Finer than its choice too: where small and large
    # particles share an image, the corrected image says whether seeing the small ones is worth
    # breaking up some large ones.
    return [
        Axis("network scale", tuple((("dl", "expected_diameter_px", 0.0), ("dl", "scale_factor", f))
                                    for f in (1.0, 0.7, 1.4, 2.0, 2.8)), min_gain=SCALE_MIN_GAIN),
        Axis("particle probability", tuple((("dl", "probability", p),) for p in (0.3, 0.4, 0.5, 0.6, 0.7))),
        *_cleaning_axes(),
        Axis("split", _split_options(typical_px, dl=True)),
    ]


def apply_option(params: PipelineParams, option: Option) -> PipelineParams:
    """``params`` with the option's values set (each checked as a JSON value)."""
    for group, name, value in option:
        params = params.with_value(group, name, value)
    return params


@dataclass
class SearchResult:
    """The best settings found, their agreement, and every try made."""

    params: PipelineParams
    agreement: Agreement
    start_agreement: Agreement
    tries: int = 0
    seconds: float = 0.0
    stopped_by_deadline: bool = False
    changed: list[str] = field(default_factory=list)


class Evaluator:
    """Scores params on the corrected images, each with its own cached pipeline; remembers every score."""

    def __init__(self, pipelines: Sequence[Pipeline], corrected: Sequence[np.ndarray],
                 should_cancel: Callable[[], bool] | None = None) -> None:
        if len(pipelines) != len(corrected) or not pipelines:
            raise ValueError("one corrected label image per pipeline, at least one")
        self.pipelines, self.corrected, self.should_cancel = list(pipelines), list(corrected), should_cancel
        self._scores: dict[PipelineParams, Agreement] = {}

    def __call__(self, params: PipelineParams) -> Agreement:
        known = self._scores.get(params)
        if known is None:
            if self.should_cancel is not None and self.should_cancel():
                raise CancelledError("The adaptation was cancelled.")
            parts = [agreement(truth, pipeline.labels(params, should_cancel=self.should_cancel))
                     for pipeline, truth in zip(self.pipelines, self.corrected)]
            known = self._scores[params] = pooled(parts)
        return known

    @property
    def tries(self) -> int:
        return len(self._scores)


def search(evaluate: Evaluator, start: PipelineParams, axes: Sequence[Axis], *, rounds: int = 2,
           deadline_s: float | None = None, progress: SearchProgress | None = None) -> SearchResult:
    """Coordinate ascent over ``axes`` from ``start`` (see the module text).

    Parameters
    ----------
    evaluate : Evaluator
    start : PipelineParams
        The settings the user had; kept unless a try agrees better.
    axes : sequence of Axis
    rounds : int
    deadline_s : float, optional
        Seconds after which the search returns the best settings found so far.
    progress : callable, optional
        ``progress(step, steps, message)`` after each axis.

    Raises
    ------
    CancelledError
        ``evaluate.should_cancel`` returned True.
    """
    started = time.perf_counter()
    best, best_score = start, evaluate(start)
    first = best_score
    steps, step, out_of_time = rounds * len(axes), 0, False
    for _ in range(rounds):
        improved = False
        for axis in axes:
            for option in axis.options:
                if deadline_s is not None and time.perf_counter() - started > deadline_s:
                    out_of_time = True
                    break
                try:
                    candidate = apply_option(best, option)
                except ParamsError:  # a size-scaled option beyond the parameter's range (huge particles)
                    continue
                if candidate == best:
                    continue
                score = evaluate(candidate)
                if score.objective > best_score.objective + axis.min_gain + 1e-9:
                    best, best_score, improved = candidate, score, True
            step += 1
            if progress is not None:
                progress(step, steps, f"{axis.name}: F1 {best_score.f1:.2f}")
            if out_of_time:
                break
        if out_of_time or not improved:
            break
    best, best_score = _without_idle_changes(evaluate, start, best, best_score)
    return SearchResult(best, best_score, first, evaluate.tries, time.perf_counter() - started, out_of_time,
                        changed_values(start, best))


def _without_idle_changes(evaluate: Evaluator, start: PipelineParams, best: PipelineParams,
                          best_score: Agreement) -> tuple[PipelineParams, Agreement]:
    """``best`` with every changed value that gains nothing set back to the start's (a shorter, truer report)."""
    old = start.to_dict()
    for change in changed_values(start, best):
        name = change.split(":")[0]
        if "." not in name:
            continue
        group, field_name = name.split(".")
        candidate = best.with_value(group, field_name, old[group][field_name])
        score = evaluate(candidate)
        if score.objective >= best_score.objective - 1e-9:
            best, best_score = candidate, score
    return best, best_score


def changed_values(before: PipelineParams, after: PipelineParams) -> list[str]:
    """``group.name: old -> new`` for every value that differs, for the report.

    >>> changed_values(PipelineParams(), PipelineParams().with_value("clean", "opening_radius_px", 0))
    ['clean.opening_radius_px: 2 -> 0']
    """
    out = []
    old, new = before.to_dict(), after.to_dict()
    for group, values in new.items():
        if not isinstance(values, dict):
            if values != old[group]:
                out.append(f"{group}: {old[group]} -> {values}")
            continue
        out.extend(f"{group}.{name}: {_shown(old[group][name])} -> {_shown(value)}" for name, value in values.items()
                   if value != old[group][name])
    return out


def _shown(value: Any) -> str:
    """A value as the report shows it: fine-tuned weights by their fingerprint, not their text."""
    if isinstance(value, str) and len(value) > 60:
        import hashlib

        return f"fine-tuned ({hashlib.sha256(value.encode()).hexdigest()[:12]})"
    return str(value) if value != "" else "as shipped"
