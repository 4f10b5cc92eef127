"""Kill -9 the real app while it is editing, start again, and the corrections come back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

from particle_gui.desktop.autosave import Autosaver, pending_recoveries
from particle_gui.gui.main_window import MainWindow
from tests.gui.conftest import disc_grey

EDITING_APP = textwrap.dedent('''
    import sys
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication
    from particle_gui.gui.main_window import MainWindow

    image, expected = sys.argv[1], sys.argv[2]
    pg.setConfigOptions(imageAxisOrder="row-major")
    app = QApplication([])
    window = MainWindow()
    window.show()
    controller, editor = window.controller, window.editor

    def edit(result):
        controller.resultChanged.disconnect(edit)
        at = lambda x, y=128: int(controller.current.result.labels[y, x])
        editor.delete([at(50)])
        editor.merge([at(100), at(150)])
        editor.split_line((250, 100), (250, 160))
        editor.begin_stroke(20, 200)
        editor.continue_stroke(60, 200)
        editor.end_stroke()
        editor.add_polygon([(10, 10), (40, 10), (40, 40)])
        editor.undo()                      # the polygon is undone: recovery must not bring it back
        np.save(expected, controller.current.result.labels)
        print("ready", flush=True)

    controller.resultChanged.connect(edit)
    controller.open_image(image)
    app.exec()
''')


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_minus_nine_during_editing_loses_nothing(qtbot, tmp_path, isolated_settings):
    image = tmp_path / "discs.tif"
    tifffile.imwrite(image, (disc_grey(width=300) * 255).astype(np.uint8))
    expected_path = tmp_path / "expected.npy"
    script = tmp_path / "editing_app.py"
    script.write_text(EDITING_APP)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PARTICLE_GUI_CONFIG_DIR=str(isolated_settings),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    process = subprocess.Popen([sys.executable, str(script), str(image), str(expected_path)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.strip() == "ready", process.stderr.read()
        time.sleep(1.0)  # the checkpoint thread has long finished; the journal is written synchronously
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    expected = np.load(expected_path)

    # The next start finds the recovery files and restores them.
    assert len(pending_recoveries(isolated_settings / "recovery")) == 1
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")
    window = MainWindow(autosaver=Autosaver(isolated_settings / "recovery"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.controller.resultChanged, timeout=10_000) as blocker:
        assert window.edit_menu.offer_recovery(ask=False) == 1
    assert np.array_equal(blocker.args[0].labels, expected)
    assert window.controller.current.result.count == 5  # 5 discs - 1 deleted - 1 merged + 1 split + 1 brushed
    assert window.editor.can_redo  # the undone polygon is still one redo away
    window.controller.runner.wait()
    window.editor.autosaver.close()
