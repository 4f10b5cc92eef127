"""What the user sees of a result: the display image, the palette and the overlays (pure NumPy).

The window, the exported overlay PNG and the report's previews are all drawn here, with one
palette, so that what is signed on paper is what was seen on screen. Rendering runs in the
worker thread; after a hand edit only the edit's box is redrawn (:func:`update_layers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from particle_gui.core.io.databar import to_uint8
from particle_gui.core.labels import Box, lookup, outline_labels
from particle_gui.core.analysis.shape_classes import CLASS_COLUMN, UNCLASSIFIED, class_order

if TYPE_CHECKING:
    from particle_gui.core.io.loading import LoadedImage
    from particle_gui.core.analysis.pipeline import PipelineResult

OUTLINE_RGBA = (255, 220, 0, 255)
SELECTED_RGBA = (0, 200, 255, 255)
#: Particles cut by the image border or the data bar (left out of the statistics).
EDGE_RGBA = (255, 90, 90, 255)
FILLED_ALPHA = 150
SELECTED_FILL_ALPHA = 70
#: Overlay modes: outlines, particles in random colours, particles coloured by shape class.
OVERLAY_MODES = ("outline", "filled", "shape", "suspects")
#: Suspect particles (likely wrong: see :mod:`particle_gui.core.analysis.suspects`) in the "suspects" mode.
SUSPECT_RGBA = (230, 30, 30, 170)
#: The other particles in that mode: a faint fill, so the suspects stand out.
TRUSTED_RGBA = (255, 220, 0, 50)
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
#: Colour and opacity of the tint over the excluded data bar in files (RGB, 0..1).
DATA_BAR_TINT_RGB = (0, 96, 255)
DATA_BAR_TINT_ALPHA = 0.4
#: Percentiles of the grey image mapped to 0 and 255 for display of non-8-bit images.
DISPLAY_PERCENTILES = (0.5, 99.5)
#: Display percentiles are estimated on at most about this many pixels.
_DISPLAY_SAMPLE_PIXELS = 4_000_000


# --- the image -----------------------------------------------------------------------------------

def display_image_uint8(image: LoadedImage) -> np.ndarray:
    """The 8-bit grey version of an image shown under overlays.

    An 8-bit grey original is returned as it is, an 8-bit colour one as its luminance; any
    other image is stretched so that its 0.5 and 99.5 percentiles map to 0 and 255.

    Returns
    -------
    ndarray of uint8, shape (H, W)
    """
    original = image.original
    if original.dtype == np.uint8:
        return original if original.ndim == 2 else to_uint8(image.grey)
    grey = image.grey
    step = max(1, int(np.sqrt(grey.size / _DISPLAY_SAMPLE_PIXELS)))
    low, high = (float(v) for v in np.percentile(grey[::step, ::step], DISPLAY_PERCENTILES))
    if high <= low:
        low, high = float(grey.min()), float(grey.max())
    if high <= low:
        return np.zeros(grey.shape, dtype=np.uint8)
    return to_uint8((grey - np.float32(low)) * np.float32(1.0 / (high - low)))


# --- palette -------------------------------------------------------------------------------------

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


def outline_colours(top: int, edge_ids) -> np.ndarray:
    """The outline palette for ids 0..top: yellow, edge particles red, background transparent.

    >>> outline_colours(2, [2]).tolist()
    [[0, 0, 0, 0], [255, 220, 0, 255], [255, 90, 90, 255]]
    """
    colours = np.tile(np.array(OUTLINE_RGBA, dtype=np.uint8), (top + 1, 1))
    edges = np.asarray(edge_ids, dtype=np.int64)
    colours[edges[edges <= top]] = EDGE_RGBA
    colours[0] = (0, 0, 0, 0)
    return colours


def suspect_ids(result: PipelineResult) -> np.ndarray:
    """Ids of the result's suspect particles, in increasing order (empty without the column)."""
    table = result.particles
    if "suspect" not in table.columns or not len(table):
        return np.zeros(0, dtype=np.int64)
    return np.sort(table.loc[table["suspect"].astype(bool), "id"].to_numpy(np.int64))


def overlay_colours(result: PipelineResult, *, mode: str, selection: tuple[int, ...] = ()) -> np.ndarray:
    """Colour table (max id + 1, 4) of uint8 for the overlay.

    Outlines are yellow, particles in random colours or coloured by shape class; edge particles red
    (not in shape mode); in suspects mode suspect particles red over a faint fill of the others;
    selected ones blue, background transparent.
    """
    top = int(result.labels.max())
    if mode == "outline":
        colours = outline_colours(top, result.edge_ids)
    elif mode == "filled":
        colours = _random_colours(top + 1)
        edges = np.asarray(result.edge_ids, dtype=np.int64)
        colours[edges[edges <= top]] = EDGE_RGBA
    elif mode == "shape":
        colours = _shape_colours(result, top + 1)
    elif mode == "suspects":
        colours = np.tile(np.array(TRUSTED_RGBA, dtype=np.uint8), (top + 1, 1))
        colours[suspect_ids(result)] = SUSPECT_RGBA
    else:
        raise ValueError(f"unknown overlay mode {mode!r}")
    selected = np.array([i for i in selection if 0 < i <= top], dtype=np.int64)
    colours[selected] = SELECTED_RGBA
    colours[0] = (0, 0, 0, 0)
    return colours


# --- overlays on screen --------------------------------------------------------------------------

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


@dataclass(eq=False)
class OverlayLayers:
    """A result's outlines (labels on particle boundaries) and its plain outline overlay (RGBA)."""

    outlines: np.ndarray
    outline_rgba: np.ndarray


def overlay_layers(result: PipelineResult) -> OverlayLayers:
    """The layers of a fresh result (in the worker thread, with the run)."""
    outlines = outline_labels(result.labels)
    return OverlayLayers(outlines, render_overlay_rgba(result, outlines))


def update_layers(layers: OverlayLayers | None, result: PipelineResult, window: Box | None) -> OverlayLayers:
    """``layers`` brought up to date with ``result.labels`` after a change inside ``window``.

    ``window`` is rows then columns; arrays are redrawn in that box only (copied first if read-only).
    """
    labels = result.labels
    if layers is None or window is None:
        return overlay_layers(result)
    outlines = layers.outlines if layers.outlines.flags.writeable else layers.outlines.copy()
    rgba = layers.outline_rgba if layers.outline_rgba.flags.writeable else layers.outline_rgba.copy()
    height, width = labels.shape
    r0, r1, c0, c1 = window
    # One pixel more on each side: a particle's boundary there may have changed too.
    r0, r1, c0, c1 = max(r0 - 1, 0), min(r1 + 1, height), max(c0 - 1, 0), min(c1 + 1, width)
    pr0, pr1, pc0, pc1 = max(r0 - 1, 0), min(r1 + 1, height), max(c0 - 1, 0), min(c1 + 1, width)
    padded = outline_labels(labels[pr0:pr1, pc0:pc1])
    fresh = padded[r0 - pr0:r1 - pr0, c0 - pc0:c1 - pc0]  # inner part: every neighbour was in the window
    outlines[r0:r1, c0:c1] = fresh
    top = max(int(fresh.max()) if fresh.size else 0, int(result.particles["id"].max()) if len(result.particles) else 0)
    rgba[r0:r1, c0:c1] = lookup(outline_colours(top, result.edge_ids), fresh)
    return OverlayLayers(outlines, rgba)


# --- overlays in files ---------------------------------------------------------------------------

def render_overlay_rgb(
    display_u8: np.ndarray, labels: np.ndarray, *, edge_ids=(), data_bar_first_row: int | None = None
) -> np.ndarray:
    """The grey image with the window's outlines and the excluded data bar tinted blue, as RGB.

    Outlines are yellow, edge particles red; the RGB image is for files and reports.

    Examples
    --------
    >>> labels = np.zeros((5, 5), np.int32); labels[1:4, 1:4] = 1
    >>> rgb = render_overlay_rgb(np.zeros((5, 5), np.uint8), labels)
    >>> rgb.shape, rgb[1, 1].tolist(), rgb[2, 2].tolist()
    ((5, 5, 3), [255, 220, 0], [0, 0, 0])
    """
    display_u8 = np.asarray(display_u8)
    if display_u8.ndim != 2 or display_u8.dtype != np.uint8:
        raise ValueError(f"display_u8 must be a 2-D uint8 array, not {display_u8.dtype} of shape {display_u8.shape}")
    if labels.shape != display_u8.shape:
        raise ValueError(f"labels {labels.shape} and image {display_u8.shape} differ in shape")
    rgb = np.repeat(display_u8[:, :, None], 3, axis=2)
    if data_bar_first_row is not None and 0 <= data_bar_first_row < rgb.shape[0]:
        bar = rgb[data_bar_first_row:].astype(np.float32)
        bar = (1 - DATA_BAR_TINT_ALPHA) * bar + DATA_BAR_TINT_ALPHA * np.asarray(DATA_BAR_TINT_RGB, np.float32)
        rgb[data_bar_first_row:] = np.clip(bar + 0.5, 0, 255).astype(np.uint8)
    if labels.size and labels.max() > 0:
        outlines = outline_labels(labels)
        drawn = outlines > 0
        rgb[drawn] = outline_colours(int(labels.max()), edge_ids)[outlines[drawn], :3]
    return rgb
