"""Single digits that fill the frame: the reader on close-ups and tight crops.

Scenes put digits on a page, smaller than the frame. People also photograph one digit up
close, draw one on a small canvas or crop one out of a photo. This renders held-out MNIST
test digits in such framings and counts exact readings, with and without the reader's
close-up reading (`edge_runtime/closeup.py`).

    python -m digitedge.benchmarks.closeups --n 100
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import cv2
import numpy as np

from digitedge.edge_runtime.reader import DigitReader, ReaderConfig


def photo(digit: np.ndarray, seed: int) -> np.ndarray:
    """Dark ink on grey paper with a light ramp and sensor noise: a photo of `digit`
    (MNIST, white on black, any size)."""
    rng = np.random.default_rng(seed)
    ink = digit.astype(np.float32) / 255.0
    ramp = np.linspace(0.0, rng.uniform(-30, 30), ink.shape[1])[None, :]
    return np.clip(200 + ramp - 150 * ink + rng.normal(0, 3, ink.shape), 0, 255).astype(np.uint8)


def crop(digit: np.ndarray, margin: int) -> np.ndarray:
    """`digit` cut `margin` pixels outside its ink on every side (0: along the ink)."""
    ys, xs = np.nonzero(digit > 30)
    return digit[max(0, ys.min() - margin):ys.max() + 1 + margin,
                 max(0, xs.min() - margin):xs.max() + 1 + margin]


def _big(image: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    if size:
        return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    return cv2.resize(image, None, fx=8, fy=8, interpolation=cv2.INTER_CUBIC)


def _framed(digit: np.ndarray, seed: int, frac: float = 0.6) -> np.ndarray:
    h = int(frac * 360)
    canvas = np.zeros((360, 480), np.uint8)
    canvas[(360 - h) // 2:(360 + h) // 2, (480 - h) // 2:(480 + h) // 2] = _big(digit, (h, h))
    return photo(canvas, seed)


# name -> (digit, seed) -> image
FRAMINGS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "MNIST as is (28x28, white on black)": lambda d, i: d,
    "MNIST enlarged to 280x280, black on white": lambda d, i: 255 - _big(d, (280, 280)),
    "photo, digit's 20-px box filling 280x280": lambda d, i: photo(_big(d, (280, 280)), i),
    "photo, cut along the ink (8x)": lambda d, i: photo(_big(crop(d, 0)), i),
    "photo, cut 1 px outside the ink (8x)": lambda d, i: photo(_big(crop(d, 1)), i),
    "photo, cut 2 px outside the ink (8x)": lambda d, i: photo(_big(crop(d, 2)), i),
    "photo, 480x360, digit box 0.6 of the height": _framed,
}


def run(n: int, model: str | None = None) -> list[tuple[str, int, int]]:
    """(framing, right with the close-up reading, right without) over the first `n` test
    digits of the committed MNIST sample."""
    from digitedge.benchmarks.scenes_cli import load_test_digits

    data = load_test_digits()
    on = DigitReader(model)
    off = DigitReader(on.model, config=ReaderConfig(closeup=False))
    rows = []
    for name, make in FRAMINGS.items():
        images = [make(data.x_test[i], i) for i in range(n)]
        truth = [str(int(data.y_test[i])) for i in range(n)]
        right = [sum(r.read(im).text == t for im, t in zip(images, truth, strict=True))
                 for r in (on, off)]
        rows.append((name, right[0], right[1]))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the table of `run` as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="digits per framing (max 1,000)")
    parser.add_argument("--model", default=None, help="a .tflite model (default: bundled)")
    args = parser.parse_args(argv)
    n = max(1, min(args.n, 1000))
    print(f"| framing ({n} digits) | read right | without the close-up reading |")
    print("| --- | ---: | ---: |")
    for name, on, off in run(n, args.model):
        print(f"| {name} | {on / n:.0%} | {off / n:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
