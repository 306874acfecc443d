"""The Keras digit classifiers: the classic MLP ("the ANN") and a CNN (small or deep).

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
CNN_CONVS = {"cnn": 1, "cnn-deep": 2}  # convolutions per block of each CNN architecture


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


def _conv_block(x: keras.KerasTensor, filters: int, name: str, convs: int = 1
                ) -> keras.KerasTensor:
    # No bias: BatchNormalization's offset replaces it, and the converter folds BN into the
    # convolution, so the int8 model is conv + ReLU, `convs` times, then a pool per block.
    for i in range(1, convs + 1):
        suffix = "" if convs == 1 else str(i)  # one conv keeps the small CNN's layer names
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                          name=f"{name}_conv{suffix}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{suffix}")(x)
        x = layers.ReLU(name=f"{name}_relu{suffix}")(x)
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def build_cnn(dropout: float = 0.3, convs: int = 1) -> keras.Model:
    """Three conv blocks (32, 64, 128 filters; 28 -> 14 -> 7 -> 3 pixels), dense 128, softmax.

    With one convolution a block (`cnn`), about 8 M multiply-adds per digit: small enough to
    train on a laptop CPU in minutes, ~99.5% on MNIST. With two (`cnn-deep`, the bundled
    default) each block sees twice as far before it pools: ~99.65% on MNIST and fewer
    misread camera digits, for about twice the time per digit (still ~0.1 ms on this CPU).
    """
    pixels, x = _inputs()
    x = layers.Reshape((*INPUT_SHAPE, 1), name="add_channel")(x)
    for filters, name in ((32, "block1"), (64, "block2"), (128, "block3")):
        x = _conv_block(x, filters, name, convs)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense_0")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout_0")(x)
    probs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    prefix = "cnn" if convs == 1 else "cnn_deep"
    return keras.Model(pixels, probs, name=f"{prefix}_32_64_128")


def build_model(config: TrainConfig) -> keras.Model:
    """The (uncompiled) model that `config.arch` names."""
    if config.arch in CNN_CONVS:
        return build_cnn(config.dropout, CNN_CONVS[config.arch])
    return build_mlp(config.hidden, config.dropout)
