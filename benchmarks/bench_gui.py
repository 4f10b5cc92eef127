"""Responsiveness of the real main window (offscreen): slider-to-display latency, GUI stalls, cold start.

For each image size the window opens a synthetic image, then the "Sure-foreground level" slider is
moved step by step; each step is timed from the slider's value change until the overlay, the
histograms, the summary and the table have been updated (the window's own result handler has
returned and pending events are processed); the shape classes follow in a second update, timed
separately (from the value change until the classes are shown, with nothing else pending). During a simulated drag (a value change every 16 ms)
a 2 ms GUI-thread timer records the longest gap between its ticks: the longest stall a user would
feel. Cold start is timed in a fresh process from launch until the first result is on screen.

Usage: ``python -m benchmarks.bench_gui [--sizes small,large] [--steps 15]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import tifffile  # noqa: E402

from synthetic.particle_images import particle_image  # noqa: E402

SIZES = {"small": (768, 1024, 300), "large": (4096, 4096, 5000)}


def _write_image(folder: Path, name: str) -> Path:
    height, width, count = SIZES[name]
    grey, _ = particle_image(height, width, count, seed=1)
    path = folder / f"synthetic_{name}.tif"
    tifffile.imwrite(path, (grey * 255).astype(np.uint8))
    return path


def measure_window(path: Path, steps: int) -> dict:
    import pyqtgraph as pg
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from particle_gui.gui.app import tune_garbage_collector
    from particle_gui.gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    _app = QApplication.instance() or QApplication([])  # held so the application lives until the end
    window = MainWindow()
    window.show()
    tune_garbage_collector()  # as particle_gui.gui.app.main does
    done = {"t": None, "classes": None}

    def on_result(result) -> None:
        now = time.perf_counter()
        if done["t"] is None:
            done["t"] = now
        if not result.shapes_pending:
            done["classes"] = now

    window.controller.resultChanged.connect(on_result)

    def wait_result(timeout_s: float = 60.0) -> float:
        # Idle in a real event loop (as the app does), not a busy processEvents loop that would
        # hold the GIL and slow the worker thread down.
        if done["t"] is None:
            loop = QEventLoop()
            window.controller.resultChanged.connect(loop.quit)
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
            window.controller.resultChanged.disconnect(loop.quit)
        return done["t"]

    done["t"] = None
    window.controller.open_image(path)
    wait_result()
    count = window.controller.current.result.count
    slider = window.params_panel.control("split", "sure_foreground_fraction")
    latencies = []
    values = [0.55, 0.6, 0.65, 0.7]
    for step in range(steps):
        done["t"] = None
        started = time.perf_counter()
        slider.setValue(values[step % len(values)])
        finished = wait_result()
        latencies.append((finished - started) * 1000)

    # Until the shape classes are shown too, one step at a time.
    class_latencies = []
    for step in range(steps):
        done["t"] = done["classes"] = None
        started = time.perf_counter()
        slider.setValue(values[(step + 1) % len(values)])
        loop = QEventLoop()

        def quit_when_classified(result, loop=loop) -> None:
            if not result.shapes_pending:
                loop.quit()

        window.controller.resultChanged.connect(quit_when_classified)
        QTimer.singleShot(60_000, loop.quit)
        if done["classes"] is None:
            loop.exec()
        window.controller.resultChanged.disconnect(quit_when_classified)
        if done["classes"] is not None:
            class_latencies.append((done["classes"] - started) * 1000)

    # Longest GUI-thread stall during a drag: value changes every 16 ms for ~2 s.
    gaps = []
    last = {"t": time.perf_counter()}

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last["t"]) * 1000)
        last["t"] = now

    ticker = QTimer()
    ticker.setInterval(2)
    ticker.timeout.connect(tick)
    ticker.start()
    mover = QTimer()
    mover.setInterval(16)

    def move() -> None:
        slider.setValue(0.5 + 0.01 * (move.index % 30))
        move.index += 1

    move.index = 0
    mover.timeout.connect(move)
    mover.start()
    loop = QEventLoop()
    QTimer.singleShot(2000, loop.quit)
    loop.exec()
    mover.stop()
    ticker.stop()
    window.controller.runner.wait(60_000)
    window.close()
    return {
        "particles": count,
        "latency_median_ms": statistics.median(latencies),
        "latency_max_ms": max(latencies),
        "classes_median_ms": statistics.median(class_latencies) if class_latencies else float("nan"),
        "longest_stall_ms": max(gaps[1:]) if len(gaps) > 1 else float("nan"),
    }


def cold_start(path: Path) -> float:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "startup.txt"
        env = {**os.environ, "PARTICLE_GUI_CONFIG_DIR": folder, "QT_QPA_PLATFORM": "offscreen"}
        started = time.time()
        subprocess.run([sys.executable, "-m", "particle_gui", str(path), "--startup-report", str(report)],
                       env=env, check=True, timeout=120)
        return float(report.read_text().splitlines()[0]) - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args(argv)
    os.environ.setdefault("PARTICLE_GUI_CONFIG_DIR", tempfile.mkdtemp())
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sizes.split(","):
            path = _write_image(Path(folder), name)
            figures = measure_window(path, args.steps)
            height, width, _ = SIZES[name]
            print(f"{width}x{height}: {figures['particles']} particles; slider -> display median "
                  f"{figures['latency_median_ms']:.0f} ms (max {figures['latency_max_ms']:.0f} ms), "
                  f"with shape classes {figures['classes_median_ms']:.0f} ms; "
                  f"longest GUI-thread stall during a drag {figures['longest_stall_ms']:.0f} ms")
        small = _write_image(Path(folder), "small")
        starts = [cold_start(small) for _ in range(3)]
        print(f"cold start to a window showing a 1024x768 image and its result: median {statistics.median(starts):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
