"""Test-wide settings.

Python's cyclic garbage collector runs only between tests, on the main thread: a collection
started inside a worker thread (analysis, autosave) can free Qt objects left by earlier tests
there and crash the process. The app itself does the same (``gui.app.tune_garbage_collector``).
"""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(scope="session", autouse=True)
def collect_garbage_on_the_main_thread_only():
    enabled = gc.isenabled()
    gc.disable()
    yield
    if enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def collect_after_each_test():
    yield
    gc.collect(1)  # a test's garbage is young; a full collection each time tripled the suite's time
