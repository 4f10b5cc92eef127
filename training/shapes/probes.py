"""Probes of the shape-class accuracy ceiling: two alternatives to the shipped CNN, not shipped.

Both are scored on the 412 hand-labelled EMPS particles of ``benchmarks/shape_labels.csv``
exactly as ``python -m benchmarks.bench_shapes`` scores the shipped model (ground-truth
masks, the engine's own crops), so the figures compare directly. Needs the ``[train]`` extra
and scikit-learn; a few minutes on 2 cores::

    nice -n 10 python -m training.shapes.probes geometric   # ~3 min
    nice -n 10 python -m training.shapes.probes pseudo      # ~6 min

- ``geometric``: a gradient-boosted tree classifier on 31 rotation-invariant outline
  descriptors of the crop's mask (circularity, solidity, aspect ratio, the Fourier spectrum of
  the radial signature of the outline and of its convex hull, polygon corner counts), trained
  on synthetic crops from the same generator as the CNN; then the CNN's and its probabilities
  averaged with equal weights.
- ``pseudo``: the shipped CNN fine-tuned for a few epochs on fresh synthetic crops plus real
  EMPS particles that it classifies with probability >= 0.6 itself (pseudo-labels, no human
  labels; at most 30 per image and class). Only the 223 EMPS images without any hand label are
  used, so the labelled particles stay unseen.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from particle_gui.core.analysis.shape_classes import SHAPE_CLASSES, load_shape_model
from particle_gui.core.analysis.shape_crops import particle_crops
from synthetic.shapes.render import make_dataset
from training.shapes.train import _augment

ROOT = Path(__file__).resolve().parents[2]
EMPS = ROOT.parent / "shared" / "data" / "emps_train"
LABELS = ROOT / "benchmarks" / "shape_labels.csv"
KERAS_MODEL = ROOT / "training" / "shapes" / "models" / "shape_classifier.keras"
_ANGLES = np.linspace(0, 2 * np.pi, 128, endpoint=False)


def emps_crops(stems: list[str], ids_by_stem: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, list]:
    """Crops (float32) of the ground-truth particles of these EMPS images and their (stem, id)."""
    crops, keys = [], []
    for stem in stems:
        grey = np.asarray(Image.open(EMPS / "images" / f"{stem}.png").convert("L"), dtype=np.float32) / 255
        segmap = np.asarray(Image.open(EMPS / "segmaps" / f"{stem}.png")).astype(np.int32)
        ids, stem_crops = particle_crops(grey, segmap, None if ids_by_stem is None else ids_by_stem[stem])
        crops.append(stem_crops)
        keys += [(stem, int(i)) for i in ids]
    return np.concatenate(crops), keys


def labelled_crops() -> tuple[np.ndarray, pd.DataFrame]:
    """The hand-labelled particles' crops, in the order of the labels file, and the labels."""
    labels = pd.read_csv(LABELS)
    ids_by_stem = {stem: group["particle_id"].to_numpy(np.int64) for stem, group in labels.groupby("image", sort=False)}
    crops, keys = emps_crops(list(ids_by_stem), ids_by_stem)
    index = {key: k for k, key in enumerate(keys)}
    order = [index[(stem, int(i))] for stem, i in zip(labels["image"], labels["particle_id"])]
    return crops[order], labels


def report(name: str, probabilities: np.ndarray, labels: pd.DataFrame) -> float:
    """Print accuracy over all labels, the random 300 and those not noted ambiguous."""
    correct = np.array(SHAPE_CLASSES)[probabilities.argmax(1)] == labels["shape_class"].to_numpy()
    random = (labels["selection"] == "random").to_numpy()
    clear = ~labels["note"].fillna("").str.contains("ambiguous").to_numpy()
    print(f"{name:34s} all {correct.mean():6.1%}  random 300 {correct[random].mean():6.1%}  "
          f"not ambiguous {correct[clear].mean():6.1%}", flush=True)
    return float(correct.mean())


def _signature_spectrum(points: np.ndarray, centre: np.ndarray, harmonics: int) -> np.ndarray:
    offset = points - centre
    angle = np.arctan2(offset[:, 1], offset[:, 0])
    order = np.argsort(angle)
    radius = np.interp(_ANGLES, angle[order], np.hypot(offset[:, 0], offset[:, 1])[order], period=2 * np.pi)
    radius /= radius.mean() + 1e-9
    return np.r_[np.abs(np.fft.rfft(radius))[1 : harmonics + 1] / len(_ANGLES), radius.std(), radius.min(), radius.max()]


def outline_descriptors(crops: np.ndarray) -> np.ndarray:
    """31 rotation-invariant descriptors per crop, from its mask channel."""
    rows = []
    for crop in crops:
        mask = (np.asarray(crop[:, :, 1], np.float32) > 0.5).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        if not contours:
            rows.append(np.zeros(31, np.float32))
            continue
        contour = max(contours, key=cv2.contourArea)
        hull = cv2.convexHull(contour)
        area, perimeter = cv2.contourArea(contour) + 1e-6, cv2.arcLength(contour, True) + 1e-6
        hull_area, hull_perimeter = cv2.contourArea(hull) + 1e-6, cv2.arcLength(hull, True) + 1e-6
        width, height = cv2.minAreaRect(contour)[1]
        moments = cv2.moments(mask)
        centre = np.array([moments["m10"], moments["m01"]]) / max(moments["m00"], 1.0)
        corners = [len(cv2.approxPolyDP(hull, e * hull_perimeter, True)) for e in (0.02, 0.04, 0.07)]
        rows.append(np.r_[
            4 * np.pi * area / perimeter**2, area / hull_area, max(width, height) / max(min(width, height), 1e-6),
            4 * np.pi * hull_area / hull_perimeter**2, perimeter / hull_perimeter,
            _signature_spectrum(contour[:, 0, :].astype(np.float64), centre, 12),
            _signature_spectrum(hull[:, 0, :].astype(np.float64), centre, 8)[:8], corners,
        ])
    return np.array(rows, np.float32)


def probe_geometric(seed: int = 99, count: int = 24000) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    start = time.perf_counter()
    crops, targets = make_dataset(count, seed=seed)
    features = outline_descriptors(crops)
    held = count // 6
    trees = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, random_state=0)
    trees.fit(features[:-held], targets[:-held])
    cnn = load_shape_model()
    print(f"synthetic held-out {held}: trees {np.mean(trees.predict(features[-held:]) == targets[-held:]):.1%}, "
          f"CNN {np.mean(cnn.predict(crops[-held:].astype(np.float32)).argmax(1) == targets[-held:]):.1%} "
          f"({time.perf_counter() - start:.0f} s)")
    real, labels = labelled_crops()
    cnn_p = cnn.predict(real)
    trees_p = trees.predict_proba(outline_descriptors(real))
    report("CNN (shipped)", cnn_p, labels)
    report("outline descriptors, trees", trees_p, labels)
    report("mean of both", (cnn_p + trees_p) / 2, labels)


def probe_pseudo(threshold: float = 0.6, per_image: int = 30, epochs: int = 4, rate: float = 3e-4,
                 synthetic: int = 8000, seed: int = 3) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    labelled_stems = set(pd.read_csv(LABELS)["image"])
    stems = sorted(p.stem for p in (EMPS / "images").glob("*.png") if p.stem not in labelled_stems)
    pool, keys = emps_crops(stems)
    probabilities = load_shape_model().predict(pool)
    table = pd.DataFrame(keys, columns=["image", "id"]).assign(
        target=probabilities.argmax(1), confidence=probabilities.max(1))
    chosen = []
    for _, group in table[table["confidence"] >= threshold].groupby(["image", "target"]):
        chosen += list(rng.permutation(group.index.to_numpy())[:per_image])
    chosen = np.sort(np.array(chosen, dtype=np.int64))
    print(f"{len(stems)} unlabelled images, {len(pool)} particles, {len(chosen)} pseudo-labelled "
          f"(per class {np.bincount(table['target'].to_numpy()[chosen], minlength=len(SHAPE_CLASSES)).tolist()})")
    x_syn, y_syn = make_dataset(synthetic, seed=4242)
    x_all = np.concatenate([x_syn, pool[chosen].astype(np.float16)])
    y_all = np.concatenate([y_syn, table["target"].to_numpy()[chosen]])
    model = keras.models.load_model(KERAS_MODEL)
    steps = epochs * (len(x_all) // 128)
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(rate, steps)),
                  keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
    onehot = np.eye(len(SHAPE_CLASSES), dtype=np.float32)
    real, labels = labelled_crops()
    report("CNN (shipped)", model.predict(real, verbose=0), labels)
    for epoch in range(epochs):
        order = rng.permutation(len(x_all))
        for first in range(0, len(order) - 127, 128):
            pick = order[first : first + 128]
            model.train_on_batch(np.ascontiguousarray(_augment(x_all[pick].astype(np.float32), rng)), onehot[y_all[pick]])
        report(f"fine-tuned, epoch {epoch + 1}", model.predict(real, verbose=0), labels)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=("geometric", "pseudo"))
    args = parser.parse_args(argv)
    {"geometric": probe_geometric, "pseudo": probe_pseudo}[args.probe]()


if __name__ == "__main__":
    main()
