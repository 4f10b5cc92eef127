"""Training data for the segmentation network: EMPS images and synthetic scenes, targets, augmentation.

Two pools, drawn half and half:

- **EMPS** (the training half of ``evaluation/emps_split.json``, less a seeded hold-out): every
  image is resampled so its median particle is :data:`EMPS_BASE_PX` wide; patches are cut at a
  random zoom so the network sees typical particles of :data:`SIZE_RANGE_PX`.
- **Synthetic scenes** (:func:`synthetic.scenes.random_scene`, seeds below 10**9, never those of
  the benchmark's cases): SEM, TEM and HAADF renderings of scattered, packed, aggregated and
  close-packed particles of many shapes, with exact truth, drawn at typical sizes across
  :data:`SIZE_RANGE_PX` and cached once (``training/cache``, not committed).

Targets (:func:`targets`): background / interior / border classes (the border a 2 px band at
the network's scale) and the centre map (:func:`particle_gui.core.network.dl_scale.centre_target`),
which separates touching particles whatever their size. Augmentation: quarter turns, flips,
polarity, gamma, contrast, brightness, uneven background and charging gradients, blur,
Gaussian and Poisson noise, JPEG artefacts and burned-in text. Pure NumPy/OpenCV, seeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from evaluation import emps
from particle_gui.core.network.dl_scale import centre_target, normalise_intensity, resize, scaled_shape, three_class_target
from particle_gui.core.io.loading import load_image

#: Side of the square training patches (a multiple of 32).
PATCH = 192
#: Typical particle diameters (px, at the network's scale) that training covers.
SIZE_RANGE_PX = (7.0, 80.0)
#: EMPS images are stored with their median particle this wide; patches zoom from there.
EMPS_BASE_PX = 40.0
#: Largest stored EMPS image (pixels); larger ones are stored at a coarser scale.
EMPS_MAX_PIXELS = 1_600_000
#: Synthetic scenes: side of each cached scene, and the fraction of patches drawn from them.
SCENE_SIDE = 288
SYNTHETIC_FRACTION = 0.5
CACHE_DIR = Path(__file__).resolve().parent / "cache"


@dataclass
class Example:
    """One stored training image: normalised grey, instance labels and centre map on one grid."""

    name: str
    image: np.ndarray  # float16 (H, W)
    labels: np.ndarray  # uint16 (H, W)
    centre: np.ndarray  # float16 (H, W)
    typical_px: float  # median particle diameter on this grid


def prepare_emps(name: str) -> Example:
    """An EMPS image resampled so its median particle is :data:`EMPS_BASE_PX` wide."""
    from particle_gui.core.network.dl_scale import typical_diameter

    image = load_image(emps.DATA_DIR / "images" / f"{name}.png")
    _, labels = emps.load_pair(name)
    diameter = typical_diameter(labels)
    scale = EMPS_BASE_PX / diameter if np.isfinite(diameter) else 1.0
    scale = min(scale, 6.0, float(np.sqrt(EMPS_MAX_PIXELS / labels.size)))
    shape = scaled_shape(labels.shape, scale)
    grey = resize(normalise_intensity(image.grey), shape)
    labels = resize(labels.astype(np.uint16), shape, nearest=True)
    typical = diameter * scale if np.isfinite(diameter) else EMPS_BASE_PX
    return Example(name, grey.astype(np.float16), labels, centre_target(labels).astype(np.float16), typical)


def training_names(seed: int = 0, holdout_fraction: float = 0.1) -> tuple[list[str], list[str]]:
    """The project split's training images, less a seeded hold-out used to pick checkpoints.

    The project's validation split (``evaluation/emps_split.json``) is never used here.
    """
    train, _ = emps.load_split()
    order = np.random.default_rng(seed + 1000).permutation(len(train))
    n_hold = round(holdout_fraction * len(train))
    holdout = sorted(train[i] for i in order[:n_hold])
    fit = sorted(train[i] for i in order[n_hold:])
    return fit, holdout


def synthetic_example(seed: int) -> Example:
    """Synthetic scene ``seed`` (< 10**9), normalised as the app normalises images."""
    from synthetic.scenes import random_scene

    if seed >= 10**9:
        raise ValueError("seeds from 10**9 up belong to the benchmark's cases")
    rng = np.random.default_rng(seed)
    typical = float(np.exp(rng.uniform(*np.log(SIZE_RANGE_PX))))
    grey, labels = random_scene(rng, (SCENE_SIDE, SCENE_SIDE), median_px=typical)
    grey = normalise_intensity(grey)
    return Example(f"scene{seed}", grey.astype(np.float16), labels.astype(np.uint16),
                   centre_target(labels).astype(np.float16), typical)


def synthetic_pool(first_seed: int, count: int, *, processes: int = 2) -> list[Example]:
    """Scenes ``first_seed .. first_seed + count - 1``, cached in :data:`CACHE_DIR`."""
    path = CACHE_DIR / f"scenes_{first_seed}_{count}_{SCENE_SIDE}.npz"
    if path.is_file():
        with np.load(path) as data:  # each data[key] reads the whole array again: read each once
            images, labels, centres, typical = (data[key] for key in ("image", "labels", "centre", "typical"))
        return [Example(f"scene{first_seed + i}", images[i], labels[i], centres[i], float(typical[i]))
                for i in range(count)]
    seeds = list(range(first_seed, first_seed + count))
    if processes > 1:
        from multiprocessing import Pool

        with Pool(processes) as workers:
            examples = workers.map(synthetic_example, seeds, chunksize=16)
    else:
        examples = [synthetic_example(s) for s in seeds]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(path, image=np.stack([e.image for e in examples]), labels=np.stack([e.labels for e in examples]),
             centre=np.stack([e.centre for e in examples]), typical=np.array([e.typical_px for e in examples]))
    return examples


def targets(labels: np.ndarray, centre: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(H, W, 5) float32: one-hot background / interior / border, valid-pixel weight, centre map."""
    classes = three_class_target(labels)
    out = np.zeros((*labels.shape, 5), dtype=np.float32)
    out[..., :3] = np.eye(3, dtype=np.float32)[classes]
    out[..., 3] = valid
    out[..., 4] = centre
    return out


def _crop(example: Example, zoom: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A PATCH x PATCH window at ``zoom`` (model px per stored px): image, labels, centre, valid."""
    window = max(8, int(round(PATCH / zoom)))
    h, w = example.image.shape
    image, labels, centre = example.image, example.labels, example.centre
    valid = None
    pad_y, pad_x = max(0, window - h), max(0, window - w)
    if pad_y or pad_x:
        pads = ((pad_y // 2, pad_y - pad_y // 2), (pad_x // 2, pad_x - pad_x // 2))
        image = np.pad(image, pads, mode="reflect" if min(h, w) > 1 else "edge")
        labels, centre = np.pad(labels, pads), np.pad(centre, pads)
        valid = np.pad(np.ones((h, w), np.float32), pads)
        h, w = image.shape
    y, x = int(rng.integers(0, h - window + 1)), int(rng.integers(0, w - window + 1))
    sl = np.s_[y : y + window, x : x + window]
    size = (PATCH, PATCH)
    valid_patch = np.ones(size, np.float32) if valid is None else resize(valid[sl], size, nearest=True)
    return (resize(image[sl].astype(np.float32), size), resize(labels[sl], size, nearest=True),
            resize(centre[sl].astype(np.float32), size), valid_patch)


def _burned_text(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[slice, slice]]:
    text = str(rng.choice(["(a)", "b", "200 nm", "1 um", "50nm", "(d)", "5 um", "x50k"]))
    scale = rng.uniform(0.4, 1.2)
    thick = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    y0 = int(rng.integers(0, max(1, PATCH - th - base - 4)))
    x0 = int(rng.integers(0, max(1, PATCH - tw - 4)))
    box = np.s_[y0 : y0 + th + base + 4, x0 : x0 + tw + 4]
    light = rng.random() < 0.5
    image = image.copy()
    if rng.random() < 0.6:
        image[box] = 0.0 if light else 1.0
    cv2.putText(image, text, (x0 + 2, y0 + th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, 1.0 if light else 0.0, thick,
                cv2.LINE_AA)
    return image, box


def augment_intensity(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Polarity, gamma, contrast, gradients, blur, noise and JPEG on a normalised patch."""
    out = image.astype(np.float32, copy=True)
    if rng.random() < 0.5:
        out = 1.0 - out
    inside = np.clip(out, 0.0, 1.0)
    out = inside ** np.float32(np.exp(rng.uniform(-0.6, 0.6))) + (out - inside)
    out = (out - 0.5) * np.float32(rng.uniform(0.5, 1.5)) + 0.5 + np.float32(rng.uniform(-0.2, 0.2))
    if rng.random() < 0.3:  # uneven background, charging
        yy, xx = np.mgrid[:PATCH, :PATCH].astype(np.float32) / PATCH
        out = out + np.float32(rng.normal(0, 0.25)) * (xx - 0.5) + np.float32(rng.normal(0, 0.25)) * (yy - 0.5)
        if rng.random() < 0.3:
            cy, cx, r = rng.uniform(0, 1, 2).tolist() + [rng.uniform(0.1, 0.5)]
            out = out + np.float32(rng.uniform(0.1, 0.4)) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    if rng.random() < 0.25:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 2.0)))
    if rng.random() < 0.2:
        dose = float(np.exp(rng.uniform(np.log(5), np.log(100))))
        out = rng.poisson(np.clip(out + 0.2, 0, None) * dose).astype(np.float32) / np.float32(dose) - 0.2
    if rng.random() < 0.5:
        out = out + rng.normal(0.0, rng.uniform(0.01, 0.1), out.shape).astype(np.float32)
    if rng.random() < 0.15:
        lo, hi = float(out.min()), float(out.max())
        eight = np.clip((out - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", eight, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 85))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255 * (hi - lo) + lo
    return out


def sample_patch(example: Example, rng: np.random.Generator, *, zoom: float, augment: bool = True
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One training pair: image (PATCH, PATCH, 1) and targets (PATCH, PATCH, 5) (see :func:`targets`)."""
    image, labels, centre, valid = _crop(example, zoom, rng)
    if augment:
        k = int(rng.integers(0, 4))
        image, labels, centre, valid = (np.rot90(a, k) for a in (image, labels, centre, valid))
        if rng.random() < 0.5:
            image, labels, centre, valid = (a[:, ::-1] for a in (image, labels, centre, valid))
        image = augment_intensity(np.ascontiguousarray(image), rng)
        if rng.random() < 0.08:
            image, box = _burned_text(image, rng)
            labels, centre = labels.copy(), centre.copy()
            labels[box], centre[box] = 0, 0.0
    target = targets(np.ascontiguousarray(labels), np.ascontiguousarray(centre), np.ascontiguousarray(valid))
    return np.ascontiguousarray(image, dtype=np.float32)[..., None], target


def random_zoom(example: Example, rng: np.random.Generator) -> float:
    """Zoom that puts the example's typical particle at a random size in :data:`SIZE_RANGE_PX`."""
    if example.name.startswith("scene"):
        return float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    wanted = float(np.exp(rng.uniform(*np.log(SIZE_RANGE_PX))))
    smallest = 0.8 * PATCH / max(example.image.shape)  # zoomed out further, the window would be mostly padding
    return max(wanted / example.typical_px, smallest)


def batches(real: list[Example], synthetic: list[Example], batch_size: int, seed: int):
    """Endless generator of augmented batches, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    while True:
        pairs = []
        for _ in range(batch_size):
            pool = synthetic if synthetic and (not real or rng.random() < SYNTHETIC_FRACTION) else real
            example = pool[int(rng.integers(len(pool)))]
            pairs.append(sample_patch(example, rng, zoom=random_zoom(example, rng)))
        yield np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def fixed_patches(examples: list[Example], per_example: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Un-augmented patches at fixed zooms (typical particle 12, 24 and 48 px for EMPS), for checkpoints."""
    rng = np.random.default_rng(seed)
    pairs = []
    for example in examples:
        for k in range(per_example):
            zoom = 1.0 if example.name.startswith("scene") else (12.0, 24.0, 48.0)[k % 3] / example.typical_px
            pairs.append(sample_patch(example, rng, zoom=zoom, augment=False))
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def configure_tensorflow(seed: int, threads: int) -> None:
    """Seed Keras (initialisation) and cap TensorFlow's CPU threads."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
