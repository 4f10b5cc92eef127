"""A short soak of the real window: random slider moves and hand edits, interleaved; no stale
result is shown and the window ends on the newest one (the long run is tests/gui/soak.py)."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.gui.soak import soak
from synthetic.particle_images import particle_image


def test_random_parameter_changes_and_edits_never_show_a_stale_result(qapp, tmp_path):
    grey, _ = particle_image(300, 400, 40, seed=3)
    path = tmp_path / "soak.tif"
    tifffile.imwrite(path, (grey * 255).astype(np.uint8))
    report = soak(path, changes=25, edits=20, seed=1, warmup=5)
    assert report["stale"] == []
    assert report["edits"] == 20 and report["final_count"] > 0
