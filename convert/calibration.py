"""The representative data set for int8 calibration: stratified, seeded, training split only.

Calibration decides every activation range of the int8 model, so it must look like what the
model will see but must never be the test set that later measures the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from digitedge.errors import DigitEdgeError
from digitedge.train.data import MnistData, stratified_indices

SOURCE_SPLIT = "train"  # recorded in the manifest; the test split is for validation only


class CalibrationSet(NamedTuple):
    """The digits a quantizer calibrates on, and how they were drawn (for the manifest)."""

    images: np.ndarray  # uint8 (n, 28, 28), raw pixels as the device feeds them
    indices: np.ndarray  # positions in the training split
    n: int
    seed: int
    split: str


def draw_calibration_set(data: MnistData, n: int, seed: int) -> CalibrationSet:
    """`n` training digits spread evenly over the ten classes, reproducible from `seed`.

    Raises:
        DigitEdgeError: `n` is not between 1 and the number of training digits.
    """
    available = int(data.x_train.shape[0])
    if not 1 <= n <= available:
        raise DigitEdgeError(
            f"--calib-samples must be between 1 and {available} (the training digits in "
            f"{data.source}), got {n}")
    indices = stratified_indices(data.y_train, n, seed)
    return CalibrationSet(data.x_train[indices], indices, int(indices.size), seed, SOURCE_SPLIT)


def as_model_inputs(images: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Raw uint8 pixels as float32 batches shaped for a model taking `input_shape` per digit.

    Every digitedge Keras model rescales 0-255 itself, so calibration feeds the same raw
    pixel values the device does, only widened to float32.
    """
    return np.asarray(images, dtype=np.float32).reshape((-1, *input_shape))


def representative_dataset(images: np.ndarray, input_shape: tuple[int, ...]
                           ) -> Callable[[], Iterator[list[np.ndarray]]]:
    """The generator factory `TFLiteConverter.representative_dataset` expects (one digit a step)."""
    batch = as_model_inputs(images, input_shape)

    def generate() -> Iterator[list[np.ndarray]]:
        for i in range(batch.shape[0]):
            yield [batch[i:i + 1]]

    return generate
