"""Write photo-like test scenes of held-out MNIST test digits, with their truth, to a folder.

Each scene is an image (PNG, or JPEG when the scene simulates JPEG) plus a line in
truth.jsonl (text, digit boxes, conditions); meta.json records the seed, profile, size and
the data file's sha256, so the same command always writes the same bytes.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from digitedge.errors import DigitEdgeError

if TYPE_CHECKING:
    from digitedge.train.data import MnistData

log = logging.getLogger(__name__)


def load_test_digits(path: str | Path | None = None) -> MnistData:
    """MNIST for scenes: `path` (a full mnist.npz) or else the committed 1,000-digit sample.

    Callers must use only `.x_test`/`.y_test`: scenes never show a digit a model trained on.
    $DIGITEDGE_MNIST is deliberately not consulted, so a scene set depends on its flags alone.
    """
    from digitedge.train.data import SAMPLE_PATH, load_npz

    return load_npz(path if path else SAMPLE_PATH)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `digitedge scenes`."""
    parser.add_argument("--out", type=Path, required=True, help="folder to write the scenes to")
    parser.add_argument("--n", type=int, default=50, help="number of scenes")
    parser.add_argument("--seed", type=int, default=0, help="seed; scene i depends on (seed, i)")
    parser.add_argument("--profile", type=str, choices=("basic", "wild"), default="wild",
                        help="basic: clean numbers, two polarities, uneven light, noise; "
                             "wild: adds inks, blur, JPEG, tilt, shadows and distractors")
    parser.add_argument("--data", type=str, default=None,
                        help="MNIST .npz whose x_test/y_test to use; none = the bundled "
                             "1,000-digit test sample")
    parser.add_argument("--width", type=int, default=640, help="image width in pixels")
    parser.add_argument("--height", type=int, default=480, help="image height in pixels")


def run(args: argparse.Namespace) -> int:
    """Generate and write the scenes; prints where they went."""
    from digitedge.benchmarks.scenes import iter_scenes, write_scenes

    if args.n < 1:
        raise DigitEdgeError(f"--n must be at least 1, got {args.n}")
    if args.seed < 0:
        raise DigitEdgeError(f"--seed must be >= 0, got {args.seed}")
    if not (64 <= args.width <= 8192 and 64 <= args.height <= 8192):
        raise DigitEdgeError(f"--width/--height must lie in 64-8192, got {args.width}x"
                             f"{args.height}")
    if args.out.exists() and not args.out.is_dir():
        raise DigitEdgeError(f"--out {args.out} exists and is not a folder")
    data = load_test_digits(args.data)
    log.info("scenes: %d %s scenes from %s (seed %d)", args.n, args.profile, data.source,
             args.seed)
    scenes = iter_scenes(args.n, args.seed, data.x_test, data.y_test, args.profile,
                         args.width, args.height)
    n = write_scenes(args.out, scenes, args.seed, args.profile,
                     data_source=Path(data.source).name, data_sha256=data.sha256)
    print(f"wrote {n} {args.profile} scenes, truth.jsonl and meta.json to {args.out}")
    return 0
