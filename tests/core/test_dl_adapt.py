"""Fine-tuning the network's last two layers in numpy: exact against the shipped model, deterministic, learning."""

from __future__ import annotations

import numpy as np
import pytest

from particle_gui.core.adapt.adaptation import adapt
from particle_gui.core.adapt.agreement import agreement
from particle_gui.core.adapt.corrected import CorrectedImage
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.errors import ParamsError
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.network.dl import load_model
from particle_gui.core.network.dl_adapt import LastLayers, fine_tune, shipped_layers, training_pixels
from particle_gui.core.network.dl_scale import normalise_intensity
from particle_gui.core.params import PipelineParams
from synthetic.known_shapes import touching_pairs


@pytest.fixture(scope="module")
def shipped():
    return shipped_layers(str(load_model().path))


def test_the_shipped_last_layers_in_numpy_equal_the_network(shipped):
    model = load_model()
    grey, _ = touching_pairs(0, size=160)
    image = normalise_intensity(grey)
    assert np.allclose(model.predict(image, head=shipped, channels=3), model.predict(image), atol=2e-5)


def test_weights_travel_as_text_exactly(shipped):
    again = LastLayers.decode(shipped.encode())
    assert all(np.array_equal(a, b) for a, b in zip(again.arrays(), shipped.arrays()))
    for bad in ("", "something else", shipped.encode()[:-8], "last-layers-v1:!!!"):
        with pytest.raises(ParamsError):
            LastLayers.decode(bad)


def test_the_pipeline_with_the_shipped_layers_as_adapted_ones_finds_the_same_particles(shipped):
    grey, _ = touching_pairs(1)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    params = PipelineParams(method="dl").with_value("dl", "expected_diameter_px", 24.0)
    plain = Pipeline(image).labels(params)
    assert np.array_equal(Pipeline(image).labels(params.with_value("dl", "adapted_layers", shipped.encode())), plain)


def test_fine_tuning_is_deterministic_and_fits_its_pixels_better(shipped):
    model = load_model()
    grey, labels = touching_pairs(2)
    features = model.predict(normalise_intensity(grey), head=lambda f: f, channels=16)
    samples = [training_pixels(features, labels, limit=20_000, rng=np.random.default_rng(0))]
    tuned = fine_tune(samples, shipped, steps=150)
    again = fine_tune(samples, shipped, steps=150)
    assert all(np.array_equal(a, b) for a, b in zip(tuned.arrays(), again.arrays()))
    x, y = samples[0]

    def accuracy(layers):
        hidden = np.maximum(x @ layers.conv_weight.T + layers.conv_bias, 0)
        return np.mean(np.argmax(hidden @ layers.class_weight.T + layers.class_bias, axis=1) == y)
    assert accuracy(tuned) > accuracy(shipped)


def test_adapting_the_network_fine_tunes_it_and_agrees_better():
    # Fine-tuned layers are kept only where they agree better than the search alone: on this scene
    # they do (on touching_pairs(3) the search alone reaches F1 0.98 and they are set back).
    grey, truth = touching_pairs(1)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    start = PipelineParams(method="dl")
    profile = adapt([CorrectedImage(image, truth)], start, deadline_s=60)
    fit = profile.figures["fit"]
    assert fit["after"]["f1"] >= fit["before"]["f1"] and fit["after"]["f1"] >= 0.9
    assert profile.params.dl.adapted_layers.startswith("last-layers-v1:")
    assert any(c.startswith("dl.adapted_layers: as shipped -> fine-tuned (") for c in profile.changed)
    assert profile.base_model["file"] == "segmentation.onnx" and len(profile.base_model["sha256"]) == 64
    held = touching_pairs(4)
    other = LoadedImage(path=None, original=held[0], grey=held[0], intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    assert agreement(held[1], Pipeline(other).labels(profile.params)).f1 >= agreement(held[1], Pipeline(other).labels(start)).f1


def test_a_profile_learnt_at_another_magnification_is_flagged():
    grey, truth = touching_pairs(5)  # 24 px discs
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    learnt_on_large = PipelineParams(method="dl").with_value("dl", "expected_diameter_px", 240.0)
    result = Pipeline(image).run(learnt_on_large)
    assert any("The network was run for particles of 240 px" in w for w in result.warnings)
    right = Pipeline(image).run(PipelineParams(method="dl").with_value("dl", "expected_diameter_px", 24.0))
    assert not any("The network was run for particles" in w for w in right.warnings)
