"""Failures of the surroundings, by real mechanisms: a file that disappears during a batch, an
output folder that cannot be written, a full disk (a file-size limit in a child process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tifffile

from synthetic.bad_inputs import N_DISCS, as_uint8, scene
from particle_gui.cli import main
from particle_gui.core.output.batch import run_batch
from particle_gui.core.output.inputs import find_inputs
from particle_gui.core.params import PipelineParams
from tests.robustness.conftest import assert_clear
from tests.robustness.test_corpus import read_summary

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def images(tmp_path) -> list[Path]:
    folder = tmp_path / "images"
    folder.mkdir()
    paths = [folder / f"image_{index}.tif" for index in range(3)]
    for index, path in enumerate(paths):
        tifffile.imwrite(path, as_uint8(scene(seed=index)))
    return paths


def test_a_file_that_disappears_during_a_batch_is_reported_and_the_batch_goes_on(images, tmp_path):
    paths = find_inputs([images[0].parent])
    out = tmp_path / "out"
    out.mkdir()

    def progress(done, total, outcome):
        if done == 1:
            paths[1].unlink()  # the network share drops the second file after the first is done

    report = run_batch(paths, out, PipelineParams(), progress=progress)
    assert [outcome.ok for outcome in report.outcomes] == [True, False, True]
    assert report.outcomes[1].error == "file not found."
    assert report.outcomes[1].sha256 is None
    rows = read_summary(out)
    assert [row["status"] for row in rows] == ["ok", "failed: file not found.", "ok"]
    assert [row["n_particles"] for row in rows] == [str(N_DISCS), "", str(N_DISCS)]


def test_an_output_folder_under_a_file_is_a_usage_error(images, tmp_path, capsys):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the folder should be")
    assert main(["analyze", str(images[0]), "--out", str(blocker / "run1")]) == 2
    err = capsys.readouterr().err
    assert "cannot create the output folder" in err and str(blocker / "run1") in err
    assert "Traceback" not in err


def test_a_blocked_output_file_fails_that_image_only(images, tmp_path, capsys):
    """``image_1_overlay.png`` is a folder: image_1 fails with a clear reason, leaves no partial
    outputs, and the other images are analysed."""
    out = tmp_path / "out"
    (out / "image_1_overlay.png").mkdir(parents=True)
    assert main(["analyze", *map(str, images), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    rows = read_summary(out)
    assert [row["status"] == "ok" for row in rows] == [True, False, True]
    assert "image_1_overlay.png: a folder of that name is in the way" in rows[1]["status"]
    assert [p.name for p in out.glob("image_1_*")] == ["image_1_overlay.png"]  # the blocking folder only
    assert not list(out.glob(".*.tmp"))
    (line,) = [line for line in err.splitlines() if "failed:" in line]
    assert_clear(line, images[1])


def test_an_unwritable_summary_ends_the_run_with_a_message(images, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "summary.csv").mkdir(parents=True)
    assert main(["analyze", str(images[0]), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"Cannot write {out / 'summary.csv'}: a folder of that name is in the way" in err
    assert "Traceback" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions and a non-root user (root writes into read-only folders)")
def test_a_read_only_output_folder(images, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main(["analyze", str(images[0]), "--out", str(out)]) == 1
    finally:
        out.chmod(0o700)
    err = capsys.readouterr().err
    assert "permission denied" in err and "Traceback" not in err


def run_with_file_size_limit(limit_bytes: int, argv: list[str]) -> subprocess.CompletedProcess:
    """The CLI in a child process whose files cannot grow past ``limit_bytes`` (writes fail with
    EFBIG, as on a full disk; SIGXFSZ is ignored so that the write reports it)."""
    code = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit_bytes}, {limit_bytes}))
        from particle_gui.cli import main
        sys.exit(main({argv!r}))
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=False)


posix_only = pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="file-size limits are POSIX")


@posix_only
def test_a_full_disk_fails_the_images_cleanly_and_keeps_the_records(images, tmp_path):
    """50 kB per file: labels and tables fit, the ~136 kB overlays do not."""
    out = tmp_path / "out"
    process = run_with_file_size_limit(50_000, ["analyze", *map(str, images), "--out", str(out)])
    assert process.returncode == 1, process.stderr
    assert "Traceback" not in process.stderr
    rows = read_summary(out)
    assert len(rows) == 3
    for row, image in zip(rows, images):
        assert row["status"].startswith(f"failed: Cannot write {out / (image.stem + '_overlay.png')}: "
                                        "the file is larger than this disk or account allows")
        assert f"{image}: failed: Cannot write" in process.stderr
    assert sorted(p.name for p in out.iterdir()) == ["records", "run.json", "summary.csv"]  # no partial or temporary files
    assert not list((out / "records").glob(".*.tmp"))


@posix_only
def test_a_full_disk_keeps_the_previous_records_intact(images, tmp_path):
    """A second run that cannot write ``summary.csv`` at all leaves the first run's file whole."""
    out = tmp_path / "out"
    assert main(["analyze", str(images[0]), "--out", str(out)]) == 0
    before = (out / "summary.csv").read_bytes()
    process = run_with_file_size_limit(200, ["analyze", *map(str, images), "--out", str(out)])
    assert process.returncode == 1
    assert f"Cannot write {out / 'summary.csv'}: the file is larger than this disk" in process.stderr
    assert "Traceback" not in process.stderr
    assert (out / "summary.csv").read_bytes() == before
    assert not list(out.glob(".*.tmp"))
