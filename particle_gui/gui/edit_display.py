"""Outlines and overlay updated inside an edit's box only (pure numpy, no Qt)."""

from __future__ import annotations

import numpy as np

from particle_gui.core.corrections import Box
from particle_gui.core.export import outline_labels
from particle_gui.core.pipeline import PipelineResult
from particle_gui.core.segment import lookup
from particle_gui.gui.document import ImageDocument
from particle_gui.gui.overlay import EDGE_RGBA, OUTLINE_RGBA, render_overlay_rgba


def _writable(array: np.ndarray | None) -> np.ndarray | None:
    return array if array is None or array.flags.writeable else array.copy()


def outline_colours(top: int, edge_ids: np.ndarray) -> np.ndarray:
    """The plain outline overlay's colour table for ids 0..top (as the worker renders it)."""
    colours = np.tile(np.array(OUTLINE_RGBA, dtype=np.uint8), (top + 1, 1))
    edges = np.asarray(edge_ids, dtype=np.int64)
    colours[edges[edges <= top]] = EDGE_RGBA
    colours[0] = (0, 0, 0, 0)
    return colours


def update_display(document: ImageDocument, result: PipelineResult, window: Box | None) -> None:
    """Bring ``document.outlines`` and ``document.overlay_rgba`` (plain outline overlay) up to
    date with ``result.labels`` after a change inside ``window`` (a box, rows then columns)."""
    labels = result.labels
    if document.outlines is None or document.overlay_rgba is None or window is None:
        document.outlines = outline_labels(labels)
        document.overlay_rgba = render_overlay_rgba(result, document.outlines)
        return
    document.outlines = _writable(document.outlines)
    document.overlay_rgba = _writable(document.overlay_rgba)
    height, width = labels.shape
    r0, r1, c0, c1 = window
    # One pixel more on each side: a particle's boundary there may have changed too.
    r0, r1, c0, c1 = max(r0 - 1, 0), min(r1 + 1, height), max(c0 - 1, 0), min(c1 + 1, width)
    pr0, pr1, pc0, pc1 = max(r0 - 1, 0), min(r1 + 1, height), max(c0 - 1, 0), min(c1 + 1, width)
    padded = outline_labels(labels[pr0:pr1, pc0:pc1])
    fresh = padded[r0 - pr0:r1 - pr0, c0 - pc0:c1 - pc0]  # inner part: every neighbour was in the window
    document.outlines[r0:r1, c0:c1] = fresh
    top = max(int(fresh.max()) if fresh.size else 0, int(result.particles["id"].max()) if len(result.particles) else 0)
    document.overlay_rgba[r0:r1, c0:c1] = lookup(outline_colours(top, result.edge_ids), fresh)
