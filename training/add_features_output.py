"""Give the shipped U-Net a second output, the features its last two convolutions read, for fine-tuning in the app.

Usage (needs the ``onnx`` package, which the app itself never needs)::

    python -m training.add_features_output [--model particle_gui/models/segmentation.onnx]

Adds the output ``features`` (NHWC, the 16 channels after the decoder's first convolution at full
resolution) and writes the weights of the two layers after it (3 x 3 convolution 16 -> 16 with its
folded batch norm, then the 1 x 1 class convolution 16 -> 3) to ``segmentation.last_layers.npz``:
:mod:`particle_gui.core.network.dl_adapt` retrains those layers on a user's corrected images with
numpy, and computes them itself from ``features``. The class output is unchanged, bit for bit
(checked here on a random image).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

FEATURES_TENSOR = "unet3_1/dec0_relu1_1/Relu:0"
CONV_WEIGHTS = "unet3_1/dec0_conv2_1/convolution/merged_input:0"
CONV_BIAS = "unet3_1/dec0_bn2_1/batchnorm/sub:0"
CLASS_WEIGHTS = "unet3_1/classes_1/convolution/ReadVariableOp:0"
CLASS_BIAS = "unet3_1/classes_1/Squeeze:0"


def add_features_output(path: Path) -> None:
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    model = onnx.load(path)
    graph = model.graph
    if any(o.name == "features" for o in graph.output):
        print(f"{path} already has the features output")
    else:
        probe = np.random.default_rng(0).random((1, 96, 128, 1), dtype=np.float32)
        before = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"image": probe})[0]
        graph.node.append(helper.make_node("Transpose", [FEATURES_TENSOR], ["features"], perm=[0, 2, 3, 1],
                                           name="features_nhwc"))
        graph.output.append(helper.make_tensor_value_info("features", onnx.TensorProto.FLOAT, ["batch", "height", "width", 16]))
        onnx.checker.check_model(model)
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        after, features = session.run(None, {"image": probe})
        assert np.array_equal(before, after), "the class output changed"
        assert features.shape == (1, 96, 128, 16), features.shape
        onnx.save(model, path)
        print(f"{path}: features output added; class output unchanged")
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    np.savez(path.with_suffix(".last_layers.npz"),
             conv_weight=weights[CONV_WEIGHTS].astype(np.float32),  # (16 out, 16 in, 3, 3)
             conv_bias=weights[CONV_BIAS].astype(np.float32),
             class_weight=weights[CLASS_WEIGHTS][:, :, 0, 0].astype(np.float32),  # (3, 16)
             class_bias=weights[CLASS_BIAS].astype(np.float32))
    print(f"wrote {path.with_suffix('.last_layers.npz')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("particle_gui/models/segmentation.onnx"))
    add_features_output(parser.parse_args(argv).model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
