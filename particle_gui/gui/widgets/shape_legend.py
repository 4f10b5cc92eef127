"""A one-line legend of the shape-class overlay colours, with the count of each class."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QWidget

from particle_gui.core.analysis.pipeline import PipelineResult
from particle_gui.core.analysis.shape_classes import PENDING
from particle_gui.core.output.render import shape_legend


def shape_legend_html(result: PipelineResult | None) -> str:
    """``■ round 40  ■ elongated 3 ...`` with each square in its class colour; empty without classes."""
    items = [
        f"<span style='color:rgb({r},{g},{b})'>&#9632;</span>&nbsp;"
        f"{'being classified' if name == PENDING else html.escape(name)}&nbsp;{count}"
        for name, (r, g, b), count in shape_legend(result)
    ]
    return "&nbsp;&nbsp; ".join(items)


class ShapeLegend(QLabel):
    """Shows which colour is which shape class in the "shape" overlay mode.

    Call :meth:`set_result` with every new result; show it only while that mode is on.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shapeLegend")
        self.setToolTip("Shape classes (colours of the shape overlay) and their particle counts")
        self.set_result(None)

    def set_result(self, result: PipelineResult | None) -> None:
        text = shape_legend_html(result)
        self.setText(text or "<span style='color:gray'>no shape classes</span>")
