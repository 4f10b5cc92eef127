"""Train StarDist2D on the same rescaled EMPS training images, for comparison with the U-Net.

Usage (needs the ``[train]`` extra, stardist 0.9.2)::

    nice -n 19 python -m training.train_stardist --epochs 20 --steps-per-epoch 60

Images are resampled so their typical particle is ``TARGET_DIAMETER_PX`` wide (as for the
U-Net), with the same intensity, polarity, flip and rotation augmentation (no scale
augmentation). Checkpoints and thresholds are chosen on the seeded hold-out of the training
split; the project's validation split is never seen. The model lands in
``training/models/stardist`` (not shipped with the app).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _at_target(prepared, patch: int):
    """Image and labels at the target diameter (the prepared arrays are at MAX_ZOOM x that), padded to ``patch``."""
    from particle_gui.core.dl_scale import resize, scaled_shape
    from training import data

    shape = scaled_shape(prepared.image.shape, 1.0 / data.MAX_ZOOM)
    image = resize(prepared.image, shape)
    labels = resize(prepared.labels, shape, nearest=True)
    pad_y, pad_x = max(0, patch - shape[0]), max(0, patch - shape[1])
    if pad_y or pad_x:
        pads = ((0, pad_y), (0, pad_x))
        image = np.pad(image, pads, constant_values=float(np.median(image)))
        labels = np.pad(labels, pads)
    return image.astype(np.float32), labels.astype(np.int32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("training/models"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps-per-epoch", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import keras
    from stardist.models import Config2D, StarDist2D

    from training import data

    data.configure_tensorflow(args.seed, args.threads)
    started = time.time()
    patch = 128
    fit_names, holdout_names = data.training_names(args.seed)
    fit = [_at_target(data.prepare(n), patch) for n in fit_names]
    holdout = [_at_target(data.prepare(n), patch) for n in holdout_names]
    rng = np.random.default_rng(args.seed)

    def augmenter(x, y):
        k = int(rng.integers(0, 4))
        x, y = np.rot90(x, k), np.rot90(y, k)
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        return data.augment_intensity(np.ascontiguousarray(x), rng), np.ascontiguousarray(y)

    config = Config2D(
        n_rays=32, grid=(2, 2), n_channel_in=1, unet_n_depth=3, unet_n_filter_base=16,
        train_patch_size=(patch, patch), train_batch_size=8, train_epochs=args.epochs,
        train_steps_per_epoch=args.steps_per_epoch, train_tensorboard=False, use_gpu=False,
    )
    model = StarDist2D(config, name="stardist", basedir=str(args.out))
    model.train(
        [f[0] for f in fit], [f[1] for f in fit],
        validation_data=([h[0] for h in holdout], [h[1] for h in holdout]),
        augmenter=augmenter, seed=args.seed,
    )
    model.optimize_thresholds([h[0] for h in holdout], [h[1] for h in holdout])
    report = {
        "model": "stardist2d",
        "seed": args.seed,
        "minutes": round((time.time() - started) / 60.0, 1),
        "epochs": args.epochs,
        "steps_per_epoch": args.steps_per_epoch,
        "config": {"n_rays": 32, "grid": [2, 2], "unet_n_depth": 3, "unet_n_filter_base": 16, "patch": patch},
        "thresholds": dict(model.thresholds._asdict()),
        "target_diameter_px": data.TARGET_DIAMETER_PX,
    }
    (args.out / "stardist_training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
