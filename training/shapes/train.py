"""Train the particle shape classifier on synthetic crops and export it to ONNX.

Needs the ``[train]`` extra (``tensorflow-cpu``, ``tf2onnx``); the app itself only needs
onnxruntime. Never run in CI. On 2 shared CPU cores the defaults (48 000 crops, 16 epochs,
label smoothing 0.1) take about 20-25 minutes::

    nice -n 19 python -m training.shapes.train --out training/shapes/models

Writes ``shape_classifier.keras`` (kept for the ONNX-vs-Keras test) to ``--out`` and the shipped
``shape_classifier.onnx`` and ``shape_classifier.json`` (class names, crop size and fill, input
layout) to ``particle_gui/models/`` (to ``--out`` with ``--no-install``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from particle_gui.core.analysis.shape_crops import CROP_FILL, CROP_SIZE
from synthetic.shapes.render import make_dataset
from synthetic.shapes.shapes import CLASSES

ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "shape_classifier"


def build_model(size: int = CROP_SIZE, classes: int = len(CLASSES)):
    """A small CNN (~0.15 M parameters, 0.6 MB as ONNX): 4 conv blocks, global average pooling, softmax."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 2), name="crops")
    x = inputs
    for filters, convs in ((16, 1), (32, 1), (64, 1), (96, 2)):
        for _ in range(convs):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=MODEL_NAME)


def _augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flips and quarter turns (free, exact), as the shapes have no preferred orientation."""
    if rng.random() < 0.5:
        batch = batch[:, :, ::-1]
    return np.rot90(batch, int(rng.integers(4)), axes=(1, 2))


def export_onnx(model, path: Path) -> None:
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="crops"),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=13, output_path=str(path))


def metadata(size: int) -> dict:
    return {
        "classes": list(CLASSES),
        "crop_size": size,
        "crop_fill": CROP_FILL,
        "input": "crops",
        "layout": "NHWC float32; channel 0 standardised intensity (particle brighter), channel 1 mask",
        "trained_on": "synthetic silhouettes (training/shapes), seeded",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "training/shapes/models")
    parser.add_argument("--train", type=int, default=48000)
    parser.add_argument("--val", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoothing", type=float, default=0.1, help="label smoothing")
    parser.add_argument("--no-install", action="store_true",
                        help="write the ONNX model and its JSON to --out instead of particle_gui/models")
    args = parser.parse_args(argv)

    import keras

    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    x_train, y_train = make_dataset(args.train, seed=args.seed)
    x_val, y_val = make_dataset(args.val, seed=args.seed + 1000)
    print(f"data: {len(x_train)} + {len(x_val)} crops in {time.perf_counter() - start:.0f} s", flush=True)

    model = build_model()
    steps = args.epochs * (len(x_train) // args.batch)
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, steps, warmup_target=None)
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=args.smoothing)
    model.compile(keras.optimizers.Adam(schedule), loss, metrics=["accuracy"])
    onehot = np.eye(len(CLASSES), dtype=np.float32)
    rng = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        losses = []
        for first in range(0, len(order) - args.batch + 1, args.batch):
            pick = order[first : first + args.batch]
            batch = np.ascontiguousarray(_augment(x_train[pick].astype(np.float32), rng))
            losses.append(model.train_on_batch(batch, onehot[y_train[pick]], return_dict=True)["loss"])
        val = model.evaluate(x_val.astype(np.float32), onehot[y_val], batch_size=256, verbose=0, return_dict=True)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.4f} val_loss {val['loss']:.4f} "
              f"val_acc {val['accuracy']:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    final = build_model()  # without the optimizer state: a smaller .keras file
    final.set_weights(model.get_weights())
    final.save(args.out / f"{MODEL_NAME}.keras")
    # The shipped model lives in the package only (one copy in the repository).
    target = args.out if args.no_install else ROOT / "particle_gui/models"
    target.mkdir(exist_ok=True)
    export_onnx(final, target / f"{MODEL_NAME}.onnx")
    (target / f"{MODEL_NAME}.json").write_text(json.dumps(metadata(CROP_SIZE), indent=2) + "\n")
    print(f"done in {time.perf_counter() - start:.0f} s; params {model.count_params()}", flush=True)


if __name__ == "__main__":
    main()
