"""RGBA overlays of a label image (pure numpy, no Qt), so that the worker thread can render them."""

from __future__ import annotations

import numpy as np

from particle_gui.core.pipeline import PipelineResult
from particle_gui.core.segment import lookup
from particle_gui.core.shape_classes import CLASS_COLUMN, UNCLASSIFIED, class_order

OUTLINE_RGBA = (255, 220, 0, 255)
SELECTED_RGBA = (0, 200, 255, 255)
EDGE_RGBA = (255, 90, 90, 255)
FILLED_ALPHA = 150
SELECTED_FILL_ALPHA = 70
#: Overlay modes: outlines, particles in random colours, particles coloured by shape class.
OVERLAY_MODES = ("outline", "filled", "shape")
#: Shape-class colours (Okabe-Ito, distinguishable with common colour-vision deficiencies).
SHAPE_CLASS_RGB: dict[str, tuple[int, int, int]] = {
    "round": (0, 158, 115),
    "elongated": (230, 159, 0),
    "square": (204, 121, 167),
    "triangle": (240, 228, 66),
    "hexagon": (0, 114, 178),
    "irregular": (213, 94, 0),
    UNCLASSIFIED: (150, 150, 150),
}


def _random_colours(count: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    colours = np.empty((count, 4), dtype=np.uint8)
    colours[:, :3] = rng.integers(60, 256, size=(count, 3))
    colours[:, 3] = FILLED_ALPHA
    return colours


def shape_class_rgb(name: str) -> tuple[int, int, int]:
    """The overlay colour of a shape class (grey for unclassified or unknown names)."""
    return SHAPE_CLASS_RGB.get(str(name), SHAPE_CLASS_RGB[UNCLASSIFIED])


def shape_legend(result: PipelineResult | None) -> list[tuple[str, tuple[int, int, int], int]]:
    """(class, RGB, count) for each shape class present in ``result``, in class order."""
    if result is None or CLASS_COLUMN not in result.particles.columns:
        return []
    names = result.particles[CLASS_COLUMN].fillna(UNCLASSIFIED).astype(str).to_numpy()
    return [(name, shape_class_rgb(name), int((names == name).sum())) for name in class_order(names)]


def _shape_colours(result: PipelineResult, count: int) -> np.ndarray:
    colours = np.zeros((count, 4), dtype=np.uint8)
    colours[:, :3] = SHAPE_CLASS_RGB[UNCLASSIFIED]
    colours[:, 3] = FILLED_ALPHA
    table = result.particles
    if CLASS_COLUMN in table.columns and len(table):
        ids = table["id"].to_numpy(np.int64)
        names = table[CLASS_COLUMN].fillna(UNCLASSIFIED).astype(str).to_numpy()
        inside = ids < count
        colours[ids[inside], :3] = np.array([shape_class_rgb(n) for n in names[inside]], dtype=np.uint8).reshape(-1, 3)
    return colours


def overlay_colours(result: PipelineResult, *, mode: str, selection: tuple[int, ...] = ()) -> np.ndarray:
    """Colour table (max id + 1, 4) of uint8: outlines yellow, particles in random colours, or
    particles coloured by shape class; edge particles red (not in shape mode), selected ones
    blue, background transparent."""
    top = int(result.labels.max())
    if mode == "outline":
        colours = np.tile(np.array(OUTLINE_RGBA, dtype=np.uint8), (top + 1, 1))
    elif mode == "filled":
        colours = _random_colours(top + 1)
    elif mode == "shape":
        colours = _shape_colours(result, top + 1)
    else:
        raise ValueError(f"unknown overlay mode {mode!r}")
    if result.edge_ids.size and mode != "shape":
        colours[np.asarray(result.edge_ids, dtype=np.int64)] = EDGE_RGBA
    selected = np.array([i for i in selection if 0 < i <= top], dtype=np.int64)
    colours[selected] = SELECTED_RGBA
    colours[0] = (0, 0, 0, 0)
    return colours


def render_overlay_rgba(
    result: PipelineResult, outlines: np.ndarray, *, mode: str = "outline", selection: tuple[int, ...] = ()
) -> np.ndarray:
    """The RGBA overlay image (H, W, 4) for a result; selected particles are also lightly filled.

    In ``"shape"`` mode particles are filled in their class colour and outlined in it, opaque.
    """
    labels = outlines if mode == "outline" else result.labels
    rgba = lookup(overlay_colours(result, mode=mode, selection=selection), labels)
    if mode == "shape":
        rgba[outlines > 0, 3] = 255
    if selection and mode == "outline":
        selected = np.array(selection, dtype=np.int64)
        filled = np.isin(result.labels, selected) & (labels == 0)
        rgba[filled] = (*SELECTED_RGBA[:3], SELECTED_FILL_ALPHA)
    return rgba
