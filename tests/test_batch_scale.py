"""Batches on every core, resumed, sharded, on a Dask cluster: the same files whatever the way."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from particle_gui.cli import main
from particle_gui.core.output.batch import SUMMARY_NAME, run_batch
from particle_gui.core.output.parallel import RECORDS_DIR
from particle_gui.core.params import PipelineParams
from synthetic.known_shapes import touching_pairs

N_IMAGES = 6


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    for seed in range(N_IMAGES):
        grey, _ = touching_pairs(seed)
        Image.fromarray((grey * 255).round().astype(np.uint8)).save(folder / f"img{seed}.png")
    return folder


def _digests(out_dir) -> dict[str, str]:
    """SHA-256 of every per-image output (records and run.json carry times and paths: left out)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out_dir.iterdir())
            if p.is_file() and p.name != "run.json"}


def _paths(folder):
    return sorted(folder.glob("*.png"))


@pytest.fixture(scope="module")
def one_job(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("jobs1")
    report = run_batch(_paths(folder), out, PipelineParams(), jobs=1)
    assert report.failed == 0 and len(report.outcomes) == N_IMAGES
    return out


def test_two_workers_write_the_same_files_byte_for_byte(folder, one_job, tmp_path):
    seen = []
    report = run_batch(_paths(folder), tmp_path, PipelineParams(), jobs=2,
                       progress=lambda done, total, outcome: seen.append((done, total)))
    assert report.failed == 0 and [o.path for o in report.outcomes] == _paths(folder)  # input order
    assert seen == [(i, N_IMAGES) for i in range(N_IMAGES + 1)]  # progress per image
    assert _digests(tmp_path) == _digests(one_job)
    assert len(list((tmp_path / RECORDS_DIR).glob("*.json"))) == N_IMAGES


def test_without_worker_processes_the_batch_runs_in_this_process(folder, one_job, tmp_path, monkeypatch):
    """A system without a writable /dev/shm (a bare chroot, some sandboxes) cannot make the pool's lock:
    the batch says so and analyses the images one after another, with the same files."""
    from particle_gui.core.output import parallel

    def no_semaphores(jobs):
        raise PermissionError(13, "Permission denied")  # what SemLock raises there

    monkeypatch.setattr(parallel, "make_pool", no_semaphores)
    with pytest.warns(RuntimeWarning, match="Worker processes cannot be started here"):
        report = run_batch(_paths(folder), tmp_path, PipelineParams(), jobs=2)
    assert report.failed == 0 and len(report.outcomes) == N_IMAGES
    assert _digests(tmp_path) == _digests(one_job)


def test_resume_redoes_only_what_is_missing_or_changed(folder, one_job, tmp_path):
    stopped = []
    report = run_batch(_paths(folder), tmp_path, PipelineParams(), jobs=1,
                       should_cancel=lambda: len(stopped) >= 3,
                       progress=lambda done, total, outcome: outcome is not None and stopped.append(outcome.stem))
    assert report.cancelled and len(report.outcomes) == 3  # as if killed after three images
    redone = []
    report = run_batch(_paths(folder), tmp_path, PipelineParams(), jobs=2, resume=True,
                       progress=lambda done, total, outcome: outcome is not None and redone.append(outcome.stem))
    assert sorted(redone) == [f"img{i}" for i in range(3, N_IMAGES)] and len(report.outcomes) == N_IMAGES
    assert _digests(tmp_path) == _digests(one_job)  # summary.csv rebuilt from every image's record
    again = []
    run_batch(_paths(folder), tmp_path, PipelineParams().with_value("clean", "min_area_px", 40), resume=True,
              progress=lambda done, total, outcome: outcome is not None and again.append(outcome.stem))
    assert len(again) == N_IMAGES  # other parameters: nothing is kept


def test_shards_then_a_resume_gather_one_summary(folder, one_job, tmp_path):
    for shard in ((0, 2), (1, 2)):
        report = run_batch(_paths(folder), tmp_path, PipelineParams(), shard=shard)
        assert [o.stem for o in report.outcomes] == [f"img{i}" for i in range(shard[0], N_IMAGES, 2)]
    redone = []
    run_batch(_paths(folder), tmp_path, PipelineParams(), resume=True,
              progress=lambda done, total, outcome: outcome is not None and redone.append(outcome.stem))
    assert redone == [] and _digests(tmp_path) == _digests(one_job)


def test_command_line_jobs_resume_shard(folder, one_job, tmp_path, capsys):
    assert main(["analyze", str(folder), "--out", str(tmp_path), "--jobs", "2", "--shard", "1/3"]) == 0
    assert sorted(p.name for p in tmp_path.glob("*_labels.tif")) == ["img1_labels.tif", "img4_labels.tif"]
    assert main(["analyze", str(folder), "--out", str(tmp_path), "--jobs", "2", "--resume"]) == 0
    assert _digests(tmp_path) == _digests(one_job)
    assert json.loads((tmp_path / "run.json").read_text())["command_line"][-1] == "--resume"
    for bad in (["--shard", "3/3"], ["--shard", "x"], ["--jobs", "0"]):
        assert main(["analyze", str(folder), "--out", str(tmp_path), *bad]) == 2


def test_a_local_dask_cluster_writes_the_same_files(folder, one_job, tmp_path):
    import distributed  # the [test] extra installs it
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(["analyze", str(folder), "--out", str(tmp_path), "--scheduler", cluster.scheduler_address]) == 0
    assert _digests(tmp_path) == _digests(one_job)
    assert (tmp_path / SUMMARY_NAME).read_text().count("\n") == N_IMAGES + 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_run_resumes_with_only_the_unfinished_images(tmp_path):
    folder = tmp_path / "many"  # enough images that the kill surely lands in the middle
    folder.mkdir()
    for seed in range(24):
        grey, _ = touching_pairs(seed % N_IMAGES)
        Image.fromarray((grey * 255).round().astype(np.uint8)).save(folder / f"img{seed:02d}.png")
    reference = tmp_path / "reference"
    reference.mkdir()
    run_batch(_paths(folder), reference, PipelineParams())
    out = tmp_path / "out"
    command = [sys.executable, "-m", "particle_gui", "analyze", str(folder), "--out", str(out), "--jobs", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / RECORDS_DIR).glob("*.json")) if (out / RECORDS_DIR).is_dir() else []) < 2:
            assert process.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.02)
    finally:
        process.kill()
        process.wait()
    kept = {p.stem: p.stat().st_mtime_ns for p in (out / RECORDS_DIR).glob("*.json")}
    assert 2 <= len(kept) < 24
    redone = []
    report = run_batch(_paths(folder), out, PipelineParams(), resume=True,
                       progress=lambda done, total, outcome: outcome is not None and redone.append(outcome.stem))
    assert sorted(redone) == sorted({p.stem for p in _paths(folder)} - set(kept)) and report.failed == 0
    assert all((out / RECORDS_DIR / f"{stem}.json").stat().st_mtime_ns == mtime for stem, mtime in kept.items())
    assert _digests(out) == _digests(reference)


def test_a_report_with_two_workers_writes_the_same_images_and_verdicts(folder, tmp_path):
    from particle_gui.core.output.report import build_report

    paths = _paths(folder)
    samples = {"A": paths[:3], "B": paths[3:]}
    one = build_report(samples, tmp_path / "one", PipelineParams(), jobs=1)
    two = build_report(samples, tmp_path / "two", PipelineParams(), jobs=2)
    assert two.verdicts == one.verdicts and not two.failed
    for sample in ("A", "B"):
        assert _digests(tmp_path / "two" / sample) == _digests(tmp_path / "one" / sample)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process group is POSIX")
def test_ctrl_c_stops_the_workers_and_keeps_what_finished(tmp_path):
    import signal

    folder = tmp_path / "many"
    folder.mkdir()
    for seed in range(24):
        grey, _ = touching_pairs(seed % N_IMAGES)
        Image.fromarray((grey * 255).round().astype(np.uint8)).save(folder / f"img{seed:02d}.png")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "particle_gui", "analyze", str(folder), "--out", str(out), "--jobs", "2"]
    # As from a terminal: Ctrl+C's signal not ignored (a shell's background job ignores it, and a Python
    # started with SIGINT ignored never raises KeyboardInterrupt).
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while len(list((out / RECORDS_DIR).glob("*.json")) if (out / RECORDS_DIR).is_dir() else []) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before Ctrl+C"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal sends to the whole group on Ctrl+C
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    finished = {p.stem for p in (out / RECORDS_DIR).glob("*.json")}
    assert 2 <= len(finished) < 24
    assert {p.name.removesuffix("_labels.tif") for p in out.glob("*_labels.tif")} >= finished
    def survivors() -> list[int]:  # the processes still in the run's group (no pgrep on a minimal system)
        group = []
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and os.getpgid(int(entry)) == process.pid:
                    group.append(int(entry))
            except ProcessLookupError:
                continue
        return group

    deadline = time.monotonic() + 15  # multiprocessing's resource tracker leaves a moment after its parent
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors() == []  # no worker left behind
