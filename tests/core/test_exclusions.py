"""Objects left out, counted by cause: cut by the data bar, by the image's border, burned-in text."""

from __future__ import annotations

import numpy as np

from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.output.export import summary_row
from particle_gui.core.params import PipelineParams
from synthetic import databars


def _specimen() -> np.ndarray:
    """Three whole discs, one cut by the left border, one cut by the specimen's bottom row (on noise)."""
    yy, xx = np.mgrid[:384, :512]
    grey = (0.25 + np.random.default_rng(1).normal(0, 0.03, (384, 512))).astype(np.float32)
    for cx, cy in ((120, 120), (260, 150), (400, 200), (0, 250), (300, 375)):
        grey[(xx - cx) ** 2 + (yy - cy) ** 2 <= 20**2] = 0.75
    return grey


def test_particles_cut_by_the_data_bar_and_by_the_border_are_counted_apart():
    image, truth = databars.draw(np.random.default_rng(0), "fei", _specimen(), light=False, family="DejaVu Sans")
    loaded = LoadedImage(path=None, original=image, grey=image.astype(np.float32), intensity_offset=0.0,
                         intensity_scale=1.0, metadata_calibration=None)
    result = Pipeline(loaded).run(PipelineParams())
    assert result.data_bar is not None and result.data_bar.first_row == truth.strip[0]
    assert result.count == 3
    assert (result.removed["data_bar"], result.removed["edge"]) == (1, 1)
    row = summary_row("bar.tif", result)
    assert (row["excluded_at_data_bar"], row["excluded_at_edge"]) == (1, 1)


def test_without_a_data_bar_the_border_takes_them_all():
    grey = _specimen()
    loaded = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                         metadata_calibration=None)
    result = Pipeline(loaded).run(PipelineParams())
    assert result.data_bar is None and result.count == 3
    assert (result.removed["data_bar"], result.removed["edge"]) == (0, 2)  # the bottom one is the border's now
