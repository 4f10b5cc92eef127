"""Train the scale-bar label reader (a small CTC text recogniser) and export it to ONNX.

Usage (from the repository root; needs the ``[train]`` extra and the fonts listed in
:mod:`synthetic.fonts`, e.g. ``apt-get install fonts-liberation fonts-freefont-ttf fonts-roboto
fonts-open-sans fonts-urw-base35 fonts-crosextra-carlito fonts-cantarell``)::

    nice -n 5 python -m training.train_label_reader --steps 6000

Writes ``particle_gui/models/label_reader.onnx`` and ``.json`` (alphabet, input height, seed,
accuracy on fresh renders of the training fonts and of the held-out fonts), the Keras weights
``label_reader.weights.h5`` beside them (move them to ``training/models/``: the app does not ship
them) and ``training/models/label_reader_training.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build(alphabet_size: int):
    """Convolutional recogniser: (batch, 32, W, 1) -> (batch, W / 4, alphabet + 1) logits."""
    import keras
    from keras import layers

    inputs = keras.Input((32, None, 1), name="crop")
    x = inputs
    for filters, pool in ((32, (2, 2)), (64, (2, 2)), (128, (2, 1)), (128, (2, 1))):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        if filters == 128:
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool)(x)
    x = layers.Conv2D(192, (2, 1), padding="valid", activation="relu")(x)  # height 2 -> 1
    x = layers.Reshape((-1, 192), name="columns")(x)
    for _ in range(2):
        x = layers.Conv1D(192, 5, padding="same", activation="relu")(x)
    logits = layers.Dense(alphabet_size + 1, name="logits")(x)
    return keras.Model(inputs, logits, name="label_reader")


def evaluate(session_run, families: list[str], count: int, seed: int) -> float:
    """Share of freshly rendered labels read exactly (spaces and the two mu signs aside)."""
    from particle_gui.core.io.label_reader import decode, prepare_crop, widened
    from synthetic import databars
    from training import label_data

    rng = np.random.default_rng(seed)
    right = 0
    for _ in range(count):
        text, _ = databars.random_label(rng)
        family = families[int(rng.integers(len(families)))]
        cap = float(np.exp(rng.uniform(np.log(8), np.log(40))))
        crop = label_data.render_crop(rng, text, family, cap)
        probs = session_run(prepare_crop(widened(crop)))
        read, _ = decode(probs, label_data.ALPHABET)
        right += read == text.replace(" ", "").replace("μ", "µ")
    return right / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("particle_gui/models"))
    args = parser.parse_args(argv)
    started = time.time()

    import keras
    import tensorflow as tf

    from synthetic import fonts
    from training import label_data

    keras.utils.set_random_seed(args.seed)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    families = fonts.available(training=True)
    model = build(len(label_data.ALPHABET))
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, args.steps, alpha=0.02)
    optimizer = keras.optimizers.Adam(schedule)

    @tf.function
    def step(x, y, lengths, steps):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(keras.ops.ctc_loss(y, logits, lengths, steps, mask_index=0))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    data = label_data.batches(args.seed, args.batch_size, families)
    losses = []
    for i in range(args.steps):
        x, y, lengths, steps = next(data)
        losses.append(float(step(tf.constant(x), tf.constant(y), tf.constant(lengths), tf.constant(steps))))
        if (i + 1) % 250 == 0:
            print(f"step {i + 1}: loss {np.mean(losses[-250:]):.3f} ({time.time() - started:.0f} s)", flush=True)

    inference = keras.Sequential([model, keras.layers.Softmax()], name="label_reader_softmax")
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / "label_reader.weights.h5"  # for fine-tuning later (not shipped: move it to training/models)
    model.save_weights(str(weights))
    onnx_path = args.out / "label_reader.onnx"
    probe = np.random.default_rng(1).random((1, 32, 96, 1), dtype=np.float32)
    expected = np.asarray(inference(probe))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp) / "model.onnx"
        inference.export(str(tmp_path), format="onnx", verbose=False)
        onnx_path.write_bytes(tmp_path.read_bytes())
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    diff = float(np.abs(session.run(None, {name: probe})[0] - expected).max())

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {name: x[None, :, :, None]})[0][0]

    seen = evaluate(run, families, 2000, seed=10_000 + args.seed)
    held_out = fonts.available(training=False)
    unseen = evaluate(run, held_out, 2000, seed=20_000 + args.seed) if held_out else None
    info = {
        "version": "1",
        "alphabet": label_data.ALPHABET,
        "input_height": 32,
        "architecture": "CNN 32-64-128x2-128x2, 2x Conv1D 192, CTC (blank = class 0), softmax output",
        "parameters": int(model.count_params()),
        "training_fonts": families,
        "held_out_fonts": held_out,
        "exact_reads_training_fonts": seen,
        "exact_reads_held_out_fonts": unseen,
        "seed": args.seed,
        "steps": args.steps,
    }
    onnx_path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    report = {**info, "max_onnx_keras_difference": diff, "minutes": round((time.time() - started) / 60, 1),
              "final_loss": float(np.mean(losses[-250:]))}
    Path("training/models").mkdir(parents=True, exist_ok=True)
    Path("training/models/label_reader_training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
