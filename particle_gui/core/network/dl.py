"""Deep-learning segmentation: a U-Net's background / interior / border probabilities and particle cores.

The U-Net is run with onnxruntime.

The network (trained by ``training/train_unet.py``, exported to ONNX) works best when particles
are as wide as in training (``trained_diameter_range_px`` in the model's JSON). The image is
rescaled, either so the user's expected diameter becomes ``target_diameter_px`` or to the scale
where the network is surest of itself (:mod:`particle_gui.core.network.dl_probe`: a ladder of passes
from coarse to fine), run in overlapping tiles so memory
stays bounded, and the outputs are mapped back to full resolution. The
probabilities are computed once per image and cached by the pipeline; turning them into
particles (:mod:`particle_gui.core.network.dl_segment`) is cheap and runs on every slider change.

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

import numpy as np

from particle_gui.core.network import dl_probe
from particle_gui.core.network.dl_probe import MAX_SCALE, MIN_SCALE, Sizes
from particle_gui.core.network.dl_scale import CLASSES, normalise_intensity, resize, scaled_shape
from particle_gui.core.errors import CancelledError, ParticleGuiError

#: The shipped model (package data) and its description.
MODEL_PATH: Path = Path(__file__).resolve().parents[2] / "models" / "segmentation.onnx"

#: Largest side (model pixels) of the tiles the network runs on, and their overlap on each side.
#: An image that fits one tile runs whole (no overlap to compute twice): a 1024 x 768 pass is
#: ~40 % faster than six overlapping 512-pixel tiles, at ~0.6 GB peak in onnxruntime.
TILE_PX = 1024
OVERLAP_PX = 64
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
    #: Channels of the output: the classes, then "core" for a model that finds particle cores.
    outputs: tuple[str, ...] = CLASSES
    #: Input sides must be multiples of this (2 ** pooling levels).
    input_multiple: int = 16
    #: Typical particle diameters (model px) the network was trained on.
    trained_range_px: tuple[float, float] = (16.0, 36.0)

    @property
    def has_core(self) -> bool:
        return "core" in self.outputs


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
    core : ndarray, shape (H, W), or None
        P(core): the probability of lying in a particle's inner half (away from its outline and
        from every contact with a neighbour), for models that predict it; cores seed the split
        of touching particles whatever their size.
    confidence : float
        Mean certainty of the network over the particles' pixels (1 = sure), NaN without any.
    """

    foreground: np.ndarray
    interior: np.ndarray
    scale: float
    diameter_px: float
    warnings: tuple[str, ...] = ()
    core: np.ndarray | None = None
    confidence: float = float("nan")

    @property
    def seeds_map(self) -> np.ndarray:
        """What seeds and splits particles: P(core), or P(interior) for a model without cores."""
        return self.interior if self.core is None else self.core


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
        extra = [o.name for o in outputs[1:]]
        if (len(inputs) != 1 or len(inputs[0].shape) != 4 or outputs[0].shape[-1] != len(self.info.outputs)
                or extra not in ([], ["features"])):
            raise ModelError(f"The deep-learning model {self.path} does not have the expected inputs and outputs.")
        self._input, self._output = inputs[0].name, outputs[0].name
        #: The features the last two layers read (a model that can be fine-tuned: ``dl_adapt``), or None.
        self.features_output: str | None = "features" if extra else None

    def predict(
        self, image: np.ndarray, *, progress: TileProgress | None = None, should_cancel: Callable[[], bool] | None = None,
        head: Callable[[np.ndarray], np.ndarray] | None = None, channels: int | None = None,
    ) -> np.ndarray:
        """Class probabilities (H, W, 3) of a normalised image already at the model's scale, in tiles.

        With ``head``, the tiles' ``features`` output goes through ``head`` instead (fine-tuned last
        layers, or the features themselves), which returns ``channels`` channels per pixel.
        """
        h, w = image.shape
        multiple = self.info.input_multiple
        tiles_y, tile_h, over_y = _tiling(h, multiple)
        tiles_x, tile_w, over_x = _tiling(w, multiple)
        core_h, core_w = tile_h - 2 * over_y, tile_w - 2 * over_x
        padded = np.pad(
            image,
            ((over_y, tiles_y * core_h - h + over_y), (over_x, tiles_x * core_w - w + over_x)),
            mode="symmetric",
        ).astype(np.float32, copy=False)
        if head is not None and self.features_output is None:
            raise ModelError(f"The deep-learning model {self.path} has no features output: it cannot be fine-tuned.")
        channels = len(self.info.outputs) if head is None else int(channels or len(self.info.outputs))
        out = np.empty((tiles_y * core_h, tiles_x * core_w, channels), dtype=np.float32)
        total, done = tiles_y * tiles_x, 0
        for ty in range(tiles_y):
            for tx in range(tiles_x):
                if should_cancel is not None and should_cancel():
                    raise CancelledError("The analysis was cancelled.")
                y, x = ty * core_h, tx * core_w
                tile = padded[y : y + tile_h, x : x + tile_w][None, :, :, None]
                if head is None:
                    probs = self._session.run([self._output], {self._input: np.ascontiguousarray(tile)})[0][0]
                else:
                    probs = head(self._session.run([self.features_output], {self._input: np.ascontiguousarray(tile)})[0][0])
                out[y : y + core_h, x : x + core_w] = probs[over_y : over_y + core_h, over_x : over_x + core_w]
                done += 1
                if progress is not None:
                    progress(done, total)
        return out[:h, :w]


def _tiling(length: int, multiple: int = 16) -> tuple[int, int, int]:
    """(number of tiles, tile side, overlap) covering ``length`` model pixels; sides are multiples of ``multiple``.

    A length that fits one tile gets one tile without overlap (padded to a multiple).
    """
    whole = math.ceil(length / multiple) * multiple
    if whole <= TILE_PX:
        return 1, whole, 0
    core = TILE_PX - 2 * OVERLAP_PX
    return math.ceil(length / core), TILE_PX, OVERLAP_PX


def _read_info(path: Path) -> ModelInfo:
    info_path = path.with_suffix(".json")
    try:
        data = json.loads(info_path.read_text(encoding="utf-8"))
        classes = tuple(data["classes"])
        return ModelInfo(
            target_diameter_px=float(data["target_diameter_px"]),
            border_px=float(data.get("border_px", 2.0)),
            classes=classes,
            percentiles=tuple(float(v) for v in data["normalise_percentiles"]),
            version=str(data.get("version", "?")),
            outputs=tuple(data.get("outputs", classes)),
            input_multiple=int(data.get("input_multiple", 16)),
            trained_range_px=tuple(float(v) for v in data.get("trained_diameter_range_px", (16.0, 36.0))),
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


def _diameters(probs: np.ndarray, info: ModelInfo) -> np.ndarray:
    """Diameters (model px) of the particles in one pass's output (see :func:`dl_probe.instance_diameters`)."""
    foreground = 1.0 - probs[..., info.outputs.index("background")]
    if info.has_core:
        return dl_probe.instance_diameters(foreground, probs[..., info.outputs.index("core")])
    interior = probs[..., info.outputs.index("interior")]
    found = dl_probe.instance_diameters(interior, interior)  # cores only: add the border band
    return found + 2.0 * info.border_px if found.size else found


def predict_probabilities(
    grey: np.ndarray,
    *,
    expected_diameter_px: float = 0.0,
    model: SegmentationModel | None = None,
    progress: TileProgress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    layers: Callable[[np.ndarray], np.ndarray] | None = None,
    intensity_range: tuple[float, float] | None = None,
    scale_factor: float = 1.0,
) -> ProbabilityMaps:
    """Run the network on a grey image at the scale its particles call for (:mod:`dl_probe`).

    Parameters
    ----------
    grey : ndarray, shape (H, W)
        The image (any range; it is normalised as in training).
    expected_diameter_px : float
        Typical particle diameter in image pixels; 0 estimates the sizes with the network.
    model : SegmentationModel, optional
        Default: the shipped model.
    progress : callable, optional
        ``progress(tiles_done, tiles_total)`` during each pass of the network.
    layers : callable, optional
        Fine-tuned last layers (:class:`~particle_gui.core.network.dl_adapt.LastLayers`) used
        instead of the shipped ones.
    intensity_range : (float, float), optional
        The grey values mapped to 0 and 1 for the network (a montage's, fixed for all its tiles);
        by default from this image's percentiles.
    scale_factor : float
        Without an expected diameter, run at the chosen scale times this (above 1: finer).

    Returns
    -------
    ProbabilityMaps
    """
    model = model or load_model()
    info = model.info
    if intensity_range is None:
        normalised = normalise_intensity(grey, percentiles=info.percentiles)
    else:
        low, high = intensity_range
        normalised = (np.asarray(grey, dtype=np.float32) - np.float32(low)) * np.float32(1.0 / (high - low))
    warnings: list[str] = []

    def run(scale: float, part: np.ndarray = normalised) -> np.ndarray:
        small = resize(part, scaled_shape(part.shape, scale))
        return model.predict(small, progress=progress, should_cancel=should_cancel, head=layers)

    if expected_diameter_px > 0:
        scale = _clamped(info.target_diameter_px / expected_diameter_px, warnings)
        probs = run(scale)
        diameter = float(expected_diameter_px)
    else:

        background = info.outputs.index("background")

        def measure(scale: float, window: tuple[slice, slice]) -> tuple[np.ndarray, float, np.ndarray]:
            probs = run(scale, normalised[window])
            return _diameters(probs, info), dl_probe.unsure_fraction(probs, background, len(info.classes)), probs

        sizes, scale, probs = dl_probe.estimate_scale(measure, grey.shape, run)
        if scale_factor != 1.0 and sizes.count:
            scale = _clamped(scale * scale_factor, warnings)
            probs = run(scale)
        diameter = sizes.d50
        if sizes.count == 0:
            warnings.append(
                "The network found no particles; the image may be unlike its training images (SEM/TEM particles). "
                "Set the expected particle diameter or use the classical method."
            )
        else:
            warnings.extend(_size_warnings(sizes, scale, info))
    certainty = probs[..., : len(info.classes)].max(axis=-1)
    particle = probs[..., info.outputs.index("background")] < 0.5
    confidence = float(certainty[particle].mean()) if particle.any() else float("nan")
    unsure = float(np.mean(certainty < 0.6))
    if unsure > 0.25:
        warnings.append(
            f"The network is unsure about {unsure:.0%} of this image; it may be unlike its training images. "
            "Check the result, set the expected particle diameter, or use the classical method."
        )
    shape = grey.shape
    channel = {name: resize(np.ascontiguousarray(probs[..., i]), shape) for i, name in enumerate(info.outputs)}
    foreground = 1.0 - channel["background"]
    core = channel.get("core")
    for array in (foreground, channel["interior"], core):
        if array is not None:
            array.setflags(write=False)
    return ProbabilityMaps(foreground, channel["interior"], scale, diameter, tuple(dict.fromkeys(warnings)),
                           core=core, confidence=confidence)


def _size_warnings(sizes: Sizes, scale: float, info: ModelInfo) -> list[str]:
    """Warnings when the particles found lie outside what the network was trained on."""
    low, high = info.trained_range_px
    out = []
    if sizes.count >= 5 and sizes.d10 * scale < 0.7 * low:
        out.append(
            f"Some particles are very small for the network ({sizes.d10:.3g} px at D10) next to the large ones "
            f"({sizes.d90:.3g} px at D90); small ones may be missed. Check the result or set the expected diameter."
        )
    if sizes.d50 * scale > 1.5 * high or sizes.d50 * scale < 0.7 * low:
        out.append(
            f"The particles ({sizes.d50:.3g} px) are outside the size range the network can be scaled to; "
            "the result may be poor. Set the expected particle diameter or use the classical method."
        )
    return out


def _clamped(scale: float, warnings: list[str]) -> float:
    if scale > MAX_SCALE or scale < MIN_SCALE:
        warnings.append(
            f"The particles are outside the size range the network can be scaled to (factor {scale:.3g}); "
            "the result may be poor. Use the classical method for such images."
        )
    return float(min(MAX_SCALE, max(MIN_SCALE, scale)))
