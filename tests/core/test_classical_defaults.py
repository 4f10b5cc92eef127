"""The classical method's defaults on cases a microscopist meets: clusters of touching spheres,
two populations of very different size, hollow particles (synthetic scenes with exact truth)."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.scoring import score_image
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.analysis.segment import fill_particle_holes
from synthetic.scenes import image_of, layout
from tests.core.synthetic import disc_image


def loaded(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


@pytest.mark.parametrize("mode", ["tem", "sem"])
def test_a_cluster_of_touching_spheres_splits_into_its_spheres(mode):
    rng = np.random.default_rng(4 if mode == "tem" else 6)
    spheres = layout.aggregate(rng, (200, 200), 50, layout.lognormal_sizes(20, 0.05), layout.one_shape("sphere"),
                               compact=0.8, contact=(0.85, 0.95))
    grey, truth = image_of(spheres, (400, 400), rng, mode=mode, strength=0.4, text=False)
    result = Pipeline(loaded(grey)).run(PipelineParams())
    score = score_image(truth, result.labels, min_fragment_px=10)
    assert score["n_true"] >= 35
    assert result.count >= 0.6 * score["n_true"]  # the defaults used to return the cluster as one particle
    assert score["f1"] >= 0.6


def test_a_small_population_is_kept():
    # 40 discs 8 px wide beside 9 discs 48 px wide: the old relative cut (5 % of the area-weighted
    # median, 90 px²) dropped every small one
    small = [(20 + 30 * (i // 8) + 0.5, 20 + 30 * (i % 8) + 0.5) for i in range(40)]
    large = [(200 + 60 * (i // 3) + 0.5, 40 + 80 * (i % 3) + 0.5) for i in range(9)]
    grey = disc_image((380, 280), small, 4.0, noise=0.02)
    grey = np.maximum(grey, disc_image((380, 280), large, 24.0, noise=0.02))
    result = Pipeline(loaded(grey)).run(PipelineParams())
    diameters = result.particles["ecd"].to_numpy()
    assert np.count_nonzero(diameters < 15) == 40 and np.count_nonzero(diameters > 40) == 9


def test_holes_are_filled_per_particle_after_the_split():
    labels = np.zeros((30, 60), np.int32)
    yy, xx = np.mgrid[:30, :60]
    ring = ((yy - 15) ** 2 + (xx - 15) ** 2 < 12**2) & ((yy - 15) ** 2 + (xx - 15) ** 2 >= 5**2)
    labels[ring] = 1  # a hollow particle: its hole is its own
    labels[(yy - 15) ** 2 + (xx - 45) ** 2 < 12**2] = 2
    labels[14:17, 26:34] = 0  # a gap where 1 and 2 meet stays empty
    filled = fill_particle_holes(labels)
    assert filled[15, 15] == 1 and filled[15, 30] == 0
