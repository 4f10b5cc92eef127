"""Shape classifier: accuracy on hand-labelled EMPS particles and on held-out synthetic crops, and speed.

Run ``python -m benchmarks.bench_shapes`` (add ``--json FILE`` to keep the numbers).

- Real particles: ``benchmarks/shape_labels.csv`` (image stem, particle id in the EMPS
  ground-truth segmap, class, how it was picked, note), classified from the image and the
  ground-truth instance mask. Reported for all labels, for the random sample only (the first
  300, drawn without regard to shape) and without the labels noted "ambiguous".
- Synthetic: crops from the training generator with a seed never used in training.
- Speed: classifying 300 particles of a 1024x1024 image (crops included), best of 3.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from particle_gui.core.analysis.shape_classes import SHAPE_CLASSES, classify_particles, load_shape_model

ROOT = Path(__file__).resolve().parents[1]
EMPS = ROOT.parent / "shared" / "data" / "emps_train"
LABELS = ROOT / "benchmarks" / "shape_labels.csv"
SYNTHETIC_SEED = 777


def confusion(truth: list[str], predicted: list[str]) -> np.ndarray:
    """Counts (true class, predicted class) over :data:`SHAPE_CLASSES`."""
    index = {name: i for i, name in enumerate(SHAPE_CLASSES)}
    matrix = np.zeros((len(SHAPE_CLASSES), len(SHAPE_CLASSES)), dtype=np.int64)
    for t, p in zip(truth, predicted):
        matrix[index[t], index[p]] += 1
    return matrix


def format_confusion(matrix: np.ndarray) -> str:
    short = [name[:5] for name in SHAPE_CLASSES]
    lines = ["true \\ predicted " + " ".join(f"{s:>6}" for s in short) + "  recall"]
    for name, row in zip(SHAPE_CLASSES, matrix):
        recall = f"{row[SHAPE_CLASSES.index(name)] / row.sum():6.1%}" if row.sum() else "     -"
        lines.append(f"{name:>16} " + " ".join(f"{v:6d}" for v in row) + "  " + recall)
    return "\n".join(lines)


def real_predictions(labels: pd.DataFrame) -> list[str]:
    predicted = {}
    for stem, group in labels.groupby("image", sort=False):
        grey = np.asarray(Image.open(EMPS / "images" / f"{stem}.png").convert("L"), dtype=np.float32) / 255
        segmap = np.asarray(Image.open(EMPS / "segmaps" / f"{stem}.png")).astype(np.int32)
        ids = group["particle_id"].to_numpy(np.int64)
        result = classify_particles(grey, segmap, ids)
        predicted.update({(stem, int(i)): str(c) for i, c in zip(result.ids, result.classes)})
    return [predicted[(s, int(i))] for s, i in zip(labels["image"], labels["particle_id"])]


def synthetic_scores(count: int) -> tuple[float, np.ndarray]:
    from synthetic.shapes.render import make_dataset  # the generator lives with the training code

    crops, targets = make_dataset(count, seed=SYNTHETIC_SEED)
    probabilities = load_shape_model().predict(crops.astype(np.float32))
    predicted = [SHAPE_CLASSES[i] for i in probabilities.argmax(axis=1)]
    truth = [SHAPE_CLASSES[i] for i in targets]
    return float(np.mean(np.array(truth) == np.array(predicted))), confusion(truth, predicted)


def timing_image(count: int = 300, size: int = 1024, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A grey image with ``count`` ellipses of random size, aspect and angle on a grid."""
    import cv2

    rng = np.random.default_rng(seed)
    labels = np.zeros((size, size), np.int32)
    side = int(np.ceil(np.sqrt(count)))
    step = size // side
    for k in range(count):
        cy, cx = (k // side) * step + step // 2, (k % side) * step + step // 2
        axes = (int(rng.uniform(6, step * 0.4)), int(rng.uniform(4, step * 0.25)))
        cv2.ellipse(labels, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, k + 1, -1)
    grey = (labels > 0).astype(np.float32) * 0.6 + 0.2 + rng.normal(0, 0.05, labels.shape).astype(np.float32)
    return grey, labels


def time_inference(repeats: int = 3) -> tuple[float, int]:
    grey, labels = timing_image()
    load_shape_model()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = classify_particles(grey, labels)
        times.append(time.perf_counter() - start)
    return min(times), len(result.ids)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=1200, help="held-out synthetic crops (default 1200)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)

    labels = pd.read_csv(LABELS, keep_default_na=False)
    predicted = real_predictions(labels)
    truth = labels["shape_class"].tolist()
    correct = np.array(truth) == np.array(predicted)
    subsets = {
        "all": np.ones(len(labels), bool),
        "random sample": (labels["selection"] == "random").to_numpy(),
        "not ambiguous": ~labels["note"].str.contains("ambiguous").to_numpy(),
    }
    report: dict = {"real": {}}
    print(f"Hand-labelled EMPS particles: {len(labels)} from {labels['image'].nunique()} images")
    for name, mask in subsets.items():
        accuracy = float(correct[mask].mean())
        report["real"][name] = {"n": int(mask.sum()), "accuracy": accuracy}
        print(f"  {name:>14}: {accuracy:6.1%} of {mask.sum()}")
    matrix = confusion(truth, predicted)
    report["real"]["confusion"] = matrix.tolist()
    print(format_confusion(matrix))
    report["real"]["errors"] = [
        {"image": s, "particle_id": int(i), "label": t, "predicted": p, "note": n}
        for s, i, t, p, n, ok in zip(labels["image"], labels["particle_id"], truth, predicted, labels["note"], correct)
        if not ok
    ]

    accuracy, matrix = synthetic_scores(args.synthetic)
    report["synthetic"] = {"n": args.synthetic, "seed": SYNTHETIC_SEED, "accuracy": accuracy, "confusion": matrix.tolist()}
    print(f"\nHeld-out synthetic crops (seed {SYNTHETIC_SEED}): {accuracy:6.1%} of {args.synthetic}")
    print(format_confusion(matrix))

    seconds, count = time_inference()
    model_path = load_shape_model().path
    report["speed"] = {"particles": count, "seconds": seconds, "model_bytes": model_path.stat().st_size}
    print(f"\nInference: {count} particles in {seconds * 1000:.0f} ms (crops included), "
          f"model {model_path.stat().st_size / 1024:.0f} KiB")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
