"""Building a multi-sample report from the window, in the background."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from particle_gui.gui.main_window import MainWindow


def _disc_image(diameters, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.normal(40, 5, (256, 256))
    yy, xx = np.mgrid[:256, :256]
    for index, diameter in enumerate(diameters):
        cy, cx = 40 + 60 * (index // 4), 40 + 60 * (index % 4)
        image[(yy - cy) ** 2 + (xx - cx) ** 2 < (diameter / 2) ** 2] = 200
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture
def two_samples(tmp_path):
    rng = np.random.default_rng(1)
    for sample, median in (("A", 14.0), ("B", 26.0)):
        folder = tmp_path / "samples" / sample
        folder.mkdir(parents=True)
        for index in range(2):
            diameters = np.clip(rng.lognormal(np.log(median), 0.08, 16), 8, 40)
            tifffile.imwrite(folder / f"{sample}{index}.tif", _disc_image(diameters, seed=index))
    return tmp_path / "samples"


def test_report_is_built_in_the_background(qtbot, two_samples, tmp_path):
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")
    window = MainWindow()
    qtbot.addWidget(window)
    out = tmp_path / "report"
    with qtbot.waitSignal(window.output_menu.report_runner.finished, timeout=60_000) as blocker:
        assert window.output_menu.build_report(two_samples, out)
        assert not window.report_action.isEnabled()
    result = blocker.args[0]
    assert result.pdf_path.exists() and result.pdf_path.stat().st_size > 10_000
    assert any("B is larger than A" in line for line in result.verdicts)
    assert window.report_action.isEnabled()
    assert "Report written" in window.message_bar.message_text()


def test_report_of_an_empty_folder_is_an_error_not_a_crash(qtbot, tmp_path):
    window = MainWindow()
    qtbot.addWidget(window)
    (tmp_path / "empty").mkdir()
    assert not window.output_menu.build_report(tmp_path / "empty", tmp_path / "out")
    assert window.message_bar.is_error()
