"""The network's part of an adaptation: its last two layers fine-tuned on the corrected images.

Each corrected image is run at the scale the search settled on (the pipeline's cached inference
says which); its features and its corrected labels at that scale give the training pixels. Pixels
of particles the corrections leave out because they are cut by the image's edge or the data bar
are not used: the labels say nothing about them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.network.dl import load_model
from particle_gui.core.network.dl_adapt import LastLayers, fine_tune, shipped_layers, training_pixels
from particle_gui.core.network.dl_scale import normalise_intensity, resize, scaled_shape
from particle_gui.core.params import PipelineParams

#: Training pixels drawn from each corrected image.
PIXELS_PER_IMAGE = 200_000


def _unknown_pixels(pipeline: Pipeline, corrected: np.ndarray) -> np.ndarray:
    """Pixels whose class the corrections do not say: uncorrected particles cut by an edge or the data bar."""
    split = pipeline.stage_output("split")
    top, rows = pipeline.stage_output("region").rows
    unknown = np.zeros(corrected.shape, dtype=bool)
    unknown[:top] = unknown[rows:] = True
    if split is None:
        return unknown
    border = np.concatenate([split[top], split[rows - 1], split[top:rows, 0], split[top:rows, -1]])
    cut = np.unique(border[border > 0])
    return unknown | (np.isin(split, cut) & (corrected == 0))


def fine_tuned_layers(pipelines: Sequence[Pipeline], corrected: Sequence[np.ndarray], params: PipelineParams, *,
                      seed: int = 0, should_cancel: Callable[[], bool] | None = None) -> LastLayers:
    """The last two layers retrained on ``corrected`` at the scales ``params`` run the network at."""
    model = load_model()
    rng = np.random.default_rng(seed)
    samples = []
    for pipeline, truth in zip(pipelines, corrected):
        pipeline.labels(params, should_cancel=should_cancel)  # caches this run's inference and split
        scale = pipeline.stage_output("inference").scale
        grey = pipeline.stage_output("region").grey
        normalised = normalise_intensity(grey, percentiles=model.info.percentiles)
        shape = scaled_shape(normalised.shape, scale)
        features = model.predict(resize(normalised, shape), head=lambda f: f, channels=16, should_cancel=should_cancel)
        labels = resize(truth.astype(np.int32), shape, nearest=True)
        valid = ~resize(_unknown_pixels(pipeline, truth).astype(np.uint8), shape, nearest=True).astype(bool)
        samples.append(training_pixels(features, labels, limit=PIXELS_PER_IMAGE, rng=rng, valid=valid,
                                       border_px=int(model.info.border_px)))
    start = shipped_layers(str(model.path))
    return fine_tune(samples, start, seed=seed, should_cancel=should_cancel)
