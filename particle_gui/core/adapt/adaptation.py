"""Adapt the analysis to a user's corrected images: search, then measure the gain on images held out.

:func:`adapt` searches the method's parameters (:mod:`particle_gui.core.adapt.search`) for the
settings that agree best with every corrected image and returns an
:class:`~particle_gui.core.adapt.profile.AdaptedProfile`. With two or more corrected images it
then repeats the search once per image with that image left out and scores it, before and after:
the figure a user can believe, since the image was not learnt from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

import numpy as np

from particle_gui.core.adapt.agreement import Agreement, agreement, pooled
from particle_gui.core.adapt.corrected import CorrectedImage
from particle_gui.core.adapt.matching import drop_edge_instances
from particle_gui.core.adapt.profile import AdaptedProfile
from particle_gui.core.adapt.network import fine_tuned_layers
from particle_gui.core.adapt.search import Evaluator, SearchResult, changed_values, classical_axes, dl_axes, search
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.editing.session import file_sha256
from particle_gui.core.network.dl_scale import typical_diameter
from particle_gui.core.params import PipelineParams

#: Seconds the search may take by default, per method (the issue's budgets, with a margin).
DEFAULT_DEADLINE_S = {"classical": 50.0, "dl": 240.0}
AdaptProgress = Callable[[int, int, str], None]


def typical_corrected_diameter(corrected: Sequence[CorrectedImage]) -> float:
    """Median of the corrected images' typical particle diameters (px), edge particles left out."""
    values = [typical_diameter(drop_edge_instances(c.labels)) for c in corrected]
    values = [v for v in values if np.isfinite(v)]
    return float(np.median(values)) if values else 20.0


def adapt(corrected: Sequence[CorrectedImage], start: PipelineParams, *, deadline_s: float | None = None,
          held_out: bool = True, fine_tune_network: bool = True, progress: AdaptProgress | None = None,
          should_cancel: Callable[[], bool] | None = None) -> AdaptedProfile:
    """Learn a profile for ``start.method`` from ``corrected`` (see the module text).

    Parameters
    ----------
    corrected : sequence of CorrectedImage
    start : PipelineParams
        The settings the user had (their method is the one adapted); kept where nothing agrees better.
    deadline_s : float, optional
        Seconds for the main search (default :data:`DEFAULT_DEADLINE_S`); each held-out search gets
        its share of the same again.
    held_out : bool
        Measure the gain with each image held out (needs two or more images).
    fine_tune_network : bool
        For the network: also retrain its last two layers on the corrected images
        (:mod:`particle_gui.core.adapt.network`), then settle the thresholds again.
    progress : callable, optional
        ``progress(step, steps, message)``.
    should_cancel : callable, optional

    Raises
    ------
    CancelledError
    """
    if not corrected:
        raise ValueError("no corrected images")
    started = time.perf_counter()
    deadline = DEFAULT_DEADLINE_S[start.method] if deadline_s is None else deadline_s
    classify_shapes = start.summary.classify_shapes
    start = start.with_value("summary", "classify_shapes", False)  # labels only: classes do not move the outlines
    typical = typical_corrected_diameter(corrected)
    axes = dl_axes(typical) if start.method == "dl" else classical_axes(typical)
    pipelines = [Pipeline(c.image) for c in corrected]
    truths = [c.labels for c in corrected]
    loo = held_out and len(corrected) >= 2
    phases = 1 + (len(corrected) if loo else 0)

    def phase_progress(phase: int, label: str):
        if progress is None:
            return None
        return lambda step, steps, message: progress(phase * steps + step, phases * steps, f"{label}: {message}")

    result = learn(pipelines, truths, start, axes, deadline_s=deadline, fine_tune_network=fine_tune_network,
                   should_cancel=should_cancel, progress=phase_progress(0, "learning"))
    figures = {"fit": {"before": result.start_agreement.to_dict(), "after": result.agreement.to_dict()}}
    if loo:
        figures["held_out"] = _held_out(pipelines, truths, start, axes, deadline / len(corrected), fine_tune_network,
                                        should_cancel, phase_progress, [c.name for c in corrected])
    params = result.params.with_value("summary", "classify_shapes", classify_shapes)
    images = tuple({"name": c.name, "sha256": file_sha256(c.image.path) if c.image.path else "",
                    "particles": int(np.unique(c.labels[c.labels > 0]).size)} for c in corrected)
    base_model = None
    if start.method == "dl":
        from particle_gui.core.network.dl import load_model

        model = load_model()
        base_model = {"file": model.path.name, "sha256": file_sha256(model.path), "version": model.info.version}
    return AdaptedProfile(
        params=params, images=images, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        figures=figures, changed=tuple(result.changed), base_model=base_model,
        search={"tries": result.tries, "seconds": round(result.seconds, 1), "stopped_by_deadline": result.stopped_by_deadline,
                "typical_diameter_px": round(typical, 1), "total_seconds": round(time.perf_counter() - started, 1)},
    )


def learn(pipelines: Sequence[Pipeline], truths: Sequence[np.ndarray], start: PipelineParams, axes, *,
          deadline_s: float, fine_tune_network: bool = True, should_cancel: Callable[[], bool] | None = None,
          progress=None) -> SearchResult:
    """The search; for the network then its last layers fine-tuned and the thresholds searched again."""
    began = time.perf_counter()
    tune = start.method == "dl" and fine_tune_network
    evaluate = Evaluator(pipelines, truths, should_cancel)
    half = None
    if progress is not None and tune:  # one bar for both searches: the first fills 60 %, the second the rest
        def half(offset: float, share: float):
            return lambda step, steps, message: progress(round(100 * (offset + share * step / steps)), 100, message)
    first = search(evaluate, start, axes, deadline_s=deadline_s * (0.6 if tune else 1.0),
                   progress=half(0.0, 0.6) if half else progress)
    if not tune:
        return first
    layers = fine_tuned_layers(pipelines, truths, first.params, should_cancel=should_cancel)
    tuned = first.params.with_value("dl", "adapted_layers", layers.encode())
    remaining = max(deadline_s - (time.perf_counter() - began), 0.25 * deadline_s)
    second = search(evaluate, tuned, axes, rounds=1, deadline_s=remaining, progress=half(0.6, 0.4) if half else progress)
    if second.agreement.objective < first.agreement.objective:
        return first
    return SearchResult(second.params, second.agreement, first.start_agreement, evaluate.tries,
                        time.perf_counter() - began, first.stopped_by_deadline or second.stopped_by_deadline,
                        changed_values(start, second.params))


def _held_out(pipelines, truths, start, axes, deadline, fine_tune_network, should_cancel, phase_progress, names) -> dict:
    """Each image scored with the settings learnt from the others, against the starting settings."""
    before: list[Agreement] = []
    after: list[Agreement] = []
    per_image = []
    for i in range(len(pipelines)):
        others = [j for j in range(len(pipelines)) if j != i]
        learnt = learn([pipelines[j] for j in others], [truths[j] for j in others], start, axes, deadline_s=deadline,
                       fine_tune_network=fine_tune_network, should_cancel=should_cancel,
                       progress=phase_progress(i + 1, f"held out {i + 1}"))
        b = agreement(truths[i], pipelines[i].labels(start, should_cancel=should_cancel))
        a = agreement(truths[i], pipelines[i].labels(learnt.params, should_cancel=should_cancel))
        before.append(b)
        after.append(a)
        per_image.append({"image": names[i], "before": b.to_dict(), "after": a.to_dict()})
    return {"before": pooled(before).to_dict(), "after": pooled(after).to_dict(), "images": per_image}
