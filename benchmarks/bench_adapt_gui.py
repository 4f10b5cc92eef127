"""The window while it adapts: longest GUI-thread stall and the adaptation's time, per method.

A folder of two synthetic 1024 x 1024 images of touching pairs is opened in the real window
(offscreen); the first has a saved session holding its true labels (the user's corrections).
"Adapt to my corrections" runs in its worker while a 2 ms GUI-thread timer records the gaps
between its ticks: the longest is the longest stall a user would feel (target <= 50 ms).

Usage: ``python -m benchmarks.bench_adapt_gui [--methods classical dl]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from particle_gui.core.editing.session import SessionState, file_sha256, save_session  # noqa: E402
from particle_gui.core.params import PipelineParams  # noqa: E402
from synthetic.known_shapes import touching_pairs  # noqa: E402


def _folder(folder: Path, method: str) -> None:
    for seed, stem in enumerate(("a", "b")):
        grey, truth = touching_pairs(seed, size=1024)
        path = folder / f"{stem}.png"
        Image.fromarray((grey * 255).round().astype(np.uint8)).save(path)
        if stem == "a":
            save_session(folder / "a.pgsession", SessionState(path, file_sha256(path), PipelineParams(method=method),
                                                              labels=truth, base=truth))


def measure(method: str) -> dict:
    import pyqtgraph as pg
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from particle_gui.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _folder(folder, method)
        window = MainWindow()
        window.show()
        loop = QEventLoop()
        window.controller.resultChanged.connect(lambda _r: loop.quit())
        window.controller.open_folder(folder)
        loop.exec()
        window.controller.set_method(method)
        window.controller.runner.wait(120_000)
        app.processEvents()
        window.hide()  # no dialog at the end
        gaps, last = [], {"t": time.perf_counter()}

        def tick() -> None:
            now = time.perf_counter()
            gaps.append((now - last["t"]) * 1000)
            last["t"] = now

        ticker = QTimer()
        ticker.setInterval(2)
        ticker.timeout.connect(tick)
        done = QEventLoop()
        profile = {}
        window.adapt_menu.adapted.connect(lambda p: (profile.setdefault("p", p), done.quit()))
        started = time.perf_counter()
        last["t"] = started
        ticker.start()
        window.adapt_menu.start_adaptation()
        done.exec()
        seconds = time.perf_counter() - started
        ticker.stop()
        window.close()
    return {"method": method, "seconds": seconds, "longest_stall_ms": max(gaps[1:]),
            "stalls_over_50ms": int(np.sum(np.array(gaps[1:]) > 50)), "ticks": len(gaps),
            "fit_f1": profile["p"].figures["fit"]["after"]["f1"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["classical", "dl"])
    args = parser.parse_args(argv)
    for method in args.methods:
        r = measure(method)
        print(f"{method:9s}: adapted in {r['seconds']:.0f} s (F1 on the corrected image {r['fit_f1']:.2f}); longest "
              f"GUI stall {r['longest_stall_ms']:.0f} ms, {r['stalls_over_50ms']} stalls over 50 ms in {r['ticks']} ticks",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
