"""Adaptation in a separate process, so that the window never waits on it.

The search calls SciPy and scikit-image functions that hold Python's global lock for tens of
milliseconds; run in a thread of the window's process they stall the window (61 ms measured).
Here the work runs in a spawned process: progress comes back through a queue, a cancel goes out
through an event, and the profile (or the error) comes back at the end.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence

from particle_gui.core.errors import CancelledError, ParticleGuiError


class AdaptationProcessError(ParticleGuiError):
    """The adaptation's process stopped without an answer (killed, or out of memory)."""


def _run(corrected, start, kwargs, messages, cancel) -> None:
    """In the child: adapt, reporting progress, and send back the profile or the error."""
    from particle_gui.core.adapt.adaptation import adapt

    try:
        profile = adapt(corrected, start, progress=lambda step, steps, text: messages.put(("progress", (step, steps, text))),
                        should_cancel=cancel.is_set, **kwargs)
    except BaseException as exc:  # every failure goes back to the window, which says what happened
        try:
            messages.put(("error", exc))
        except Exception:  # an exception that cannot be pickled: its text
            messages.put(("error", ParticleGuiError(f"{type(exc).__name__}: {exc}")))
        return
    messages.put(("done", profile))


def adapt_in_process(corrected: Sequence, start, *, progress: Callable[[int, int, str], None] | None = None,
                     should_cancel: Callable[[], bool] | None = None, **kwargs):
    """:func:`~particle_gui.core.adapt.adaptation.adapt` in a spawned process (same arguments and result).

    Raises
    ------
    CancelledError
        ``should_cancel`` returned True (the child stops at its next step).
    AdaptationProcessError
        The child ended without an answer.
    """
    context = multiprocessing.get_context("spawn")
    messages, cancel = context.Queue(), context.Event()
    child = context.Process(target=_run, args=(list(corrected), start, kwargs, messages, cancel), daemon=True)
    child.start()
    try:
        while True:
            if should_cancel is not None and should_cancel():
                cancel.set()
            try:
                kind, value = messages.get(timeout=0.1)
            except queue.Empty:
                if not child.is_alive():
                    raise AdaptationProcessError(
                        f"The adaptation stopped without an answer (exit code {child.exitcode}); it may have run out "
                        "of memory. Try fewer or smaller corrected images.") from None
                continue
            if kind == "progress" and progress is not None:
                progress(*value)
            elif kind == "error":
                raise value
            elif kind == "done":
                return value
    finally:
        cancel.set()
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()


__all__ = ["AdaptationProcessError", "CancelledError", "adapt_in_process"]
