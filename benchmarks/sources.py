"""The sources accuracy is measured on, each scored on its own (never pooled).

- ``emps_val``: the EMPS validation split (``evaluation/emps_split.json``), same publication mix
  as training.
- ``ampis``: ``../shared/data/other_sources/ampis_powder``, SEM of metal powder from another lab:
  **evaluation only** (never trained or tuned on).
- ``syn_<case>``: the synthetic hard cases of :mod:`synthetic.scenes.cases`, exact truth.

Each item is ``(source, name, load)`` where ``load()`` returns ``(LoadedImage, truth)``, so the
images are read in the worker process that scores them.

Scoring convention (``shared/data/README.md``): particles touching the border are dropped from
truth and prediction; so are fragments under :data:`MIN_FRAGMENT_PX` pixels (real sources) or
:data:`MIN_FRAGMENT_SYNTHETIC_PX` (synthetic sources, whose size series starts at 6 px, 28 px²).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from evaluation import emps

SHARED_DATA = Path(os.environ.get("PARTICLE_GUI_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
AMPIS_DIR = SHARED_DATA / "other_sources" / "ampis_powder"
MIN_FRAGMENT_PX = 30
MIN_FRAGMENT_SYNTHETIC_PX = 10

REAL_SOURCES: tuple[str, ...] = ("emps_val", "ampis")


def all_sources() -> tuple[str, ...]:
    from synthetic.scenes.cases import CASES

    return REAL_SOURCES + tuple(f"syn_{c}" for c in CASES)


def min_fragment_px(source: str) -> int:
    return MIN_FRAGMENT_SYNTHETIC_PX if source.startswith("syn_") else MIN_FRAGMENT_PX


def _loaded(grey: np.ndarray, name: str):
    from particle_gui.core.io.loading import LoadedImage

    grey = np.ascontiguousarray(grey, dtype=np.float32)
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


def load_emps(name: str):
    from particle_gui.core.io.loading import load_image

    return load_image(emps.DATA_DIR / "images" / f"{name}.png"), emps.load_pair(name)[1]


def load_ampis(path: Path):
    from particle_gui.core.io.loading import load_image

    with Image.open(AMPIS_DIR / "gt" / path.name) as im:
        truth = np.asarray(im).astype(np.int32)
    return load_image(path), truth


def load_case(case: str, index: int):
    from synthetic.scenes.cases import case_image

    name, grey, truth = case_image(case, index)
    return _loaded(grey, name), truth


def items(sources: tuple[str, ...], *, limit: int | None = None) -> Iterator[tuple[str, str, partial]]:
    """(source, image name, loader) for every image of ``sources``, at most ``limit`` per source."""
    for source in sources:
        if source in ("emps_val", "emps_train"):  # emps_train: for tuning rules (never for reporting accuracy)
            names = emps.load_split()[0 if source == "emps_train" else 1]
            entries = [(n, partial(load_emps, n)) for n in names]
        elif source == "ampis":
            if not AMPIS_DIR.is_dir():
                raise FileNotFoundError(f"The AMPIS evaluation set is missing: {AMPIS_DIR}")
            entries = [(p.stem, partial(load_ampis, p)) for p in sorted((AMPIS_DIR / "images").glob("*.png"))]
        elif source.startswith("syn_"):
            from synthetic.scenes.cases import case_count

            case = source[4:]
            count = case_count(case)
            entries = [(f"{case}_{i}", partial(load_case, case, i)) for i in range(count)]
        else:
            raise ValueError(f"Unknown source {source!r}; choose from {', '.join(all_sources())}")
        for name, load in entries[:limit] if limit else entries:
            yield source, name, load
