"""GUI tests run offscreen with real widgets; settings go to a temporary folder."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QPoint, QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from particle_gui.core.io.calibration import Calibration  # noqa: E402
from particle_gui.core.io.loading import LoadedImage  # noqa: E402
from particle_gui.core.params import PipelineParams, SummaryParams  # noqa: E402
from particle_gui.core.analysis.pipeline import Pipeline, PipelineResult  # noqa: E402
from particle_gui.core.statistics.stats import summarise  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Never read or write the real user's settings."""
    folder = tmp_path / "config"
    monkeypatch.setenv("PARTICLE_GUI_CONFIG_DIR", str(folder))
    return folder


def disc_grey(*, height: int = 256, width: int = 256, diameters=(20, 20, 30, 30, 40), seed: int = 0) -> np.ndarray:
    """Bright discs of the given diameters on a dark noisy background, away from the border."""
    rng = np.random.default_rng(seed)
    grey = rng.normal(0.15, 0.02, (height, width)).astype(np.float32)
    yy, xx = np.mgrid[:height, :width]
    spacing = width // (len(diameters) + 1)
    for index, diameter in enumerate(diameters):
        cy, cx = height / 2 + 0.5, spacing * (index + 1) + 0.5
        grey[(yy - cy) ** 2 + (xx - cx) ** 2 < (diameter / 2) ** 2] = 0.8
    return np.clip(grey, 0, 1)


@pytest.fixture
def disc_result():
    """A real PipelineResult: 5 discs (ECD 20, 20, 30, 30, 40 px), uncalibrated.

    Sizes are the outlines' (half-maximum sizes off), so that the identical discs tie exactly.
    """
    grey = disc_grey(width=300)
    image = LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                        metadata_calibration=None)
    return Pipeline(image).run(PipelineParams.from_dict({"edge": {"half_maximum_sizes": False}}))


@pytest.fixture
def new_controller(qtbot):
    """Builds real controllers without a window; their runners are stopped afterwards.

    A test that returns while a worker thread still classifies shapes would otherwise let Qt
    destroy the thread's objects under it (a segfault in a later test).
    """
    from particle_gui.gui.controller import AppController

    made = []

    def build(**kwargs):
        controller = AppController(**kwargs)
        made.append(controller)
        return controller

    yield build
    for controller in made:
        controller.runner.cancel()
    for controller in made:
        assert controller.runner.wait(10_000), "a runner thread did not stop"


@pytest.fixture
def window(qtbot):
    """The real main window, shown offscreen; its runner is stopped afterwards."""
    import pyqtgraph as pg

    from particle_gui.gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.controller.runner.cancel()
    win.controller.runner.wait(5000)


def shown(qtbot, widget):
    """``widget`` shown at 640 x 420 and exposed."""
    qtbot.addWidget(widget)
    widget.resize(640, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def view_to_widget(plot_widget: pg.PlotWidget, x: float, y: float) -> QPoint:
    """Viewport coordinates of the data point (x, y), once the view has settled its range."""
    QApplication.processEvents()  # the view box applies auto-range lazily
    scene = plot_widget.getPlotItem().vb.mapViewToScene(QPointF(x, y))
    return plot_widget.mapFromScene(scene)


@pytest.fixture
def many_result(disc_result) -> PipelineResult:
    """5000 log-normal particles, calibrated at 2.5 nm/px (the image parts are disc_result's)."""
    rng = np.random.default_rng(1)
    n = 5000
    ecd = rng.lognormal(3.0, 0.4, n)
    particles = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "ecd": ecd,
        "ecd_nm": ecd * 2.5,
        "circularity": rng.uniform(0.6, 1.0, n),
        "feret_ratio": rng.uniform(1.0, 2.0, n),
    })
    summary = summarise(particles["ecd_nm"].to_numpy(), SummaryParams(bootstrap_samples=100), unit="nm")
    return dataclasses.replace(disc_result, particles=particles, summary=summary,
                               calibration=Calibration(2.5, "manual", "given by the user"))
