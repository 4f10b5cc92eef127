"""A small U-Net (Keras 3) predicting background / interior / border probabilities."""

from __future__ import annotations

import keras
from keras import layers, ops


def _block(x, filters: int, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def build_unet(*, filters: tuple[int, ...] = (16, 32, 64, 128), bottleneck: int = 128) -> keras.Model:
    """Input (batch, H, W, 1) with H, W multiples of 2**len(filters); output softmax (batch, H, W, 3)."""
    inputs = keras.Input((None, None, 1), name="image")
    x = inputs
    skips = []
    for level, f in enumerate(filters):
        x = _block(x, f, f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    x = _block(x, bottleneck, "bottleneck")
    for level in reversed(range(len(filters))):
        f = filters[level]
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{level}")(x)
        x = layers.Conv2D(f, 1, name=f"up{level}_proj")(x)
        x = layers.Concatenate(name=f"cat{level}")([x, skips[level]])
        x = _block(x, f, f"dec{level}")
    outputs = layers.Conv2D(3, 1, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="unet3")


def weighted_loss(class_weights: tuple[float, float, float] = (1.0, 1.0, 2.0)):
    """Cross-entropy weighted per class and by the valid-pixel mask, plus soft Dice of interior and border.

    ``y_true`` holds the one-hot classes in channels 0-2 and the valid-pixel weight in channel 3.
    """
    weights = ops.convert_to_tensor(class_weights, dtype="float32")

    def loss(y_true, y_pred):
        onehot, valid = y_true[..., :3], y_true[..., 3]
        y_pred = ops.clip(y_pred, 1e-6, 1.0)
        ce = -ops.sum(onehot * ops.log(y_pred) * weights, axis=-1)
        ce = ops.sum(ce * valid) / (ops.sum(valid) + 1.0)
        v = valid[..., None]
        inter = ops.sum(onehot[..., 1:] * y_pred[..., 1:] * v, axis=(0, 1, 2))
        total = ops.sum((onehot[..., 1:] + y_pred[..., 1:]) * v, axis=(0, 1, 2))
        dice = ops.mean((2.0 * inter + 1.0) / (total + 1.0))
        return ce + (1.0 - dice)

    return loss
