"""Starting the application: Qt set-up, logging, the window, optional image and auto-quit."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import particle_gui
from particle_gui.desktop.logs import configure_logging


def _configure_logging() -> None:
    """The rotating log file under the user's log folder (see :func:`errors.configure_logging`)."""
    configure_logging()


_gui_thread_collector = None


def tune_garbage_collector() -> None:
    """Keep Python's cyclic garbage collector from pausing, or crashing, the GUI thread.

    Qt, pyqtgraph and pandas create many long-lived objects; a full collection over them took
    ~150 ms in the middle of slider drags. Freezing what exists after start-up moves it out of
    the collector's view, and a higher first threshold makes collections rarer.

    Collections also run only on the GUI thread (pyqtgraph's timer-driven collector; automatic
    collection is off): a collection started by a worker thread (analysis, autosave) can free Qt
    objects there, which crashed the process. Call with a QApplication running.
    """
    global _gui_thread_collector
    from pyqtgraph.util.garbage_collector import GarbageCollector

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    if _gui_thread_collector is None:
        _gui_thread_collector = GarbageCollector(interval=1.0)


def build_parser() -> argparse.ArgumentParser:
    """The window's command line: an image or folder to open, ``--version``, and options for smoke tests."""
    parser = argparse.ArgumentParser(prog="particle-gui", description="Particle size and shape analysis for SEM/TEM images.")
    parser.add_argument("image", nargs="?", help="an image or a folder of images to open")
    parser.add_argument("--version", action="version", version=f"particle-gui {particle_gui.__version__}")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help="quit after this many seconds (smoke tests)")
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help="save a screenshot after the first result, then quit")
    parser.add_argument("--startup-report", type=Path, metavar="FILE", help=argparse.SUPPRESS)  # benchmarks
    return parser


def main(argv: list[str] | None = None) -> int:
    """Open the main window; returns the application's exit code."""
    args = build_parser().parse_args(argv)
    _configure_logging()
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QFontInfo, QIcon
    from PySide6.QtWidgets import QApplication

    from particle_gui.gui.fallback_font import ensure_a_font
    from particle_gui.gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("particle_gui")
    ensure_a_font(app)  # Qt under Wine (the Windows build's tests) finds no font: text would be boxes
    icon = Path(particle_gui.__file__).resolve().parent / "resources" / "particle_gui.png"  # package data
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow()
    window.show()
    tune_garbage_collector()
    if args.screenshot is not None:
        def _grab_and_quit(*_):
            QTimer.singleShot(300, lambda: (window.grab().save(str(args.screenshot)), window.close()))
        window.controller.resultChanged.connect(_grab_and_quit)
        window.controller.errorOccurred.connect(_grab_and_quit)
    if args.startup_report is not None:
        def _report(*_):
            # when the first result showed, and the font the window's text is drawn in ("": boxes)
            args.startup_report.write_text(f"{time.time():.6f}\n{QFontInfo(app.font()).family()}\n")
            window.close()
        window.controller.resultChanged.connect(_report)
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
    if args.image:
        target = Path(args.image)
        window.controller.open_folder(target) if target.is_dir() else window.controller.open_image(target)
    unattended = args.quit_after is not None or args.screenshot is not None or args.startup_report is not None
    if not unattended:  # corrections a crash left behind: offered once the window is up
        QTimer.singleShot(0, window.edit_menu.offer_recovery)
    return app.exec()
