"""Reading a scale bar's label ("200 nm", "2 µm", "0.5 μm", "500nm", "1 um") with a small network.

The reader is a convolutional network (about 0.4 M parameters, ``models/label_reader.onnx``)
trained by ``training/train_label_reader.py`` on labels rendered in 16 fonts at 8-40 px, light
and dark, blurred, noisy and JPEG-compressed. It reads one line of text: the crop is turned
dark-on-light, scaled to :data:`HEIGHT` px and read column by column; the columns' most likely
characters are collapsed (CTC greedy decoding). Its alphabet is digits, ``.`` ``,`` and the
unit letters ``µ u n m p``; any other text reads as something that does not parse as a length.

The confidence is the geometric mean of the probabilities of the characters read (0-1).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np

from particle_gui.core.errors import ParticleGuiError

MODEL_PATH: Path = Path(__file__).resolve().parents[2] / "models" / "label_reader.onnx"
#: Height of the reader's input (pixels).
HEIGHT = 32
#: Margin added on each side of a crop before reading, as a fraction of its height (see :func:`widened`).
SIDE_MARGIN = 0.25
#: A crop whose grey levels span less than this holds no text (the reader would still guess).
MIN_CONTRAST = 24


class LabelReaderError(ParticleGuiError):
    """The label-reading model is missing or cannot run."""


class LabelReader:
    """The ONNX label reader and its alphabet, loaded once."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(MODEL_PATH if path is None else path)
        try:
            info = json.loads(self.path.with_suffix(".json").read_text(encoding="utf-8"))
            self.alphabet: str = info["alphabet"]
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.log_severity_level = 3
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except (OSError, ValueError, KeyError, ImportError) as exc:
            raise LabelReaderError(f"The scale-bar label reader ({self.path}) cannot be loaded: {exc}") from exc
        except Exception as exc:  # onnxruntime's own exception types for damaged files
            raise LabelReaderError(f"The scale-bar label reader ({self.path}) is damaged: {exc}") from exc
        self._input = self._session.get_inputs()[0].name

    def read(self, crop: np.ndarray) -> tuple[str, float]:
        """(text, confidence) of one line of text in a uint8 crop; ("", 0.0) for a crop without contrast."""
        if crop.size == 0 or int(crop.max()) - int(crop.min()) < MIN_CONTRAST:
            return "", 0.0
        x = prepare_crop(widened(crop))
        probs = self._session.run(None, {self._input: x[None, :, :, None]})[0][0]
        return decode(probs, self.alphabet)


def widened(crop: np.ndarray) -> np.ndarray:
    """The crop with :data:`SIDE_MARGIN` of its height added left and right (its edge columns repeated).

    The shipped reader was trained on crops as tight as the app cuts them, yet it drops a label's last
    letter ("2um" read "2u", "10nm" read "10m") on a fifth of them; with this margin it reads them
    (``python -m benchmarks.bench_calibration``).
    """
    margin = int(round(crop.shape[0] * SIDE_MARGIN))
    return np.pad(crop, ((0, 0), (margin, margin)), mode="edge") if margin and crop.ndim == 2 else crop


def prepare_crop(crop: np.ndarray) -> np.ndarray:
    """A text crop as the reader sees it: float32 (HEIGHT, W), dark text on a light background.

    W is a multiple of 4 (at least 32).

    The text is the minority of pixels on the far side of Otsu's threshold from the background.
    """
    crop = np.asarray(crop)
    if crop.ndim != 2 or min(crop.shape) < 2:
        return np.ones((HEIGHT, 32), np.float32)
    grey = crop.astype(np.float32)
    lo, hi = float(grey.min()), float(grey.max())
    grey = (grey - lo) / max(hi - lo, 1.0)
    level, _ = cv2.threshold((grey * 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if np.mean(grey * 255 > level) < 0.5:  # bright pixels are the minority: light text on dark
        grey = 1.0 - grey
    width = max(32, int(round(crop.shape[1] * HEIGHT / crop.shape[0] / 4.0)) * 4)
    interpolation = cv2.INTER_AREA if crop.shape[0] > HEIGHT else cv2.INTER_LINEAR
    return cv2.resize(grey, (width, HEIGHT), interpolation=interpolation).astype(np.float32)


def decode(probs: np.ndarray, alphabet: str) -> tuple[str, float]:
    """Greedy CTC decoding of (T, len(alphabet) + 1) probabilities; class 0 is the blank.

    >>> p = np.full((5, 3), 0.01); p[[0, 1, 3], 1] = 0.98; p[2, 0] = p[4, 0] = 0.98
    >>> decode(p, "ab")
    ('aa', 0.98)
    """
    best = probs.argmax(axis=-1)
    chars, confidences, previous = [], [], 0
    for t, k in enumerate(best):
        if k != 0 and k != previous:
            chars.append(alphabet[k - 1])
            confidences.append(float(probs[t, k]))
        elif k != 0 and confidences:
            confidences[-1] = max(confidences[-1], float(probs[t, k]))
        previous = k
    if not chars:
        return "", 0.0
    confidence = float(np.exp(np.mean(np.log(np.maximum(confidences, 1e-9)))))
    return "".join(chars).replace(",", "."), round(confidence, 6)


_READER: LabelReader | None = None
_LOCK = threading.Lock()


def read_label(crop: np.ndarray) -> tuple[str, float]:
    """Read a label crop with the shipped reader; ("", 0.0) when the reader cannot be loaded."""
    global _READER
    with _LOCK:
        if _READER is None:
            try:
                _READER = LabelReader()
            except LabelReaderError:
                return "", 0.0
    return _READER.read(crop)
