"""Soak test of the real window (offscreen): random parameter changes and random hand edits.

Parameter changes arrive in bursts, as from slider drags, some without waiting for the result;
edits (delete, merge, cut, add, brush, undo, redo) are made at random moments in between,
also while a run is in flight. Checked throughout:

- every result the analysis delivers was computed with the parameters in force when it is shown
  (no stale result is ever displayed), and once the window is idle the canvas, the table and the
  histogram show the document's newest result, every particle with its shape class;
- the process's memory (RSS) after warm-up grows by less than the limit.

Usage: ``python -m tests.gui.soak [--changes 1000] [--edits 500] [--seed 0]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import tifffile  # noqa: E402

from synthetic.particle_images import particle_image  # noqa: E402

MEMORY_LIMIT_MB = 50.0


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def random_params(base, rng):
    """A parameter set a user could reach with the sliders and choices of the panel."""
    threshold = dataclasses.replace(base.threshold, method=str(rng.choice(["otsu", "li", "triangle", "manual"])),
                                    manual_value=float(rng.uniform(0.3, 0.7)))
    clean = dataclasses.replace(base.clean, min_area_px=float(rng.uniform(5, 200)),
                                opening_radius_px=int(rng.integers(0, 4)))
    split = dataclasses.replace(base.split, sure_foreground_fraction=float(rng.uniform(0.3, 0.9)),
                                min_distance_px=int(rng.integers(2, 15)))
    preprocess = dataclasses.replace(base.preprocess, gaussian_sigma_px=float(rng.uniform(0.5, 3.0)))
    return dataclasses.replace(base, threshold=threshold, clean=clean, split=split, preprocess=preprocess)


def random_edit(editor, rng) -> str:
    document = editor.document
    if document is None or document.result is None or document.result.count < 3:
        return "none"
    table = document.result.particles
    rows = table.sample(2, random_state=int(rng.integers(1 << 31)))
    a, b = int(rows.iloc[0]["id"]), int(rows.iloc[1]["id"])
    x, y = float(rows.iloc[0]["centroid_x"]), float(rows.iloc[0]["centroid_y"])
    r = float(rows.iloc[0]["feret_max"])
    kind = str(rng.choice(["delete", "merge", "split", "add", "brush", "undo", "redo"]))
    if kind == "delete":
        editor.delete([a])
    elif kind == "merge":
        editor.merge([a, b])
    elif kind == "split":
        editor.split_line((x - r, y), (x + r, y))
    elif kind == "add":
        editor.add_polygon([(x + 2 * r, y), (x + 3 * r, y), (x + 3 * r, y + r)])
    elif kind == "brush":
        editor.begin_stroke(x, y, erase=bool(rng.integers(2)))
        editor.continue_stroke(x + r, y + r / 2)
        editor.end_stroke()
    elif kind == "undo":
        editor.undo()
    else:
        editor.redo()
    return kind


def soak(image_path: Path, *, changes: int, edits: int, seed: int, warmup: int = 50) -> dict:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from particle_gui.gui.app import tune_garbage_collector
    from particle_gui.gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.show()
    tune_garbage_collector()
    controller, editor = window.controller, window.editor
    stale: list[str] = []

    def check_delivered(result) -> None:
        document = controller.current
        if "edit" not in result.stages_run and result.params != document.params:
            differ = [f.name for f in dataclasses.fields(result.params)
                      if getattr(result.params, f.name) != getattr(document.params, f.name)]
            stale.append(f"a result for other parameters was shown (stages {result.stages_run}, differ in {differ})")

    controller.resultChanged.connect(check_delivered)
    controller.open_image(image_path)
    controller.runner.wait(60_000)
    rng = np.random.default_rng(seed)
    base = controller.current.params
    edit_every = max(1, changes // max(edits, 1))
    kinds: dict[str, int] = {}
    memory_after_warmup = None
    started = time.perf_counter()
    done_edits = 0
    for step in range(changes):
        params = random_params(base, rng)
        controller.set_params(params)  # the panel follows through paramsChanged
        if rng.random() < 0.5:  # half the time the user waits for the result, half the time not
            controller.runner.wait(60_000)
        app.processEvents()
        while done_edits < edits and (step % edit_every == 0 or step == changes - 1):
            kind = random_edit(editor, rng)
            kinds[kind] = kinds.get(kind, 0) + 1
            done_edits += 1
            app.processEvents()
            if step != changes - 1:
                break
        if step == warmup:
            controller.runner.wait(60_000)
            editor.wait_idle()
            memory_after_warmup = rss_mb()
    controller.runner.wait(60_000)
    editor.wait_idle()
    app.processEvents()
    document = controller.current
    shown = window.canvas._result
    if shown is not document.result or document.result.params != document.params:
        stale.append("the window is idle but does not show the newest result")
    if window.particle_table.row_count() != document.result.count:
        stale.append("the table does not match the result")
    if document.result.shapes_pending:
        stale.append("the window is idle but some particles never got their shape class")
    memory_end = rss_mb()
    window.editor.autosaver.close()
    window.close()
    return {
        "changes": changes, "edits": done_edits, "edit_kinds": kinds,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_after_warmup_mb": round(memory_after_warmup or 0.0, 1), "rss_end_mb": round(memory_end, 1),
        "growth_mb": round(memory_end - (memory_after_warmup or memory_end), 1),
        "stale": stale, "final_count": document.result.count,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("PARTICLE_GUI_CONFIG_DIR", str(Path(folder) / "config"))
        grey, _ = particle_image(768, 1024, 300, seed=2)
        path = Path(folder) / "soak.tif"
        tifffile.imwrite(path, (grey * 255).astype(np.uint8))
        report = soak(path, changes=args.changes, edits=args.edits, seed=args.seed)
    print(report)
    ok = not report["stale"] and report["growth_mb"] < MEMORY_LIMIT_MB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
