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
