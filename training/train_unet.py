"""Train the three-class U-Net on the EMPS training split (CPU, seeded).

Usage (from the repository root; needs the ``[train]`` extra)::

    nice -n 19 python -m training.train_unet --minutes 50 --out training/models

Writes ``unet.keras`` (best checkpoint on the hold-out patches), ``unet_history.csv`` and
``unet_training.json`` (settings, seed, commit, duration). The project's validation split is
never seen: checkpoints are chosen on a seeded 10 % hold-out of the training split.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("training/models"))
    parser.add_argument("--minutes", type=float, default=50.0, help="wall-time budget; training stops after it")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import keras

    from training import data
    from training.unet import build_unet, weighted_loss

    data.configure_tensorflow(args.seed, args.threads)
    started = time.time()
    fit_names, holdout_names = data.training_names(args.seed)
    fit = [data.prepare(n) for n in fit_names]
    holdout = [data.prepare(n) for n in holdout_names]
    x_val, y_val = data.fixed_patches(holdout, per_image=3, seed=args.seed + 1)
    print(f"prepared {len(fit)} fit / {len(holdout)} hold-out images in {time.time() - started:.0f} s", flush=True)

    model = build_unet()
    total_steps = args.epochs * args.steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, total_steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=weighted_loss())
    args.out.mkdir(parents=True, exist_ok=True)
    budget_s = args.minutes * 60.0

    class TimeLimit(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.time() - started > budget_s:
                print(f"time budget reached after epoch {epoch + 1}", flush=True)
                self.model.stop_training = True

    history = model.fit(
        data.batches(fit, args.batch_size, args.seed),
        steps_per_epoch=args.steps_per_epoch,
        epochs=args.epochs,
        validation_data=(x_val, y_val),
        validation_batch_size=16,
        verbose=2,
        callbacks=[
            keras.callbacks.ModelCheckpoint(str(args.out / "unet.keras"), monitor="val_loss", save_best_only=True),
            keras.callbacks.CSVLogger(str(args.out / "unet_history.csv")),
            TimeLimit(),
        ],
    )
    losses = history.history["val_loss"]
    report = {
        "model": "unet3",
        "parameters": int(model.count_params()),
        "seed": args.seed,
        "commit": _commit(),
        "epochs_run": len(losses),
        "best_epoch": int(min(range(len(losses)), key=losses.__getitem__)) + 1,
        "best_val_loss": float(min(losses)),
        "minutes": round((time.time() - started) / 60.0, 1),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "target_diameter_px": data.TARGET_DIAMETER_PX,
        "max_zoom": data.MAX_ZOOM,
        "patch": data.PATCH,
        "fit_images": len(fit),
        "holdout_images": len(holdout),
    }
    (args.out / "unet_training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
