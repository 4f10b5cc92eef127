"""Speed and memory of hand corrections in the real main window (offscreen).

Each edit is timed from the editor call until the window has shown it: the particle re-measured,
the overlay, both histograms, the shape plot, the summary and the table updated, and pending
events (repaints) processed. Edits: delete one particle, merge two neighbours, cut one with a
line, add a polygon; then undo of each. Memory: 100 edits (alternately delete, merge, split,
add, brush stroke) on the large image; the undo history's own size and the process's RSS growth.

Usage: ``python -m benchmarks.bench_edits [--sizes small,large] [--repeats 15]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import tifffile  # noqa: E402

from synthetic.particle_images import particle_image  # noqa: E402

SIZES = {"small": (768, 1024, 300), "large": (4096, 4096, 5000)}


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def _open(window, path: Path) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    window.controller.resultChanged.connect(loop.quit)
    QTimer.singleShot(120_000, loop.quit)
    window.controller.open_image(path)
    loop.exec()
    window.controller.resultChanged.disconnect(loop.quit)
    window.controller.runner.wait(120_000)  # the shape classes too: edits are timed on a settled window


def _timed(action) -> float:
    from PySide6.QtWidgets import QApplication

    started = time.perf_counter()
    action()
    QApplication.processEvents()
    return (time.perf_counter() - started) * 1000


def _particles(window, rng, n: int):
    table = window.controller.current.result.particles
    interior = table[(~table["touches_edge"]) & (table["area"] > 80)]
    rows = interior.sample(n, random_state=int(rng.integers(1 << 31)))
    return rows


def measure(path: Path, repeats: int, memory_steps: int) -> dict:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from particle_gui.gui.app import tune_garbage_collector
    from particle_gui.gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.show()
    tune_garbage_collector()
    _open(window, path)
    editor = window.editor
    labels = lambda: window.controller.current.result.labels  # noqa: E731
    count = window.controller.current.result.count
    rng = np.random.default_rng(0)
    times: dict[str, list[float]] = {k: [] for k in ("delete", "merge", "split", "add", "undo")}
    for _ in range(repeats):
        rows = _particles(window, rng, 3)
        a, b, c = (rows.iloc[i] for i in range(3))
        times["delete"].append(_timed(lambda: editor.delete([int(a["id"])])))
        times["undo"].append(_timed(editor.undo))
        # merge a particle with its nearest neighbour
        table = window.controller.current.result.particles
        d2 = (table["centroid_x"] - b["centroid_x"]) ** 2 + (table["centroid_y"] - b["centroid_y"]) ** 2
        neighbour = int(table.loc[d2.nsmallest(2).index[1], "id"])
        times["merge"].append(_timed(lambda: editor.merge([int(b["id"]), neighbour])))
        times["undo"].append(_timed(editor.undo))
        x, y, half = float(c["centroid_x"]), float(c["centroid_y"]), float(c["feret_max"])
        times["split"].append(_timed(lambda: editor.split_line((x, y - half), (x, y + half))))
        times["undo"].append(_timed(editor.undo))
        free = np.argwhere(labels()[20:-20, 20:-20] == 0)[int(rng.integers(1 << 20)) % 1000] + 20
        py, px = map(float, free)
        square = [(px - 4, py - 4), (px + 4, py - 4), (px + 4, py + 4), (px - 4, py + 4)]
        times["add"].append(_timed(lambda: editor.add_polygon(square)))
        times["undo"].append(_timed(editor.undo))
    row = {"size": f"{labels().shape[1]}x{labels().shape[0]}", "particles": count}
    for name, values in times.items():
        row[f"{name}_median_ms"] = round(statistics.median(values), 1)
        row[f"{name}_max_ms"] = round(max(values), 1)
    if memory_steps:
        before = _rss_mb()
        for step in range(memory_steps):
            rows = _particles(window, rng, 2)
            a, b = int(rows.iloc[0]["id"]), int(rows.iloc[1]["id"])
            kind = step % 5
            if kind == 0:
                editor.delete([a])
            elif kind == 1:
                editor.merge([a, b])
            elif kind == 2:
                x, y, half = (float(rows.iloc[0][k]) for k in ("centroid_x", "centroid_y", "feret_max"))
                editor.split_line((x - half, y), (x + half, y))
            elif kind == 3:
                x, y = float(rows.iloc[0]["centroid_x"]), float(rows.iloc[0]["centroid_y"])
                editor.add_polygon([(x - 30, y - 30), (x + 30, y - 30), (x + 30, y + 30), (x - 30, y + 30)])
            else:
                x, y = float(rows.iloc[0]["centroid_x"]), float(rows.iloc[0]["centroid_y"])
                editor.begin_stroke(x, y)
                editor.continue_stroke(x + 40, y + 10)
                editor.end_stroke()
            app.processEvents()
        history = editor.corrections.history
        row["undo_steps"] = len(history.steps()[0])
        row["history_mb"] = round(history.nbytes / 2**20, 2)
        row["rss_growth_mb"] = round(_rss_mb() - before, 1)
    window.controller.runner.cancel()
    window.editor.autosaver.close()
    window.close()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("PARTICLE_GUI_CONFIG_DIR", str(Path(folder) / "config"))
        for name in args.sizes.split(","):
            height, width, n = SIZES[name]
            grey, _ = particle_image(height, width, n, seed=1)
            path = Path(folder) / f"synthetic_{name}.tif"
            tifffile.imwrite(path, (grey * 255).astype(np.uint8))
            print(measure(path, args.repeats, memory_steps=100 if name == "large" else 0), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
