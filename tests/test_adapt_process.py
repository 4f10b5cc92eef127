"""Adaptation in its own process: the same profile as in-process, progress back, cancel out."""

from __future__ import annotations

import pytest

from particle_gui.core.adapt.adaptation import adapt
from particle_gui.core.adapt.corrected import CorrectedImage
from particle_gui.core.errors import CancelledError
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.desktop.adapt_process import adapt_in_process
from synthetic.known_shapes import touching_pairs


def _corrected(seed: int) -> CorrectedImage:
    grey, truth = touching_pairs(seed)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    return CorrectedImage(image, truth)


def test_the_child_process_learns_what_the_window_would():
    corrected = [_corrected(0)]
    steps = []
    elsewhere = adapt_in_process(corrected, PipelineParams(), deadline_s=120, progress=lambda *a: steps.append(a))
    here = adapt(corrected, PipelineParams(), deadline_s=120)
    assert elsewhere.params == here.params and elsewhere.figures == here.figures
    assert steps and steps[-1][0] == steps[-1][1]  # progress came back, to the end


def test_a_cancel_reaches_the_child():
    asked = []

    def cancel_after_first_step() -> bool:
        return bool(asked)

    with pytest.raises(CancelledError):
        adapt_in_process([_corrected(1)], PipelineParams(), deadline_s=120, progress=lambda *a: asked.append(a),
                         should_cancel=cancel_after_first_step)
