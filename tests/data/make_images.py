"""Regenerate the committed test images from MNIST TEST digits of the committed sample.

Run from the repository root: python tests/data/make_images.py. The digits are fixed
indices into the sample's x_test (clean, unambiguous ones), so the files are reproducible.

wrong_input_32x32.tflite (a model `read` must refuse) was made on a workstation with
TensorFlow: keras.Sequential([keras.Input((32, 32)), keras.layers.Flatten(),
keras.layers.Dense(10, activation="softmax")]) through tf.lite.TFLiteConverter.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from digitedge.train.data import SAMPLE_PATH, load_npz

HERE = Path(__file__).resolve().parent
# sample x_test index of a clean example of each digit 0-9
CLEAN = {0: 3, 1: 2, 2: 1, 3: 30, 4: 4, 5: 15, 6: 11, 7: 0, 8: 128, 9: 9}


def paint(canvas: np.ndarray, digit28: np.ndarray, x: int, y: int, size: int,
          ink: float) -> None:
    """Blend one MNIST digit (white on black) into `canvas` as ink of brightness `ink`."""
    alpha = cv2.resize(digit28, (size, size), interpolation=cv2.INTER_CUBIC)
    alpha = np.clip(alpha.astype(np.float32) / 255.0, 0, 1)
    region = canvas[y:y + size, x:x + size]
    region[:] = region * (1 - alpha) + ink * alpha


def scene(lines: list[str], size: int, paper: float, ink: float, shape: tuple[int, int],
          seed: int) -> np.ndarray:
    """Digits on a lit surface with a lighting gradient and sensor noise, as gray uint8."""
    rng = np.random.default_rng(seed)
    x_test = load_npz(SAMPLE_PATH).x_test
    h, w = shape
    light = np.linspace(0.65, 1.1, w, dtype=np.float32)[None, :] * np.linspace(
        1.05, 0.85, h, dtype=np.float32)[:, None]
    canvas = np.full(shape, paper, np.float32)
    for row, text in enumerate(lines):
        y = 20 + row * int(size * 1.2)
        for col, ch in enumerate(text):
            paint(canvas, x_test[CLEAN[int(ch)]], 20 + col * int(size * 0.8), y, size, ink)
    canvas = canvas * light + rng.normal(0, 5, shape)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def main() -> None:
    cv2.imwrite(str(HERE / "number_dark.png"),
                scene(["4071"], 64, 215, 30, (110, 260), seed=1))
    cv2.imwrite(str(HERE / "chalk_two_lines.png"),
                scene(["358", "6290"], 56, 45, 220, (175, 230), seed=2))
    single = scene(["8"], 90, 190, 40, (240, 320), seed=3)
    cv2.imwrite(str(HERE / "single_digit.jpg"), cv2.cvtColor(single, cv2.COLOR_GRAY2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
