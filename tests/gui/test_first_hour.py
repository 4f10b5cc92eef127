"""What a new user tripped on in the first hour, each checked in the real window."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import QPointF

from particle_gui.gui.edit_menu import describe_counts
from tests.gui.conftest import disc_grey


@pytest.fixture
def opened(qtbot, window, tmp_path):
    path = tmp_path / "images" / "discs.tif"
    path.parent.mkdir()
    tifffile.imwrite(path, (disc_grey(width=300) * 255).astype(np.uint8))
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000):
        window.controller.open_image(path)
    return window, path


def test_the_hover_read_out_follows_an_edit(qtbot, opened):
    window, _ = opened
    canvas = window.canvas
    centre = canvas._viewbox.mapViewToScene(QPointF(50.5, 128.5))
    canvas._on_scene_mouse_moved(centre)
    particle = int(window.controller.current.result.labels[128, 50])
    assert f"particle {particle}:" in window.hover_label.text()
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000, raising=False):
        window.editor.delete([particle])
    qtbot.waitUntil(lambda: f"particle {particle}:" not in window.hover_label.text(), timeout=5_000)
    assert window.hover_label.text().startswith("x 50, y 128, value")
    window.controller.current.unsaved_edits = False


def test_one_merge_of_two_particles_reads_as_such():
    assert describe_counts({"merge": 2}) == "Hand edits: 2 particles merged"


def test_file_dialogs_open_beside_the_image_and_the_colour_bar_is_labelled(opened):
    window, path = opened
    assert window.output_menu.start_folder() == str(path.parent)
    assert window.canvas.levels.axis.labelText == "Display grey level"


def test_every_slider_value_fits_its_box_in_a_narrow_panel(qtbot):
    from superqt import QLabeledDoubleSlider, QLabeledSlider

    from particle_gui.core.params import PipelineParams
    from particle_gui.gui.widgets.params_panel import ParamsPanel

    panel = ParamsPanel(PipelineParams().with_value("threshold", "method", "local"))
    qtbot.addWidget(panel)
    panel.resize(340, 900)
    panel.set_pixel_size(7.35)
    panel.show()
    qtbot.waitExposed(panel)
    sliders = [s for s in panel.findChildren(QLabeledDoubleSlider) + panel.findChildren(QLabeledSlider) if s.isVisible()]
    assert len(sliders) >= 6
    for slider in sliders:
        box = slider._label
        for value in (slider.minimum(), slider.maximum()):
            slider.setValue(value)
            assert box.fontMetrics().horizontalAdvance(box.text()) <= box.width() - 4, (slider.objectName(), box.text())
    assert panel.scroll_area.horizontalScrollBar().maximum() == 0  # nothing cut at the right edge
    label = panel._rows[("clean", "min_area_px")][0].text()
    assert label == "Minimum area (px²; 1.62e+03 nm²)"


def test_help_menu_guide_shortcuts_and_about(qtbot, window):
    import re

    from particle_gui.gui.help_menu import GUIDE

    help_menu = window.help_menu
    guide = help_menu.show_guide()
    text = guide.browser.toPlainText()
    assert "The first analysis" in text and "Adapting to your images" in text
    for image in re.findall(r"\(images/([^)]+)\)", GUIDE.read_text(encoding="utf-8")):
        assert (GUIDE.parent / "images" / image).is_file(), image
    shortcuts = help_menu.show_shortcuts().browser.toPlainText()
    assert "Next suspect particle" in shortcuts and "Adapt to my corrections" in shortcuts
    about = help_menu.show_about().browser.toPlainText()
    assert "GPL-3.0" in about and "segmentation.onnx" in about and "EMPS" in about


def test_the_guide_explains_every_column_of_the_particle_table(disc_result):
    from particle_gui.gui.help_menu import GUIDE

    guide = GUIDE.read_text(encoding="utf-8")
    for column in disc_result.particles.columns:
        assert f"`{column}`" in guide, column


def test_the_network_shows_its_tiles_and_can_be_cancelled(qtbot, opened):
    window, _ = opened
    controller = window.controller
    before = controller.current.result
    seen = []

    def on_progress(stage, done, total):
        seen.append((window.busy_indicator.maximum(), window.busy_indicator.value(), window.statusBar().currentMessage()))
        window.cancel_run()

    controller.runner.progressed.connect(on_progress)
    controller.set_method("dl")
    qtbot.waitUntil(lambda: bool(seen) and not window.busy_indicator.isVisible(), timeout=60_000)
    total, done, message = seen[0]
    assert total >= 1 and done >= 1 and message.startswith(f"Running the network: tile {done} of {total}")
    assert window.statusBar().currentMessage() == "Analysis cancelled; the last result stays."
    assert controller.current.result is before  # the classical result stays shown


def test_the_tile_count_goes_once_the_network_is_done(qtbot, opened):
    """"Running the network: tile 6 of 6" stayed in the status bar after the result was shown."""
    window, _ = opened
    messages = []
    window.controller.runner.progressed.connect(lambda *_: messages.append(window.statusBar().currentMessage()))
    with qtbot.waitSignal(window.controller.resultChanged, timeout=120_000):
        window.controller.set_method("dl")
    qtbot.waitUntil(lambda: not window.busy_indicator.isVisible(), timeout=60_000)
    assert messages and messages[-1].startswith("Running the network: tile")
    assert not window.statusBar().currentMessage().startswith("Running the network")


def test_the_window_starts_without_matplotlib(tmp_path):
    """Nothing of matplotlib at the window's start (it was 0.45 s of it: pyqtgraph's gradient menu
    imported pyplot to list colour maps); the report imports it when one is made."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from particle_gui.gui.main_window import MainWindow\n"
        "window = MainWindow()\n"
        "window.show()\n"
        "app.processEvents()\n"
        "from pyqtgraph.widgets import ColorMapMenu\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
        "print(loaded, ColorMapMenu.find_mpl_leftovers.__name__, window.canvas.levels.gradient.isVisible())\n"
        "sys.stdout.flush()\n"
        "import os\n"
        "os._exit(0)  # not Qt's teardown of a window that was never closed\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PARTICLE_GUI_CONFIG_DIR=str(tmp_path))
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    # none loaded; pyqtgraph's scan is itself again after the histogram was made; its menu is hidden
    assert completed.stdout.strip().splitlines()[-1] == "[] find_mpl_leftovers False"


def test_a_first_start_fits_the_screen_and_edit_is_the_second_menu(qtbot, window):
    """On a screen smaller than the default 1500 x 950 (offscreen: 800 x 600) the window fits the
    free area, the docks shrink in proportion and the image keeps a usable canvas."""
    from particle_gui.gui.main_window import CANVAS_MINIMUM, DEFAULT_SIZE

    free = window.screen().availableGeometry()
    assert free.width() < DEFAULT_SIZE[0] and free.height() < DEFAULT_SIZE[1]  # the case under test
    assert window.width() <= free.width() and window.height() <= free.height()
    qtbot.waitUntil(lambda: window.canvas.width() >= CANVAS_MINIMUM[0])
    assert window.canvas.height() >= CANVAS_MINIMUM[1]
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles[:2] == ["&File", "&Edit"] and titles[-1] == "&Help"
