"""Training of the deep-learning segmentation (needs the ``[train]`` extra: TensorFlow, tf2onnx)."""
