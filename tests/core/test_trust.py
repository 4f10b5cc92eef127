"""Knowing when unsure: particle confidence and the suspect-image flag on clear and doubtful images."""

from __future__ import annotations

import numpy as np

from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from tests.core.synthetic import disc_image, grid_centres

CENTRES = grid_centres(20, spacing=56, origin=44, columns=5)


def loaded(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


def test_clear_discs_are_confident_and_not_suspect():
    result = Pipeline(loaded(disc_image((256, 320), CENTRES, 12.0, noise=0.03))).run(PipelineParams())
    confidence = result.particles["confidence"].to_numpy()
    assert np.all((confidence > 0.8) & (confidence <= 1.0))
    assert not result.trust.suspect and result.trust.unsure_particles == 0
    assert not any("may be poor" in w for w in result.warnings)


def test_faint_discs_in_noise_are_suspect_and_say_why():
    # contrast 0.05 in noise 0.1: the threshold cuts the noise into a hundred "particles"
    grey = disc_image((256, 320), CENTRES, 12.0, background=0.45, foreground=0.50, noise=0.1, seed=3)
    result = Pipeline(loaded(grey)).run(PipelineParams())
    assert result.count > 50 and result.trust.suspect
    assert result.trust.confidence < 0.5
    assert any("may be poor" in w and "confidence" in w for w in result.warnings)


def test_noise_without_particles_is_suspect():
    grey = np.random.default_rng(0).random((200, 200)).astype(np.float32)
    result = Pipeline(loaded(grey)).run(PipelineParams())
    assert result.trust.suspect and any("not clearly bimodal" in d for d in result.trust.doubts)
