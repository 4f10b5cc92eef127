"""Crash safety of every writer: a write that dies half-way leaves the previous file whole."""

from __future__ import annotations

import ast
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import particle_gui
from particle_gui.core.errors import ExportError
from particle_gui.core.output.export import atomic_write_bytes, atomic_write_text
from particle_gui.desktop.settings import Settings
from particle_gui.paths import config_dir

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(particle_gui.__file__).resolve().parent
#: Modules that write user files; every write must go through ``atomic_write_bytes``.
WRITERS = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))
#: Files that write on purpose without the helper: the edit journal appends to an open file (one
#: record per edit; a torn last record is dropped on replay), and the app's --startup-report and
#: --screenshot options (benchmarks and documentation only).
DIRECT_WRITERS = {"core/editing/journal.py", "gui/app.py"}
#: Calls that write to a file when their first argument is a path rather than a buffer or writer.
PATH_WRITERS = {"to_csv", "to_excel", "imwrite", "savefig", "save", "ExcelWriter", "PdfPages"}
#: Names of in-memory targets (buffers, open writers, figures) those calls may take.
IN_MEMORY = {"buffer", "writer", "stream", "fig", "figure"}


def direct_writes(source: str) -> list[str]:
    """Calls in ``source`` that write a file directly: ``open(..., "w")``, ``write_text``,
    ``write_bytes``, or a writer given something other than an in-memory target."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        line = ast.unparse(node)
        if name in ("write_text", "write_bytes"):
            found.append(line)
        elif name == "open" and isinstance(func, ast.Name):
            modes = [a.value for a in node.args[1:2] + [k.value for k in node.keywords if k.arg == "mode"]
                     if isinstance(a, ast.Constant)]
            if any(set(str(mode)) & set("wax+") for mode in modes):
                found.append(line)
        elif name in PATH_WRITERS and node.args:
            target = node.args[0]
            if not (isinstance(target, ast.Name) and target.id in IN_MEMORY):
                found.append(line)
    return found


@pytest.mark.parametrize("module", [m for m in WRITERS if m not in DIRECT_WRITERS])
def test_writers_write_only_through_the_atomic_helper(module):
    assert direct_writes((PACKAGE / module).read_text(encoding="utf-8")) == []


def test_every_module_is_checked():
    assert len(WRITERS) > 60 and "core/output/export.py" in WRITERS and "desktop/settings.py" in WRITERS


def test_the_check_catches_a_direct_write():
    assert direct_writes("path.write_text(text)")
    assert direct_writes('with open(path, "w") as f:\n    pass')
    assert direct_writes("table.to_csv(path, index=False)")
    assert direct_writes("table.to_excel(\n    path, sheet_name='x')")
    assert direct_writes("tifffile.imwrite(path, labels)")
    assert not direct_writes('table.to_csv(index=False, lineterminator="\\n")')
    assert not direct_writes("table.to_excel(writer, sheet_name='x')")
    assert not direct_writes('with open(path, "rb") as f:\n    pass')


def test_a_write_killed_half_way_leaves_the_previous_file(tmp_path):
    """A child process writing 256 MB is killed (SIGKILL) as soon as its temporary file appears.
    The target holds the old bytes or, if the child was faster, all the new ones: never a mix."""
    target = tmp_path / "results.csv"
    old = b"id,area\n1,42\n"
    code = textwrap.dedent(f"""
        from particle_gui.core.output.export import atomic_write_bytes
        atomic_write_bytes({str(target)!r}, b"x" * (256 << 20))
    """)
    killed_mid_write = 0
    for _ in range(5):
        atomic_write_bytes(target, old)
        child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
        deadline = time.monotonic() + 60
        while child.poll() is None and not list(tmp_path.glob(".results.csv.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.0005)
        child.send_signal(signal.SIGKILL) if child.poll() is None else None
        child.wait()
        content = target.read_bytes()
        assert content == old or content == b"x" * (256 << 20)
        killed_mid_write += content == old and child.returncode == -signal.SIGKILL
        for leftover in tmp_path.glob(".results.csv.*.tmp"):  # a killed writer cannot clean up
            leftover.unlink()
        if killed_mid_write:
            break
    assert killed_mid_write, "the child always finished before it could be killed"


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    atomic_write_text(target, "old\n")
    blocked = tmp_path / "sub"
    blocked.write_text("a file, not a folder")
    with pytest.raises(ExportError, match="part of the folder path is a file"):
        atomic_write_text(blocked / "table.csv", "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub", "table.csv"]


def test_settings_are_saved_atomically_and_survive_a_corrupt_file(tmp_path):
    settings = Settings(recent_files=["a.tif"], last_directory=str(tmp_path))
    settings.save()
    path = config_dir() / "settings.json"
    assert json.loads(path.read_text())["recent_files"] == ["a.tif"]
    assert not list(config_dir().glob(".*.tmp"))
    path.write_text('{"version": 1, "recent_files": ["b.t')  # what a non-atomic writer leaves after a crash
    assert Settings.load() == Settings()  # unreadable: defaults, never an exception


def test_settings_that_cannot_be_saved_raise_the_engine_error(tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("PARTICLE_GUI_CONFIG_DIR", str(blocker / "config"))
    with pytest.raises(ExportError, match="Cannot create the settings folder"):
        Settings().save()


def test_temporaries_of_a_killed_writer_are_removed_and_nothing_else(tmp_path):
    from particle_gui.core.output.export import remove_temporaries

    (tmp_path / "records").mkdir()
    left = [tmp_path / ".image_1_labels.tif.2c6214b295d8.tmp", tmp_path / "records" / ".img.json.0123456789ab.tmp"]
    kept = [tmp_path / ".notes.tmp", tmp_path / "x.0123456789ab.tmp", tmp_path / "image_1_labels.tif"]
    for path in left + kept:
        path.write_bytes(b"x")
    assert remove_temporaries(tmp_path) == 2
    assert not any(p.exists() for p in left) and all(p.exists() for p in kept)
