"""A batch's images on every core (worker processes) or on a Dask cluster, resumable, shardable.

- **Workers**: ``jobs`` processes (spawned, so nothing of the parent's threads is copied), each
  with its own ONNX Runtime session sharing the cores; results come back as images finish and
  are recorded at once, so an interrupted run keeps what it finished. The outputs are the same
  files, byte for byte, whatever the number of workers.
- **A cluster**: an ``executor`` (for example ``distributed.Client(address).get_executor()``)
  runs the same tasks elsewhere; the output folder must be reachable from the workers.
- **Records**: every image leaves ``records/<stem>.json`` beside its outputs: its summary row,
  its ``run.json`` entry and the *key* of what made it (the app's version, the parameters and
  options, the models' SHA-256 and the image's). ``resume`` skips an image whose record has the
  same key and whose outputs are all there; ``summary.csv`` is rebuilt from the records.
- **Shards**: ``shard=(i, n)`` takes every n-th image from the i-th (in the sorted input order),
  for job arrays without a scheduler; each shard writes its own records, and a final ``resume``
  run without a shard gathers them into one ``summary.csv``.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import signal
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import particle_gui
from particle_gui.core.errors import CancelledError
from particle_gui.core.io.calibration import Calibration
from particle_gui.core.io.loading import file_sha256
from particle_gui.core.output import export
from particle_gui.core.params import PipelineParams

RECORDS_DIR = "records"
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


@lru_cache(maxsize=1)
def _models_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(MODELS_DIR.glob("*")):
        if path.suffix in (".onnx", ".json", ".npz"):
            digest.update(path.name.encode())
            digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def run_key(params: PipelineParams, recorded_options: dict[str, Any]) -> str:
    """What makes a run's outputs what they are: version, parameters, options and models."""
    text = json.dumps({"version": particle_gui.__version__, "params": params.to_dict(), "options": recorded_options,
                       "models": _models_fingerprint()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def image_key(key: str, image_sha256: str | None) -> str:
    """One image's key: the run's and the image's content."""
    return hashlib.sha256(f"{key}:{image_sha256}".encode()).hexdigest()


def record_path(out_dir: Path, stem: str) -> Path:
    """Where the record of the image with output stem ``stem`` is kept."""
    return out_dir / RECORDS_DIR / f"{stem}.json"


def write_record(out_dir: Path, outcome, key: str) -> None:
    """The image's record (see the module text), written atomically."""
    (out_dir / RECORDS_DIR).mkdir(exist_ok=True)
    data = {"key": image_key(key, outcome.sha256), "row": outcome.row, "record": outcome.record(),
            "error": outcome.error}
    export.atomic_write_text(record_path(out_dir, outcome.stem), json.dumps(data, default=str) + "\n")


def resumed_outcome(out_dir: Path, path: Path, stem: str, key: str, outcome_type):
    """The recorded outcome of an image done before with the same key and all its outputs; else None."""
    try:
        data = json.loads(record_path(out_dir, stem).read_text(encoding="utf-8"))
        sha256 = file_sha256(path)
    except (OSError, ValueError):
        return None
    if data.get("key") != image_key(key, sha256) or data.get("error"):
        return None  # another run's, or a failure to try again
    record = data["record"]
    outputs = tuple(out_dir / name for name in record.get("outputs", ()))
    if not outputs or not all(p.is_file() for p in outputs):
        return None
    calibration = Calibration(**record["calibration"]) if record.get("calibration") else None
    return outcome_type(path=path, stem=stem, row=data["row"], sha256=sha256, calibration=calibration,
                        outputs=outputs)


def shard_indices(count: int, shard: tuple[int, int] | None) -> list[int]:
    """The indices of the images shard ``(i, n)`` takes: i, i + n, i + 2n, ...

    >>> shard_indices(7, (1, 3))
    [1, 4]
    """
    if shard is None:
        return list(range(count))
    index, total = shard
    return list(range(index, count, total))


def _worker_init(threads: int) -> None:
    """Each worker: its ONNX Runtime threads, and Ctrl+C left to the parent (which stops the pool)."""
    os.environ["PARTICLE_GUI_ONNX_THREADS"] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_pool(jobs: int) -> concurrent.futures.ProcessPoolExecutor:
    """``jobs`` spawned worker processes sharing the machine's cores."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    return concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=_worker_init, initargs=(threads,))


def stop_pool(executor: concurrent.futures.Executor) -> None:
    """Cancel what has not started and end the workers now (a Ctrl+C or a cancel)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())  # before shutdown forgets them
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:  # gone before anyone cleans up after them
        process.join(timeout=10)


def run_tasks(task: Callable[..., Any], items: Sequence[tuple[int, tuple]], executor: concurrent.futures.Executor,
              should_cancel: Callable[[], bool] | None = None) -> Iterator[tuple[int, Any]]:
    """``(index, task(*args))`` for every ``(index, args)`` of ``items``, as they finish."""
    futures = {executor.submit(task, *args): index for index, args in items}
    pending = set(futures)
    while pending:
        done, pending = concurrent.futures.wait(pending, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            try:
                result = future.result()
            except concurrent.futures.CancelledError:
                continue
            except Exception as exc:  # the worker died (BrokenProcessPool, a cluster's error): the caller records it
                result = exc
            yield futures[future], result
        if should_cancel is not None and should_cancel():
            for future in pending:
                future.cancel()
            return


def run_elsewhere(task: Callable[..., Any], items: Sequence[tuple[int, tuple]], jobs: int,
                  executor: concurrent.futures.Executor | None, should_cancel: Callable[[], bool] | None,
                  finish: Callable[[int, Any], None], failed: Callable[[int, str], Any],
                  folders: Sequence[Path] = ()) -> None:
    """Run ``items`` in ``jobs`` worker processes (or ``executor``), handing each result to ``finish``.

    A worker that dies fails its image only (``failed(index, reason)``). On Ctrl+C, a cancel or
    an error the workers are stopped at once and the temporary files they were writing are removed
    from ``folders``; what finished is kept.

    Raises
    ------
    CancelledError
        ``should_cancel`` returned True.
    """
    pool = executor
    if pool is None:
        try:
            pool = make_pool(min(jobs, len(items)))
        except (OSError, NotImplementedError) as exc:  # no /dev/shm or semaphores (some containers, sandboxes)
            warnings.warn(f"Worker processes cannot be started here ({type(exc).__name__}: {exc}); "
                          "the images are analysed one after another in this process.", RuntimeWarning, stacklevel=2)
            for index, args in items:
                if should_cancel is not None and should_cancel():
                    raise CancelledError("The batch was cancelled.") from None
                finish(index, task(*args))
            return
    finished = False
    try:
        for index, outcome in run_tasks(task, items, pool, should_cancel):
            if isinstance(outcome, BaseException):
                outcome = failed(index, f"the worker analysing it stopped ({type(outcome).__name__}: {outcome}); "
                                        "it may have run out of memory.")
            finish(index, outcome)
        if should_cancel is not None and should_cancel():
            raise CancelledError("The batch was cancelled.")
        finished = True
    finally:
        if executor is None:
            if finished:
                pool.shutdown()
            else:
                stop_pool(pool)
                for folder in folders:
                    export.remove_temporaries(folder)
