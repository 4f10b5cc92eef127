"""EMPS training data for the segmentation network: rescaled images, three-class targets, augmentation.

Every image is resampled so that its typical particle (median equivalent diameter of the
ground truth) is ``TARGET_DIAMETER_PX * MAX_ZOOM`` pixels across; patches are then cut at a
random zoom in ``[1 / MAX_ZOOM, MAX_ZOOM]`` around the target size, so the network sees
particles of ``TARGET_DIAMETER_PX / MAX_ZOOM`` to ``TARGET_DIAMETER_PX * MAX_ZOOM`` pixels.
Pure NumPy (no TensorFlow), seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from benchmarks import emps
from particle_gui.core.dl_scale import normalise_intensity, resize, scaled_shape, three_class_target, typical_diameter
from particle_gui.core.loading import load_image

#: Typical particle diameter (px) the network is trained for.
TARGET_DIAMETER_PX = 24.0
#: Largest zoom factor of the scale augmentation (and its inverse the smallest).
MAX_ZOOM = 1.5
#: Side of the square training patches.
PATCH = 128
#: Largest resampling factor applied to an image (tiny particles).
MAX_SCALE = 6.0


@dataclass
class Prepared:
    name: str
    image: np.ndarray  # float32 (H, W), normalised, at scale * MAX_ZOOM
    labels: np.ndarray  # int32 (H, W), same grid
    scale: float  # native -> TARGET_DIAMETER_PX grid


def prepare(name: str) -> Prepared:
    """Load an EMPS image and its labels and resample them for training."""
    image = load_image(emps.DATA_DIR / "images" / f"{name}.png")
    _, labels = emps.load_pair(name)
    diameter = typical_diameter(labels)
    scale = TARGET_DIAMETER_PX / diameter if np.isfinite(diameter) else 1.0
    scale = min(scale, MAX_SCALE)
    shape = scaled_shape(labels.shape, scale * MAX_ZOOM)
    grey = normalise_intensity(image.grey)
    return Prepared(name, resize(grey, shape), resize(labels, shape, nearest=True).astype(np.int32), scale)


def configure_tensorflow(seed: int, threads: int) -> None:
    """Seed Keras (data order, augmentation, initialisation) and cap TensorFlow's CPU threads."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def training_names(seed: int = 0, holdout_fraction: float = 0.1) -> tuple[list[str], list[str]]:
    """The project split's training images, less a seeded hold-out used to pick checkpoints.

    The project's validation split (``benchmarks/emps_split.json``) is never used here.
    """
    train, _ = emps.load_split()
    order = np.random.default_rng(seed + 1000).permutation(len(train))
    n_hold = round(holdout_fraction * len(train))
    holdout = sorted(train[i] for i in order[:n_hold])
    fit = sorted(train[i] for i in order[n_hold:])
    return fit, holdout


def _crop(prepared: Prepared, zoom: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A PATCH x PATCH crop at ``zoom`` (1 = target size): image, labels, valid-pixel weight."""
    window = int(round(PATCH * MAX_ZOOM / zoom))
    h, w = prepared.image.shape
    pad_y, pad_x = max(0, window - h), max(0, window - w)
    image, labels = prepared.image, prepared.labels
    valid = np.ones((h, w), dtype=np.float32)
    if pad_y or pad_x:
        pads = ((pad_y // 2, pad_y - pad_y // 2), (pad_x // 2, pad_x - pad_x // 2))
        image = np.pad(image, pads, mode="reflect" if min(h, w) > 1 else "edge")
        labels = np.pad(labels, pads)
        valid = np.pad(valid, pads)
        h, w = image.shape
    y = int(rng.integers(0, h - window + 1))
    x = int(rng.integers(0, w - window + 1))
    sl = np.s_[y : y + window, x : x + window]
    size = (PATCH, PATCH)
    return resize(image[sl], size), resize(labels[sl], size, nearest=True), resize(valid[sl], size, nearest=True)


def augment_intensity(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Polarity, gamma, contrast, brightness, blur and noise on a normalised patch."""
    out = image.astype(np.float32, copy=True)
    if rng.random() < 0.5:
        out = 1.0 - out  # bright on dark <-> dark on bright
    inside = np.clip(out, 0.0, 1.0)
    out = inside ** np.float32(np.exp(rng.uniform(-0.5, 0.5))) + (out - inside)
    out = (out - 0.5) * np.float32(rng.uniform(0.6, 1.4)) + 0.5 + np.float32(rng.uniform(-0.15, 0.15))
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 1.2)))
    if rng.random() < 0.5:
        out = out + rng.normal(0.0, rng.uniform(0.01, 0.08), out.shape).astype(np.float32)
    return out


def sample_patch(prepared: Prepared, rng: np.random.Generator, *, augment: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One training pair: image (PATCH, PATCH, 1) and target (PATCH, PATCH, 4) = one-hot classes + weight."""
    zoom = float(np.exp(rng.uniform(-np.log(MAX_ZOOM), np.log(MAX_ZOOM)))) if augment else 1.0
    image, labels, valid = _crop(prepared, zoom, rng)
    if augment:
        k = int(rng.integers(0, 4))
        image, labels, valid = (np.rot90(a, k) for a in (image, labels, valid))
        if rng.random() < 0.5:
            image, labels, valid = (a[:, ::-1] for a in (image, labels, valid))
        image = augment_intensity(image, rng)
    classes = three_class_target(labels)
    target = np.zeros((PATCH, PATCH, 4), dtype=np.float32)
    target[..., :3] = np.eye(3, dtype=np.float32)[classes]
    target[..., 3] = valid
    return np.ascontiguousarray(image, dtype=np.float32)[..., None], target


def batches(prepared: list[Prepared], batch_size: int, seed: int):
    """Endless generator of augmented batches, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    while True:
        pairs = [sample_patch(prepared[int(rng.integers(len(prepared)))], rng) for _ in range(batch_size)]
        yield np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def fixed_patches(prepared: list[Prepared], per_image: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Un-augmented patches at the target size, for checkpoint selection."""
    rng = np.random.default_rng(seed)
    pairs = [sample_patch(p, rng, augment=False) for p in prepared for _ in range(per_image)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
