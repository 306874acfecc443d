"""The two Keras digit classifiers: the classic MLP ("the ANN") and a small CNN.

Both take raw pixels, float32 (N, 28, 28) in 0-255 with a white digit on black, and scale them
inside the model, so the float and the int8 TFLite model are fed the very same bytes. Both end
in a softmax over the ten digits. They use only layers that the TFLite converter lowers to
builtin int8 ops (Rescaling, Reshape, Conv2D + BatchNormalization folded, MaxPooling2D,
Flatten, Dense, Dropout dropped at inference), so full-integer quantization needs no fallback.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402 - the log level must be set before TensorFlow loads
from keras import layers  # noqa: E402

from digitedge.train.config import TrainConfig  # noqa: E402

INPUT_SHAPE = (28, 28)
NUM_CLASSES = 10


def _inputs() -> tuple[keras.KerasTensor, keras.KerasTensor]:
    pixels = keras.Input(shape=INPUT_SHAPE, dtype="float32", name="pixels")
    return pixels, layers.Rescaling(1.0 / 255.0, name="scale_0_1")(pixels)


def build_mlp(hidden: tuple[int, ...] = (512,), dropout: float = 0.2) -> keras.Model:
    """Flatten the 784 pixels, then ReLU dense layers of widths `hidden`, then softmax."""
    pixels, x = _inputs()
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate(hidden):
        x = layers.Dense(width, activation="relu", name=f"dense_{i}")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    probs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    name = "mlp_" + "_".join(str(w) for w in hidden)
    return keras.Model(pixels, probs, name=name)


def _conv_block(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    # No bias: BatchNormalization's offset replaces it, and the converter folds BN into the
    # convolution, so the int8 model is one conv + ReLU per block.
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def build_cnn(dropout: float = 0.3) -> keras.Model:
    """Three conv blocks (32, 64, 128 filters; 28 -> 14 -> 7 -> 3 pixels), dense 128, softmax.

    About 8 M multiply-adds per digit: small enough to train on a laptop CPU in minutes and to
    run on a Raspberry Pi in about a millisecond, large enough for ~99.5% on MNIST.
    """
    pixels, x = _inputs()
    x = layers.Reshape((*INPUT_SHAPE, 1), name="add_channel")(x)
    for filters, name in ((32, "block1"), (64, "block2"), (128, "block3")):
        x = _conv_block(x, filters, name)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense_0")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout_0")(x)
    probs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(pixels, probs, name="cnn_32_64_128")


def build_model(config: TrainConfig) -> keras.Model:
    """The (uncompiled) model that `config.arch` names."""
    if config.arch == "cnn":
        return build_cnn(config.dropout)
    return build_mlp(config.hidden, config.dropout)
