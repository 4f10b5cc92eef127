"""The segmentation network: ONNX run at the right scale, probability maps, seeded split."""
