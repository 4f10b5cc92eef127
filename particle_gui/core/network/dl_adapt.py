"""Fine-tuning the network's last two layers on a user's corrected images, on the CPU, with numpy.

The shipped model has a second output, ``features``: the 16 channels its last two layers read
(``training/add_features_output.py``). Those layers, a 3 x 3 convolution (16 -> 16, ReLU) and the
1 x 1 class convolution (16 -> 3, softmax), are a small per-pixel network over each pixel's 3 x 3
neighbourhood of features: :func:`fine_tune` retrains it on the corrected images' pixels
(background / interior / border targets as in training, classes balanced, Adam, weights kept near
the shipped ones by an L2 pull), starting from the shipped weights
(``segmentation.last_layers.npz``). No TensorFlow and no training runtime: a few seconds per image
on two cores. :class:`LastLayers` is written into the params as text (:meth:`LastLayers.encode`),
so a profile, a session or ``run.json`` carries the adapted network with it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from particle_gui.core.errors import CancelledError, ParamsError
from particle_gui.core.network.dl_scale import three_class_target

#: Rows of features turned into probabilities at once (bounds the 3 x 3 neighbourhoods' memory).
CHUNK_ROWS = 96
FEATURES = 16
_SHAPES = ((16, 144), (16,), (3, 16), (3,))
_PREFIX = "last-layers-v1:"


@dataclass(frozen=True, eq=False)
class LastLayers:
    """The last two layers: ``conv`` (16, 144) over (channel, dy, dx) neighbourhoods, its bias, the class layer."""

    conv_weight: np.ndarray
    conv_bias: np.ndarray
    class_weight: np.ndarray
    class_bias: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.conv_weight, self.conv_bias, self.class_weight, self.class_bias

    def encode(self) -> str:
        """Compact text for the params (base64 of the float32 weights)."""
        flat = np.concatenate([a.astype(np.float32).ravel() for a in self.arrays()])
        return _PREFIX + base64.b64encode(flat.tobytes()).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> LastLayers:
        """The layers :meth:`encode` wrote; :class:`ParamsError` for anything else."""
        if not text.startswith(_PREFIX):
            raise ParamsError("dl.adapted_layers is not a fine-tuned network written by this version.")
        try:
            flat = np.frombuffer(base64.b64decode(text[len(_PREFIX):], validate=True), dtype=np.float32)
        except ValueError as exc:
            raise ParamsError(f"dl.adapted_layers is damaged ({exc}).") from exc
        sizes = [int(np.prod(s)) for s in _SHAPES]
        if flat.size != sum(sizes) or not np.all(np.isfinite(flat)):
            raise ParamsError("dl.adapted_layers is damaged (wrong number of weights).")
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        return cls(*(p.reshape(s).copy() for p, s in zip(parts, _SHAPES)))

    def fingerprint(self) -> str:
        return hashlib.sha256(self.encode().encode("ascii")).hexdigest()[:12]

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities (H, W, 3) from a tile's features (H, W, 16), in row chunks."""
        h, w, _ = features.shape
        padded = np.pad(features.astype(np.float32, copy=False), ((1, 1), (1, 1), (0, 0)))
        out = np.empty((h, w, 3), dtype=np.float32)
        conv_t = self.conv_weight.T.astype(np.float32)
        class_t = self.class_weight.T.astype(np.float32)
        for y in range(0, h, CHUNK_ROWS):
            rows = neighbourhoods(padded[y : min(h, y + CHUNK_ROWS) + 2])
            hidden = np.maximum(rows @ conv_t + self.conv_bias.astype(np.float32), 0.0)
            out[y : y + rows.shape[0]] = _softmax(hidden @ class_t + self.class_bias.astype(np.float32))
        return out


def neighbourhoods(padded: np.ndarray) -> np.ndarray:
    """(H, W, 144) 3 x 3 neighbourhoods ordered (channel, dy, dx) of a (H + 2, W + 2, 16) padded array."""
    view = sliding_window_view(padded, (3, 3), axis=(0, 1))  # H, W, 16, 3, 3
    return view.reshape(view.shape[0], view.shape[1], -1)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@lru_cache(maxsize=4)
def shipped_layers(model_path: str) -> LastLayers:
    """The shipped model's own last two layers (``<model>.last_layers.npz``)."""
    path = Path(model_path).with_suffix(".last_layers.npz")
    try:
        with np.load(path) as data:
            return LastLayers(data["conv_weight"].reshape(16, -1), data["conv_bias"], data["class_weight"],
                              data["class_bias"])
    except (OSError, KeyError, ValueError) as exc:
        raise ParamsError(f"The network's last layers ({path.name}) are missing or damaged: reinstall particle_gui.") from exc


@lru_cache(maxsize=8)
def decoded(text: str) -> LastLayers:
    """:meth:`LastLayers.decode`, once per text (the pipeline asks on every run)."""
    return LastLayers.decode(text)


def training_pixels(features: np.ndarray, labels: np.ndarray, *, limit: int, rng: np.random.Generator,
                    valid: np.ndarray | None = None, border_px: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``limit`` (neighbourhood, class) samples of one image at the model's scale.

    ``valid`` (bool, same shape) marks the pixels whose class is known: not the particles cut by
    the image's edge or the data bar, which corrected labels leave out without being background.
    """
    targets = three_class_target(labels, border_px=border_px).ravel()
    padded = np.pad(features.astype(np.float32, copy=False), ((1, 1), (1, 1), (0, 0)))
    candidates = np.flatnonzero(valid.ravel()) if valid is not None else np.arange(targets.size)
    chosen = rng.choice(candidates, size=min(limit, candidates.size), replace=False)
    rows, cols = np.unravel_index(chosen, labels.shape)
    view = sliding_window_view(padded, (3, 3), axis=(0, 1))
    return view[rows, cols].reshape(chosen.size, -1), targets[chosen]


def fine_tune(samples: Sequence[tuple[np.ndarray, np.ndarray]], start: LastLayers, *, steps: int = 400,
              learning_rate: float = 1e-3, pull: float = 1e-2, batch: int = 4096, seed: int = 0,
              should_cancel: Callable[[], bool] | None = None) -> LastLayers:
    """Retrain the last two layers on ``samples`` ((N, 144) neighbourhoods, (N,) classes), from ``start``.

    Adam on the class-balanced cross-entropy plus ``pull`` times the squared distance to the
    start's weights; deterministic for a seed.
    """
    x_all = np.concatenate([s[0] for s in samples]).astype(np.float64)
    y_all = np.concatenate([s[1] for s in samples]).astype(np.int64)
    counts = np.bincount(y_all, minlength=3)
    class_weight = np.sqrt(y_all.size / (3.0 * np.maximum(counts, 1)))
    params = [a.astype(np.float64).copy() for a in start.arrays()]
    origin = [p.copy() for p in params]
    first, second = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(seed)
    onehot = np.eye(3)[y_all]
    for step in range(1, steps + 1):
        if should_cancel is not None and step % 50 == 0 and should_cancel():
            raise CancelledError("The adaptation was cancelled.")
        pick = rng.integers(0, y_all.size, min(batch, y_all.size))
        x, weight = x_all[pick], class_weight[y_all[pick]][:, None]
        hidden = np.maximum(x @ params[0].T + params[1], 0.0)
        error = (_softmax(hidden @ params[2].T + params[3]) - onehot[pick]) * weight / pick.size
        back = error @ params[2]
        back[hidden <= 0] = 0.0
        grads = [back.T @ x + pull * (params[0] - origin[0]), back.sum(0),
                 error.T @ hidden + pull * (params[2] - origin[2]), error.sum(0)]
        for i, g in enumerate(grads):
            first[i] = 0.9 * first[i] + 0.1 * g
            second[i] = 0.999 * second[i] + 0.001 * g * g
            params[i] -= learning_rate * (first[i] / (1 - 0.9**step)) / (np.sqrt(second[i] / (1 - 0.999**step)) + 1e-8)
    return LastLayers(*(p.astype(np.float32) for p in params))
