"""The reference data in ``../shared/data`` that some tests read where it lies (never copied).

A test that needs it calls :func:`require` (directly or in a fixture): without the data it is
skipped on a developer's machine, but it **fails** when ``CI`` is ``true`` (CI always has ``../shared``
beside the clone, so its absence there is a broken setup, not a reason to test less).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FORMATS = SHARED_DATA / "formats"
VENDOR_SEM = SHARED_DATA / "vendor_sem"
EMPS = SHARED_DATA / "emps_train"
AMPIS = SHARED_DATA / "other_sources" / "ampis_powder"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(folder: Path) -> Path:
    """``folder``, or skip (developer machine) / fail (CI) when it is missing."""
    if not folder.is_dir():
        message = f"shared test data not found: {folder}"
        if in_ci():
            pytest.fail(message + " (CI=true: ../shared/data must be beside the clone)")
        pytest.skip(message)
    return folder
