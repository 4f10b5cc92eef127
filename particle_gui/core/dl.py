"""Deep-learning segmentation: a U-Net's background / interior / border probabilities, run with onnxruntime.

The network (trained by ``training/train_unet.py``, exported to ONNX) works best when the typical
particle is as wide as in training (``target_diameter_px`` in the model's JSON). The image is
rescaled to that size, either from the user's expected diameter or from the network's own
estimate (a probe pass on a reduced image, then up to two refinements), run in overlapping tiles
so memory stays bounded, and the probabilities are mapped back to full resolution. The
probabilities are computed once per image and cached by the pipeline; turning them into
particles (:mod:`particle_gui.core.dl_segment`) is cheap and runs on every slider change.

onnxruntime is imported only when a model is first loaded; TensorFlow is never needed here.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from particle_gui.core.dl_scale import CLASSES, area_weighted_diameter, normalise_intensity, resize, scaled_shape
from particle_gui.core.errors import CancelledError, ParticleGuiError

#: The shipped model (package data) and its description.
MODEL_PATH: Path = Path(__file__).resolve().parents[1] / "models" / "segmentation.onnx"

#: Largest side (model pixels) of the tiles the network runs on, and their overlap on each side.
#: An image that fits one tile runs whole (no overlap to compute twice): a 1024 x 768 pass is
#: ~40 % faster than six overlapping 512-pixel tiles, at ~0.6 GB peak in onnxruntime.
TILE_PX = 1024
OVERLAP_PX = 32
#: Resampling factors allowed (original -> model pixels).
MIN_SCALE, MAX_SCALE = 1.0 / 32.0, 4.0
#: Size probes start with the image's long side at this many model pixels, doubling each time.
PROBE_START_PX = 64
#: Largest probe image (model pixels).
PROBE_MAX_PIXELS = 4_000_000
#: Particles a probe finds are believed when at least this wide (model pixels; the smallest
#: size trained on); smaller ones are often texture inside larger particles, read as particles
#: at too fine a scale. (Chosen with the area-weighted size on training hold-out images.)
PROBE_MIN_DIAMETER_PX = 16.0
#: A probe whose particles are at least this wide (model pixels) but under
#: :data:`PROBE_MIN_DIAMETER_PX` is not believed as it stands, but points at the scale to try
#: next: the network runs there directly rather than on the next, twice as large, probe.
PROBE_HINT_DIAMETER_PX = 10.0
#: A probe whose particles are within this factor of the target size is used as the result;
#: otherwise the network runs once more at the target size.
SCALE_TOLERANCE = 1.2

TileProgress = Callable[[int, int], None]


class ModelError(ParticleGuiError):
    """The deep-learning model is missing, unreadable, or cannot run here."""


@dataclass(frozen=True)
class ModelInfo:
    """What the JSON beside the ONNX file says about the network."""

    target_diameter_px: float
    border_px: float
    classes: tuple[str, ...]
    percentiles: tuple[float, float]
    version: str


@dataclass(frozen=True, eq=False)
class ProbabilityMaps:
    """Per-pixel class probabilities at the image's full resolution (read-only float32 arrays).

    Attributes
    ----------
    foreground : ndarray, shape (H, W)
        1 - P(background): particle interior or border.
    interior : ndarray, shape (H, W)
        P(interior): particle cores, separated between touching particles.
    scale : float
        Resampling factor the network ran at (model pixels per image pixel).
    diameter_px : float
        Typical particle diameter in image pixels (given, or estimated; NaN if none found).
    warnings : tuple of str
    """

    foreground: np.ndarray
    interior: np.ndarray
    scale: float
    diameter_px: float
    warnings: tuple[str, ...] = ()


class SegmentationModel:
    """An ONNX segmentation network and its description, loaded once.

    Parameters
    ----------
    path : path-like, optional
        The ``.onnx`` file; its description is the ``.json`` of the same name. Default:
        the model shipped with the package.
    threads : int, optional
        onnxruntime intra-op threads (default: its own choice, one per core).
    """

    def __init__(self, path: str | Path | None = None, *, threads: int | None = None) -> None:
        self.path = Path(MODEL_PATH if path is None else path)
        if not self.path.is_file():
            raise ModelError(f"The deep-learning model {self.path} is missing; reinstall particle_gui or use the classical method.")
        self.info = _read_info(self.path)
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a runtime dependency
            raise ModelError("Deep-learning segmentation needs the onnxruntime package; install it or use the classical method.") from exc
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting threads
        if threads:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise ModelError(
                f"The deep-learning model {self.path} cannot be read (the file is damaged or not an ONNX model); "
                "reinstall particle_gui or use the classical method."
            ) from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or len(inputs[0].shape) != 4 or outputs[0].shape[-1] != len(self.info.classes):
            raise ModelError(f"The deep-learning model {self.path} does not have the expected inputs and outputs.")
        self._input, self._output = inputs[0].name, outputs[0].name

    def predict(
        self, image: np.ndarray, *, progress: TileProgress | None = None, should_cancel: Callable[[], bool] | None = None
    ) -> np.ndarray:
        """Class probabilities (H, W, 3) of a normalised image already at the model's scale, in tiles."""
        h, w = image.shape
        tiles_y, tile_h, over_y = _tiling(h)
        tiles_x, tile_w, over_x = _tiling(w)
        core_h, core_w = tile_h - 2 * over_y, tile_w - 2 * over_x
        padded = np.pad(
            image,
            ((over_y, tiles_y * core_h - h + over_y), (over_x, tiles_x * core_w - w + over_x)),
            mode="symmetric",
        ).astype(np.float32, copy=False)
        out = np.empty((tiles_y * core_h, tiles_x * core_w, len(self.info.classes)), dtype=np.float32)
        total, done = tiles_y * tiles_x, 0
        for ty in range(tiles_y):
            for tx in range(tiles_x):
                if should_cancel is not None and should_cancel():
                    raise CancelledError("The analysis was cancelled.")
                y, x = ty * core_h, tx * core_w
                tile = padded[y : y + tile_h, x : x + tile_w][None, :, :, None]
                probs = self._session.run([self._output], {self._input: np.ascontiguousarray(tile)})[0][0]
                out[y : y + core_h, x : x + core_w] = probs[over_y : over_y + core_h, over_x : over_x + core_w]
                done += 1
                if progress is not None:
                    progress(done, total)
        return out[:h, :w]


def _tiling(length: int) -> tuple[int, int, int]:
    """(number of tiles, tile side, overlap) covering ``length`` model pixels; sides are multiples of 16.

    A length that fits one tile gets one tile without overlap (padded to a multiple of 16).
    """
    whole = math.ceil(length / 16.0) * 16
    if whole <= TILE_PX:
        return 1, whole, 0
    core = TILE_PX - 2 * OVERLAP_PX
    return math.ceil(length / core), TILE_PX, OVERLAP_PX


def _read_info(path: Path) -> ModelInfo:
    info_path = path.with_suffix(".json")
    try:
        data = json.loads(info_path.read_text(encoding="utf-8"))
        return ModelInfo(
            target_diameter_px=float(data["target_diameter_px"]),
            border_px=float(data.get("border_px", 2.0)),
            classes=tuple(data["classes"]),
            percentiles=tuple(float(v) for v in data["normalise_percentiles"]),
            version=str(data.get("version", "?")),
        )
    except FileNotFoundError as exc:
        raise ModelError(
            f"The deep-learning model {path} is missing (no {info_path.name}); reinstall particle_gui or use the classical method."
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"The description of the deep-learning model ({info_path}) cannot be read: {exc}") from exc


_MODELS: dict[Path, SegmentationModel] = {}
_MODELS_LOCK = threading.Lock()


def load_model(path: str | Path | None = None) -> SegmentationModel:
    """The model at ``path`` (default: the shipped one), loaded once per process.

    The environment variable ``PARTICLE_GUI_ONNX_THREADS`` caps onnxruntime's threads (for
    shared machines and benchmarks); by default it uses one per core.
    """
    key = Path(MODEL_PATH if path is None else path).resolve()
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            threads = os.environ.get("PARTICLE_GUI_ONNX_THREADS", "")
            model = _MODELS[key] = SegmentationModel(key, threads=int(threads) if threads.isdigit() else None)
        return model


def interior_diameter(probs: np.ndarray, *, border_px: float) -> float:
    """Typical particle diameter (model pixels) from the interior probability; NaN if none.

    The area-weighted median diameter of the interior regions, plus the border band on each side.
    """
    interior = (probs[..., CLASSES.index("interior")] > 0.5).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(interior, connectivity=4)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    areas = areas[areas >= 4]
    return area_weighted_diameter(areas) + 2.0 * border_px


def probe_scales(shape: tuple[int, int]) -> list[float]:
    """Scales of the size probes, coarse to fine (at least one)."""
    scales, scale = [], max(MIN_SCALE, PROBE_START_PX / max(shape))
    while scale <= MAX_SCALE and shape[0] * shape[1] * scale**2 <= PROBE_MAX_PIXELS:
        scales.append(scale)
        scale *= 2.0
    return scales or [max(MIN_SCALE, min(MAX_SCALE, math.sqrt(PROBE_MAX_PIXELS / (shape[0] * shape[1]))))]


def estimate_diameter(
    measure: Callable[[float], tuple[float, Any]], shape: tuple[int, int], *, target_px: float = 24.0
) -> tuple[float, float, Any]:
    """Typical particle diameter (image pixels) by coarse-to-fine probes.

    ``measure(scale)`` runs a model at ``scale`` and returns (typical diameter in model pixels
    or NaN, its output). The coarsest probe whose particles are at least
    :data:`PROBE_MIN_DIAMETER_PX` wide is believed; failing that, the finest that found any.
    A probe whose particles are at least :data:`PROBE_HINT_DIAMETER_PX` wide sends the next run
    straight to the scale where they would be ``target_px`` wide (believed if its particles are
    wide enough there), which saves the finer, costlier probes.

    Returns
    -------
    diameter_px, scale, output
        NaN diameter when no probe found particles (``output`` is then the last probe's).
    """
    best: tuple[float, float, Any] = (float("nan"), 0.0, None)
    for scale in probe_scales(shape):
        found, output = measure(scale)
        if not math.isfinite(found):
            if not math.isfinite(best[0]):
                best = (float("nan"), scale, output)
            continue
        best = (found / scale, scale, output)
        if PROBE_HINT_DIAMETER_PX <= found < PROBE_MIN_DIAMETER_PX:
            hinted = scale * target_px / found
            if hinted <= MAX_SCALE and shape[0] * shape[1] * hinted**2 <= PROBE_MAX_PIXELS:
                found, output = measure(hinted)
                if math.isfinite(found):
                    best = (found / hinted, hinted, output)
        if found >= PROBE_MIN_DIAMETER_PX:
            return best
    return best


def predict_probabilities(
    grey: np.ndarray,
    *,
    expected_diameter_px: float = 0.0,
    model: SegmentationModel | None = None,
    progress: TileProgress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ProbabilityMaps:
    """Run the network on a grey image at the scale where its particles have the trained size.

    Parameters
    ----------
    grey : ndarray, shape (H, W)
        The image (any range; it is normalised as in training).
    expected_diameter_px : float
        Typical particle diameter in image pixels; 0 estimates it with the network.
    model : SegmentationModel, optional
        Default: the shipped model.
    progress : callable, optional
        ``progress(tiles_done, tiles_total)`` during each pass of the network (size probes, then the
        final pass at the trained particle size).

    Returns
    -------
    ProbabilityMaps
    """
    model = model or load_model()
    info = model.info
    normalised = normalise_intensity(grey, percentiles=info.percentiles)
    warnings: list[str] = []

    def run(scale: float, report: TileProgress | None) -> np.ndarray:
        small = resize(normalised, scaled_shape(normalised.shape, scale))
        return model.predict(small, progress=report, should_cancel=should_cancel)

    if expected_diameter_px > 0:
        scale = _clamped(info.target_diameter_px / expected_diameter_px, warnings)
        probs = run(scale, progress)
        diameter = expected_diameter_px
    else:

        def measure(scale: float) -> tuple[float, np.ndarray]:
            probs = run(scale, progress)
            return interior_diameter(probs, border_px=info.border_px), probs

        diameter, scale, probs = estimate_diameter(measure, grey.shape, target_px=info.target_diameter_px)
        if not math.isfinite(diameter):
            warnings.append(
                "The network found no particles; the image may be unlike its training images (SEM/TEM particles). "
                "Set the expected particle diameter or use the classical method."
            )
        else:
            wanted = _clamped(info.target_diameter_px / diameter, warnings)
            if abs(math.log(wanted / scale)) > math.log(SCALE_TOLERANCE):
                scale, probs = wanted, run(wanted, progress)
    unsure = float(np.mean(probs.max(axis=-1) < 0.6))
    if unsure > 0.25:
        warnings.append(
            f"The network is unsure about {unsure:.0%} of this image; it may be unlike its training images. "
            "Check the result, set the expected particle diameter, or use the classical method."
        )
    shape = grey.shape
    background = resize(np.ascontiguousarray(probs[..., CLASSES.index("background")]), shape)
    interior = resize(np.ascontiguousarray(probs[..., CLASSES.index("interior")]), shape)
    foreground = 1.0 - background
    for array in (foreground, interior):
        array.setflags(write=False)
    return ProbabilityMaps(foreground, interior, scale, diameter, tuple(dict.fromkeys(warnings)))


def _clamped(scale: float, warnings: list[str]) -> float:
    if scale > MAX_SCALE or scale < MIN_SCALE:
        warnings.append(
            f"The particles are outside the size range the network can be scaled to (factor {scale:.3g}); "
            "the result may be poor. Use the classical method for such images."
        )
    return float(min(MAX_SCALE, max(MIN_SCALE, scale)))
