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

from particle_gui.core.network.dl_scale import CLASSES, NORMALISE_PERCENTILES  # noqa: E402

MODEL_VERSION = "2"


def export(keras_path: Path, out_dir: Path, *, target_diameter_px: float = 24.0) -> Path:
    """Convert ``keras_path`` to ``out_dir/segmentation.onnx`` (+ ``.json``); returns the ONNX path."""
    import keras

    from training import data

    model = keras.saving.load_model(keras_path, compile=False)
    from training.unet import OUTPUTS

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
        "architecture": f"U-Net, {len(model.get_layer('outputs').input)} heads, 5 levels (16-32-64-128-256, bottleneck 256): "
        "softmax over 3 classes + sigmoid particle core",
        "classes": list(CLASSES),
        "outputs": list(OUTPUTS),
        "input": "float32 (1, H, W, 1), H and W multiples of 32; grey image normalised by percentiles",
        "input_multiple": 32,
        "normalise_percentiles": list(NORMALISE_PERCENTILES),
        "target_diameter_px": float(target_diameter_px),
        "trained_diameter_range_px": list(data.SIZE_RANGE_PX),
        "border_px": 2,
        "training_data": "EMPS (Yildirim & Cole 2021, MIT), training split of evaluation/emps_split.json less a seeded "
        "hold-out; synthetic SEM/TEM/HAADF scenes (synthetic/scenes)",
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
    parser.add_argument("--target", type=float, default=24.0, help="typical particle diameter (px) the app rescales to")
    args = parser.parse_args(argv)
    export(args.keras, args.out, target_diameter_px=args.target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
