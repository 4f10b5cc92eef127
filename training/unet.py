"""A U-Net (Keras 3) predicting background / interior / border probabilities and a centre map."""

from __future__ import annotations

import keras
from keras import layers, ops

#: Channels of the network's output: three softmax classes, then the sigmoid centre map.
OUTPUTS: tuple[str, ...] = ("background", "interior", "border", "centre")


def _block(x, filters: int, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def build_unet(*, filters: tuple[int, ...] = (16, 32, 64, 128, 256), bottleneck: int = 256) -> keras.Model:
    """Input (batch, H, W, 1) with H, W multiples of 2**len(filters); output (batch, H, W, 4).

    Channels 0-2 are softmax probabilities of background, interior and border; channel 3 is the
    centre map in [0, 1] (:func:`particle_gui.core.dl_scale.centre_target`).
    """
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
    classes = layers.Conv2D(3, 1, activation="softmax", name="classes")(x)
    centre = layers.Conv2D(1, 1, activation="sigmoid", name="centre")(x)
    outputs = layers.Concatenate(name="outputs")([classes, centre])
    return keras.Model(inputs, outputs, name="unet4")


def weighted_loss(class_weights: tuple[float, float, float] = (1.0, 1.0, 2.0), centre_weight: float = 2.0):
    """Class-weighted cross-entropy and soft Dice of interior and border, plus the centre map's
    binary cross-entropy, all over the valid pixels.

    ``y_true`` holds the one-hot classes in channels 0-2, the valid-pixel weight in channel 3 and
    the centre map in channel 4; ``y_pred`` the three class probabilities and the centre map.
    """
    weights = ops.convert_to_tensor(class_weights, dtype="float32")

    def loss(y_true, y_pred):
        onehot, valid, centre = y_true[..., :3], y_true[..., 3], y_true[..., 4]
        probs = ops.clip(y_pred[..., :3], 1e-6, 1.0)
        guess = ops.clip(y_pred[..., 3], 1e-6, 1.0 - 1e-6)
        norm = ops.sum(valid) + 1.0
        ce = -ops.sum(onehot * ops.log(probs) * weights, axis=-1)
        ce = ops.sum(ce * valid) / norm
        v = valid[..., None]
        inter = ops.sum(onehot[..., 1:] * probs[..., 1:] * v, axis=(0, 1, 2))
        total = ops.sum((onehot[..., 1:] + probs[..., 1:]) * v, axis=(0, 1, 2))
        dice = ops.mean((2.0 * inter + 1.0) / (total + 1.0))
        bce = -(centre * ops.log(guess) + (1.0 - centre) * ops.log(1.0 - guess))
        bce = ops.sum(bce * valid) / norm
        return ce + (1.0 - dice) + centre_weight * bce

    return loss
