"""Export the trained Keras U-Net to ONNX for the app, with the JSON that describes it.

Usage (needs the ``[train]`` extra)::

    python -m training.export_onnx [--keras training/models/unet.keras] [--out particle_gui/models]

Writes ``segmentation.onnx`` and ``segmentation.json``, checks that onnxruntime and Keras agree,
and re-saves the Keras file without its optimizer state (for the agreement test in the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from particle_gui.core.dl_scale import CLASSES, NORMALISE_PERCENTILES  # noqa: E402

MODEL_VERSION = "1"


def export(keras_path: Path, out_dir: Path) -> Path:
    """Convert ``keras_path`` to ``out_dir/segmentation.onnx`` (+ ``.json``); returns the ONNX path."""
    import keras

    from training import data

    model = keras.saving.load_model(keras_path, compile=False)
    probe = np.random.default_rng(0).random((1, 64, 96, 1), dtype=np.float32)
    expected = np.asarray(model(probe))
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "segmentation.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp) / "model.onnx"
        model.export(str(tmp_path), format="onnx", verbose=False)
        onnx_path.write_bytes(tmp_path.read_bytes())
    training_json = keras_path.with_name("unet_training.json")
    training = json.loads(training_json.read_text()) if training_json.is_file() else {}
    info = {
        "version": MODEL_VERSION,
        "architecture": "U-Net, 4 levels (16-32-64-128), softmax over 3 classes",
        "classes": list(CLASSES),
        "input": "float32 (1, H, W, 1), H and W multiples of 16; grey image normalised by percentiles",
        "normalise_percentiles": list(NORMALISE_PERCENTILES),
        "target_diameter_px": data.TARGET_DIAMETER_PX,
        "trained_diameter_range_px": [data.TARGET_DIAMETER_PX / data.MAX_ZOOM, data.TARGET_DIAMETER_PX * data.MAX_ZOOM],
        "border_px": 2,
        "training_data": "EMPS (Yildirim & Cole 2021, MIT), training split of benchmarks/emps_split.json",
        "seed": training.get("seed"),
        "commit": training.get("commit"),
        "epochs": training.get("epochs_run"),
        "best_epoch": training.get("best_epoch"),
    }
    onnx_path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")
    model.save(keras_path)  # again, without the optimizer state: a third of the size, the same weights
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: probe})[0]
    diff = float(np.abs(got - expected).max())
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB); max |ONNX - Keras| = {diff:.2e}")
    if diff > 1e-4:
        raise SystemExit("ONNX and Keras outputs disagree")
    return onnx_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras", type=Path, default=Path("training/models/unet.keras"))
    parser.add_argument("--out", type=Path, default=Path("particle_gui/models"))
    args = parser.parse_args(argv)
    export(args.keras, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
