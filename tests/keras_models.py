"""Loading a trained Keras model for the ONNX-vs-Keras tests (skipped without TensorFlow or the file)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest


def load_keras_model(path: Path) -> Any:
    """The Keras model at ``path``; skips the test when TensorFlow/Keras or the file is missing."""
    with warnings.catch_warnings():  # TensorFlow's import and model loading warn about their own deprecations
        warnings.simplefilter("ignore")
        keras = pytest.importorskip("keras")
        pytest.importorskip("tensorflow")
        if not path.is_file():
            pytest.skip(f"{path.name} is not in this checkout (training output)")
        return keras.saving.load_model(path, compile=False)
