"""The network's accuracy on real validation images, with the scale it chooses itself.

Guards what no synthetic test showed: from 2 December a size probe that ran finer whenever the
network broke large particles into pieces brought EMPS validation F1 from ~0.87 to 0.41 and no
test failed. The first 12 images of the validation split (``evaluation/emps_split.json``) are
scored as ``python -m benchmarks.bench_sources --sources emps_val --limit 12`` scores them
(0.79, D50 error 5.5 %, with the scale ladder; 0.48 on the first 10 with the old probe).
"""

from __future__ import annotations

import numpy as np

from evaluation import emps
from evaluation.scoring import pool, score_image
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.io.loading import load_image
from particle_gui.core.params import PipelineParams
from tests.shared_data import EMPS, require

IMAGES = 12
#: Fragments under this many pixels are left out on both sides (benchmarks.sources.MIN_FRAGMENT_PX).
MIN_FRAGMENT_PX = 30


def test_the_network_finds_the_validation_particles_at_its_own_scale():
    folder = require(EMPS)
    names = emps.load_split()[1][:IMAGES]
    rows = []
    for name in names:
        image = load_image(folder / "images" / f"{name}.png")
        truth = emps.load_pair(name)[1].astype(np.int32)
        labels = Pipeline(image).run(PipelineParams(method="dl")).labels
        rows.append(score_image(truth, labels, min_fragment_px=MIN_FRAGMENT_PX))
    pooled = pool(rows)
    assert pooled["f1"] >= 0.75
    assert pooled["d50_error"] <= 0.10
