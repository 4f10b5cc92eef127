"""Robustness tests: the bad-input corpus, failure scenarios, properties, worker errors.

The corpus is generated once per session by :mod:`synthetic.bad_inputs`; nothing binary is
stored in the repository. Settings and logs of GUI tests go to a temporary folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from synthetic.bad_inputs import Case, generate  # noqa: E402

#: A Python exception class name (ValueError, OSError, DecompressionBombError...).
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> list[tuple[Case, Path]]:
    return generate(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Never read or write the real user's settings or logs."""
    folder = tmp_path / "config"
    monkeypatch.setenv("PARTICLE_GUI_CONFIG_DIR", str(folder))
    return folder


def assert_clear(message: str, path: Path) -> None:
    """A message a user can act on: it names the file and never shows a traceback or a class name."""
    assert path.name in message, message
    assert "Traceback" not in message, message
    assert not EXCEPTION_NAME.search(message), message


def assert_words(text: str, words) -> None:
    for word in words:
        assert word.lower() in text.lower(), f"{word!r} not in {text!r}"
