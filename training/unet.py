"""A U-Net (Keras 3) predicting background / interior / border probabilities and each particle's core."""

from __future__ import annotations

import keras
from keras import layers, ops

#: Channels of the network's output: three softmax classes, then the sigmoid core probability.
OUTPUTS: tuple[str, ...] = ("background", "interior", "border", "core")
#: A pixel is in its particle's core where the centre map (:func:`centre_target`) reaches this.
CORE_LEVEL = 0.5


def _block(x, filters: int, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def build_unet(*, filters: tuple[int, ...] = (16, 32, 64, 128, 256), bottleneck: int = 256) -> keras.Model:
    """Input (batch, H, W, 1) with H, W multiples of 2**len(filters); output (batch, H, W, 4).

    Channels 0-2 are softmax probabilities of background, interior and border; channel 3 is the
    probability of being in a particle's core: the inner half of it, where the centre map
    (:func:`particle_gui.core.network.dl_scale.centre_target`) reaches :data:`CORE_LEVEL`. Cores of touching
    particles are apart whatever their size, so they seed the split.
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
    core = layers.Conv2D(1, 1, activation="sigmoid", name="core")(x)
    outputs = layers.Concatenate(name="outputs")([classes, core])
    return keras.Model(inputs, outputs, name="unet4")


def weighted_loss(class_weights: tuple[float, float, float] = (1.0, 1.0, 2.0), core_weight: float = 1.0):
    """Class-weighted cross-entropy and soft Dice of interior and border, plus the core's binary
    cross-entropy and soft Dice, all over the valid pixels.

    ``y_true`` holds the one-hot classes in channels 0-2, the valid-pixel weight in channel 3 and
    the centre map in channel 4 (cores are where it reaches :data:`CORE_LEVEL`); ``y_pred`` the
    three class probabilities and the core probability.
    """
    weights = ops.convert_to_tensor(class_weights, dtype="float32")

    def loss(y_true, y_pred):
        onehot, valid = y_true[..., :3], y_true[..., 3]
        core = ops.cast(y_true[..., 4] >= CORE_LEVEL, "float32")
        probs = ops.clip(y_pred[..., :3], 1e-6, 1.0)
        guess = ops.clip(y_pred[..., 3], 1e-6, 1.0 - 1e-6)
        norm = ops.sum(valid) + 1.0
        ce = -ops.sum(onehot * ops.log(probs) * weights, axis=-1)
        ce = ops.sum(ce * valid) / norm
        v = valid[..., None]
        inter = ops.sum(onehot[..., 1:] * probs[..., 1:] * v, axis=(0, 1, 2))
        total = ops.sum((onehot[..., 1:] + probs[..., 1:]) * v, axis=(0, 1, 2))
        dice = ops.mean((2.0 * inter + 1.0) / (total + 1.0))
        bce = -(core * ops.log(guess) + (1.0 - core) * ops.log(1.0 - guess))
        bce = ops.sum(bce * valid) / norm
        core_dice = (2.0 * ops.sum(core * guess * valid) + 1.0) / (ops.sum((core + guess) * valid) + 1.0)
        return ce + (1.0 - dice) + core_weight * (bce + 1.0 - core_dice)

    return loss
