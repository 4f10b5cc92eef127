"""Scale-bar labels on real EMPS images, read by a person (``benchmarks/emps_scale_labels.csv``).

Each listed image has a burned-in scale bar whose label a person read off a contact sheet, and for
most of them the bar's length in pixels (its ends as the app found them, checked by eye). The app's
reading of each falls in one of four outcomes:

- ``right``: read with confidence, the label's length right and the bar's length within 2 px (or 2 %)
- ``wrong``: read with confidence but wrong: the app would calibrate wrongly without asking
- ``asked``: a bar found, but its label unread or unsure: the user is asked
- ``missed``: no bar at all: the user calibrates by hand (62 of the 261 listed: the list holds every
  EMPS image with a legible label, whether or not the app found its bar)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

LABEL_LIST = Path(__file__).resolve().parent / "emps_scale_labels.csv"
OUTCOMES = ("right", "wrong", "asked", "missed")


@dataclass(frozen=True)
class LabelledBar:
    image: str
    label: str
    bar_px: int | None


def labelled_bars(path: Path = LABEL_LIST) -> list[LabelledBar]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [LabelledBar(row["image"], row["label"], int(row["bar_px"]) if row["bar_px"] else None)
            for row in csv.DictReader(lines)]


def outcome(bar: LabelledBar, grey, reader=None) -> tuple[str, str | None]:
    """The outcome of reading ``bar`` 's image (a grey float image in [0, 1]), and the label read."""
    from particle_gui.core.io.databar import detect_data_bar
    from particle_gui.core.io.scalebar import detect_scale_bar
    from particle_gui.core.units import parse_length_nm

    scale = detect_scale_bar(grey, detect_data_bar(grey), reader=reader)
    if scale is None:
        return "missed", None
    if not scale.confident:
        return "asked", scale.label
    length_ok = abs(scale.length_nm / parse_length_nm(bar.label) - 1) < 1e-6
    bar_ok = bar.bar_px is None or abs(scale.length_px - bar.bar_px) <= max(2, 0.02 * bar.bar_px)
    return ("right" if length_ok and bar_ok else "wrong"), scale.label


def score(images_dir: Path, reader=None) -> dict:
    """Counts of each outcome over the list, and the images read wrongly (with what was read)."""
    from particle_gui.core.io.loading import load_image

    counts = dict.fromkeys(OUTCOMES, 0)
    wrong = []
    for bar in labelled_bars():
        result, read = outcome(bar, load_image(images_dir / f"{bar.image}.png").grey, reader)
        counts[result] += 1
        if result == "wrong":
            wrong.append(f"{bar.image}: {bar.label} read {read!r}")
    return {"images": sum(counts.values()), **counts, "wrong_readings": wrong}
