"""Train the segmentation U-Net on EMPS training images and synthetic scenes (CPU, seeded).

Usage (from the repository root; needs the ``[train]`` extra)::

    nice -n 5 python -m training.train_unet --minutes 240 --out training/models

Writes ``unet.keras`` (best checkpoint on the hold-out patches), ``unet_history.csv`` and
``unet_training.json`` (settings, seed, commit, data lists, duration). The project's validation
split and the evaluation-only sets are never seen: checkpoints are chosen on a seeded 10 % of
the EMPS training split plus synthetic scenes of their own seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Synthetic scenes for fitting are seeds 0 .. n-1; hold-out scenes start here.
HOLDOUT_SCENE_SEED = 500_000


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("training/models"))
    parser.add_argument("--minutes", type=float, default=240.0, help="wall-time budget; training stops after it")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--steps-per-epoch", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=6)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--scenes", type=int, default=8000, help="synthetic scenes to fit on")
    parser.add_argument("--holdout-scenes", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resume", type=Path, help="continue from this checkpoint's weights (same settings)")
    parser.add_argument("--initial-epoch", type=int, default=0,
                        help="with --resume: epochs already run (the learning-rate schedule goes on from there)")
    args = parser.parse_args(argv)

    started = time.time()
    from training import data

    fit_names, holdout_names = data.training_names(args.seed)
    synthetic = data.synthetic_pool(0, args.scenes, processes=args.threads)
    synthetic_holdout = data.synthetic_pool(HOLDOUT_SCENE_SEED, args.holdout_scenes, processes=args.threads)
    fit = [data.prepare_emps(n) for n in fit_names]
    holdout = [data.prepare_emps(n) for n in holdout_names]
    x_real, y_real = data.fixed_patches(holdout, per_example=3, seed=args.seed + 1)
    x_syn, y_syn = data.fixed_patches(synthetic_holdout, per_example=1, seed=args.seed + 2)
    print(f"prepared {len(fit)} EMPS + {len(synthetic)} scenes to fit, {len(x_real)} + {len(x_syn)} hold-out patches "
          f"in {time.time() - started:.0f} s", flush=True)

    import keras
    import numpy as np

    from training.unet import build_unet, weighted_loss

    data.configure_tensorflow(args.seed, args.threads)
    model = build_unet()
    total_steps = args.epochs * args.steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, total_steps, alpha=0.02,
                                                      warmup_target=None)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=weighted_loss())
    if args.resume:
        # Weights only: Adam's moments start afresh, the schedule goes on from the epochs already run.
        model.load_weights(str(args.resume))
        model.optimizer.build(model.trainable_variables)
        model.optimizer.iterations.assign(args.initial_epoch * args.steps_per_epoch)
    args.out.mkdir(parents=True, exist_ok=True)
    budget_s = args.minutes * 60.0

    class TimeLimit(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.time() - started > budget_s:
                print(f"time budget reached after epoch {epoch + 1}", flush=True)
                self.model.stop_training = True

    history = model.fit(
        # A resumed run draws new batches (its own seed), not the first epochs' again.
        data.batches(fit, synthetic, args.batch_size, args.seed + 1000 * args.initial_epoch),
        steps_per_epoch=args.steps_per_epoch,
        epochs=args.epochs,
        initial_epoch=args.initial_epoch,
        validation_data=(np.concatenate([x_real, x_syn]), np.concatenate([y_real, y_syn])),
        validation_batch_size=8,
        verbose=2,
        callbacks=[
            keras.callbacks.ModelCheckpoint(str(args.out / "unet.keras"), monitor="val_loss", save_best_only=True),
            keras.callbacks.CSVLogger(str(args.out / "unet_history.csv")),
            TimeLimit(),
        ],
    )
    losses = history.history["val_loss"]
    report = {
        "model": model.name,
        "parameters": int(model.count_params()),
        "seed": args.seed,
        "commit": _commit(),
        "epochs_run": len(losses),
        "best_epoch": int(min(range(len(losses)), key=losses.__getitem__)) + 1,
        "best_val_loss": float(min(losses)),
        "minutes": round((time.time() - started) / 60.0, 1),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "patch": data.PATCH,
        "size_range_px": list(data.SIZE_RANGE_PX),
        "synthetic_fraction": data.SYNTHETIC_FRACTION,
        "fit_images": fit_names,
        "holdout_images": holdout_names,
        "synthetic_scene_seeds": [0, args.scenes - 1],
        "holdout_scene_seeds": [HOLDOUT_SCENE_SEED, HOLDOUT_SCENE_SEED + args.holdout_scenes - 1],
    }
    (args.out / "unet_training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if not k.endswith("_images")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
