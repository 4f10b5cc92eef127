"""RGBA overlays of a label image (pure numpy, no Qt), so that the worker thread can render them."""

from __future__ import annotations

import numpy as np

from particle_gui.core.pipeline import PipelineResult
from particle_gui.core.segment import lookup

OUTLINE_RGBA = (255, 220, 0, 255)
SELECTED_RGBA = (0, 200, 255, 255)
EDGE_RGBA = (255, 90, 90, 255)
FILLED_ALPHA = 150
SELECTED_FILL_ALPHA = 70


def _random_colours(count: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    colours = np.empty((count, 4), dtype=np.uint8)
    colours[:, :3] = rng.integers(60, 256, size=(count, 3))
    colours[:, 3] = FILLED_ALPHA
    return colours


def overlay_colours(result: PipelineResult, *, mode: str, selection: tuple[int, ...] = ()) -> np.ndarray:
    """Colour table (max id + 1, 4) of uint8: outlines yellow or particles in random colours;
    edge particles red, selected ones blue, background transparent."""
    top = int(result.labels.max())
    if mode == "outline":
        colours = np.tile(np.array(OUTLINE_RGBA, dtype=np.uint8), (top + 1, 1))
    elif mode == "filled":
        colours = _random_colours(top + 1)
    else:
        raise ValueError(f"unknown overlay mode {mode!r}")
    if result.edge_ids.size:
        colours[np.asarray(result.edge_ids, dtype=np.int64)] = EDGE_RGBA
    selected = np.array([i for i in selection if 0 < i <= top], dtype=np.int64)
    colours[selected] = SELECTED_RGBA
    colours[0] = (0, 0, 0, 0)
    return colours


def render_overlay_rgba(
    result: PipelineResult, outlines: np.ndarray, *, mode: str = "outline", selection: tuple[int, ...] = ()
) -> np.ndarray:
    """The RGBA overlay image (H, W, 4) for a result; selected particles are also lightly filled."""
    labels = outlines if mode == "outline" else result.labels
    rgba = lookup(overlay_colours(result, mode=mode, selection=selection), labels)
    if selection and mode == "outline":
        selected = np.array(selection, dtype=np.int64)
        filled = np.isin(result.labels, selected) & (labels == 0)
        rgba[filled] = (*SELECTED_RGBA[:3], SELECTED_FILL_ALPHA)
    return rgba
