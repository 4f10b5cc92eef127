"""The size histogram's D10/D50/D90 line labels."""

from __future__ import annotations

import dataclasses

from particle_gui.core.params import SummaryParams
from particle_gui.core.statistics.stats import summarise
from particle_gui.gui.widgets.size_histogram import SizeHistogramWidget
from tests.gui.conftest import shown as _shown


def test_histogram_line_labels_of_large_sizes_have_no_exponent(qtbot, many_result):
    """Powder of 0.1 mm read "D50 = 1.38e+05 nm" on its D50 line."""
    particles = many_result.particles.assign(ecd_nm=many_result.particles["ecd_nm"] * 2000)
    large = dataclasses.replace(many_result, particles=particles, summary=summarise(
        particles["ecd_nm"].to_numpy(), SummaryParams(bootstrap_samples=100), unit="nm"))
    widget = _shown(qtbot, SizeHistogramWidget())
    for result, expected in ((many_result, f"D50 = {many_result.summary.d50:.4g} nm"),
                             (large, f"D50 = {large.summary.d50:.0f} nm")):
        widget.set_result(result)
        labels = [line.label.toPlainText() for _, line in widget._percentile_lines]
        assert labels[1] == expected and not any("e+" in text for text in labels)
