"""Does the reading hold when the camera has more pixels? Scenes resized, read at working sizes.

The scene benchmark's frames are 640x480; webcams and phones also give 1280x720 to 4032x3024
frames, often soft (upscaled or lightly focused). This reads the same wild scenes upscaled
(cubic: a soft frame, its noise and blur grown with it) and drawn at a larger size (sharp:
noise per pixel), each with the reader's default working size (1280 px, and 640 px for a
soft frame: `ReaderConfig.soft_side`), with 1280 px always (the reader before the soft step)
and with 640 px always, and prints exact match / per digit / images with a false digit.
Device side: no TensorFlow.

    python -m digitedge.benchmarks.scales --n 300 --seed 1
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2

from digitedge.benchmarks.scene_score import score_readings
from digitedge.benchmarks.scenes import iter_scenes
from digitedge.benchmarks.scenes_cli import load_test_digits
from digitedge.edge_runtime.reader import DigitReader, ReaderConfig

if TYPE_CHECKING:
    from digitedge.train.data import MnistData

# (label, upscale factor of the drawn scene (1.0: as drawn), size the scene is drawn at)
FRAMES = (("640x480 as drawn", 1.0, (640, 480)),
          ("1280x960 soft (640x480 upscaled 2x)", 2.0, (640, 480)),
          ("1920x1440 soft (upscaled 3x)", 3.0, (640, 480)),
          ("1280x960 sharp (drawn at that size)", 1.0, (1280, 960)))

READERS = (("default (640 when soft)", ReaderConfig()),
           ("1280 always", ReaderConfig(soft_side=0)),
           ("640 always", ReaderConfig(max_side=640)))


def read_set(reader: DigitReader, data: MnistData, n: int, seed: int, factor: float,
             size: tuple[int, int]) -> dict:
    """Score `reader` on `n` wild scenes of `seed` (digits of `data`'s test set) drawn at
    `size`, upscaled by `factor`."""
    truths, reads = [], []
    for scene in iter_scenes(n, seed, data.x_test, data.y_test, "wild", *size):
        image = scene.image if factor == 1.0 else cv2.resize(
            scene.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        truths.append(scene.text)
        reads.append(reader.read(image).text)
    return score_readings(truths, reads)


def main(argv: Sequence[str] | None = None) -> int:
    """Print one markdown row per frame kind and working size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="scenes per row")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print("| frame | working side | exact | per digit | images with a false digit |")
    print("| --- | --- | ---: | ---: | ---: |")
    model = DigitReader().model
    data = load_test_digits()
    for label, factor, size in FRAMES:
        for name, config in READERS:
            m = read_set(DigitReader(model, config=config), data, args.n, args.seed, factor, size)
            print(f"| {label} | {name} | {m['exact_match']:.1%} | "
                  f"{m['per_digit_accuracy']:.2%} | {m['images_with_false_digits']:.1%} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
