"""Take the user guide's screenshots from the real window (offscreen), on the shipped sample images.

    python docs/make_screenshots.py [--out particle_gui/resources/guide/images]

Each picture is the real window (or one of its panels) after the steps the guide describes;
they are written as palette PNGs, at most 1000 px wide, so the guide stays small inside the app.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyqtgraph as pg  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SAMPLE = ROOT / "sample_data"


def _settle(app: QApplication, ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def _wait_result(window, app: QApplication, action) -> None:
    loop = QEventLoop()
    window.controller.resultChanged.connect(loop.quit)
    action()
    QTimer.singleShot(120_000, loop.quit)
    loop.exec()
    window.controller.resultChanged.disconnect(loop.quit)
    window.controller.runner.wait(120_000)
    _settle(app)


def _save(widget, path: Path, width: int = 1000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path))
    image = Image.open(path).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KiB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "particle_gui" / "resources" / "guide" / "images")
    args = parser.parse_args(argv)
    os.environ.setdefault("PARTICLE_GUI_CONFIG_DIR", tempfile.mkdtemp(prefix="particle_gui_screenshots_"))
    app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    from particle_gui.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(1500, 950)
    window.show()
    _wait_result(window, app, lambda: window.controller.open_image(SAMPLE / "emps_30da4fa249.png"))
    _save(window, args.out / "first_analysis.png")

    _save(window.params_panel, args.out / "parameters.png", width=420)
    _wait_result(window, app, lambda: window.controller.set_value("split", "sure_foreground_fraction", 0.75))
    _save(window, args.out / "tuning.png")

    _wait_result(window, app, lambda: window.controller.open_image(SAMPLE / "synthetic_zeiss_sem.tif"))
    window.calibration_menu.start_scale_bar_tool()
    _settle(app)
    _save(window, args.out / "calibration.png")
    window.canvas.cancel_scale_bar_tool()

    _wait_result(window, app, lambda: window.controller.open_image(SAMPLE / "emps_e071eefebb.png"))
    labels = window.controller.current.result.labels
    ids = [int(i) for i in sorted(set(labels[labels > 0].ravel().tolist()))[:2]]
    window.editor.delete(ids[:1])
    window.editor.wait_idle()
    _settle(app)
    _save(window, args.out / "corrections.png")

    window.overlay_mode_combo.setCurrentText("suspects")
    window.adapt_menu.next_suspect()
    _settle(app)
    _save(window, args.out / "suspects.png")
    window.controller.current.unsaved_edits = False
    window.overlay_mode_combo.setCurrentText("outline")

    page = window.help_menu.show_shortcuts()
    _settle(app)
    _save(page, args.out / "shortcuts.png", width=700)
    page.close()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
