"""The window's text stays legible where Qt finds no system font (Wine; a system without fonts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from particle_gui.gui.fallback_font import ensure_a_font

PROBE = """
import json, sys
from pathlib import Path
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication
from particle_gui.gui.fallback_font import ensure_a_font
app = QApplication([])
def widths():
    metrics = QFontMetrics(app.font())
    return [metrics.horizontalAdvance("iiii"), metrics.horizontalAdvance("WWWW")]
before = widths()
missing = ensure_a_font(app, folder=Path(sys.argv[1]))  # the shipped files gone: no font, no crash
family = ensure_a_font(app)
print(json.dumps({"before": before, "missing": missing, "family": family, "after": widths()}))
"""


ROOT = Path(__file__).resolve().parents[2]


def _fontless_environment(tmp_path: Path) -> dict[str, str]:
    """An environment in which Qt's fontconfig knows no font folder (and the app writes its files
    under ``tmp_path``)."""
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><fontconfig><cachedir>{tmp_path / "cache"}</cachedir></fontconfig>')
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "QT_QPA_PLATFORM": "offscreen"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[variable] = str(tmp_path / variable.lower())
    return env


def _without_fonts(tmp_path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "no fonts here")],
                          env=_fontless_environment(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_system_fonts_the_shipped_font_is_used(tmp_path):
    result = _without_fonts(tmp_path)
    narrow, wide = result["before"]
    assert narrow == wide  # every character the same box: nothing legible
    assert result["missing"] is None
    assert result["family"] == "DejaVu Sans"
    narrow, wide = result["after"]
    assert narrow * 2 < wide  # real glyphs: "i" is far narrower than "W"


def test_with_system_fonts_nothing_changes(qapp):
    font = qapp.font()
    assert ensure_a_font(qapp) is None
    assert qapp.font() == font


def test_the_window_reports_the_font_its_text_is_drawn_in(tmp_path):
    """What the installers' smoke test checks: the app, started on a system without fonts, shows its
    first result with its text in the shipped font (under Wine, before, every letter was a box)."""
    report = tmp_path / "startup.txt"
    done = subprocess.run([sys.executable, "-m", "particle_gui", str(ROOT / "sample_data" / "synthetic_zeiss_sem.tif"),
                           "--startup-report", str(report), "--quit-after", "120"],
                          env=_fontless_environment(tmp_path), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    shown, font = report.read_text(encoding="utf-8").splitlines()
    assert float(shown) > 0 and font == "DejaVu Sans"
