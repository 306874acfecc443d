"""Read the digits in one or more images and print the number(s) found.

With several images each output line is prefixed with the file name, a bad image is
reported on stderr while the others are still read, and the exit code is 1 if any failed.
With several images, --annotate OUT.png and --debug-crops OUT.png write OUT-<image stem>.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from digitedge.atomic import atomic_path
from digitedge.edge_runtime.imageio import DEFAULT_MAX_PIXELS
from digitedge.edge_runtime.manifest import MIN_CONFIDENCE
from digitedge.errors import DigitEdgeError

if TYPE_CHECKING:
    from digitedge.edge_runtime.reader import ReaderConfig

MIN_WORK_SIDE = 64  # a smaller working frame cannot hold a readable digit


def confidence_arg(text: str) -> float:
    """argparse type of --min-confidence (read and live): a probability from 0 to 1."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `digitedge read`."""
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                        help="image files (PNG, JPEG, BMP, ...)")
    parser.add_argument("--model", type=str, default=None,
                        help="a .tflite file or a bundled model's name: int8, float32, "
                             "mlp-int8, mlp-float32 (default: the bundled int8 CNN)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per image per line")
    parser.add_argument("--annotate", type=Path, default=None, metavar="OUT.png",
                        help="write the image with boxes, labels and confidences")
    parser.add_argument("--debug-crops", type=Path, default=None, metavar="OUT.png",
                        help="write a mosaic of the 28x28 tensors the model saw")
    parser.add_argument("--min-confidence", type=confidence_arg, default=MIN_CONFIDENCE,
                        help="digits whose probability is lower are rejected, not guessed")
    parser.add_argument("--backend", type=str, default=None,
                        choices=("ai_edge_litert", "tflite_runtime", "tensorflow"),
                        help="interpreter backend (default: the first one installed)")
    parser.add_argument("--threads", type=int, default=None,
                        help="interpreter threads (default: the backend's choice)")
    parser.add_argument("--work-side", type=int, default=None, metavar="PX",
                        help="shrink images whose longer side exceeds this before reading "
                        "(default: ReaderConfig.max_side, 1280); 640 reads soft or upscaled "
                        "high-resolution frames better, sharp ones worse (see README)")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help="refuse images with more pixels than this")


def reader_config(work_side: int | None) -> ReaderConfig | None:
    """The reader's config for `--work-side` (None keeps the default, soft step included).

    `read` and `live` share it so the flag means the same, and is refused the same, in both.
    """
    if work_side is None:
        return None
    if work_side < MIN_WORK_SIDE:
        raise DigitEdgeError(f"--work-side must be at least {MIN_WORK_SIDE} pixels")
    from digitedge.edge_runtime.reader import ReaderConfig

    return ReaderConfig(max_side=work_side)


def output_path(base: Path, image: Path, several: bool, used: set[Path]) -> Path:
    """Where to write an image's annotation: `base` itself, or base-<stem> with several."""
    if not several:
        return base
    path = base.with_name(f"{base.stem}-{image.stem}{base.suffix}")
    k = 2
    while path in used:
        path = base.with_name(f"{base.stem}-{image.stem}-{k}{base.suffix}")
        k += 1
    used.add(path)
    return path


def write_image(path: Path, image: np.ndarray) -> None:
    """Encode `image` by the file's extension and write it atomically."""
    ok, encoded = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise DigitEdgeError(f"could not encode {path}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded.tobytes())


def _check_writable(path: Path | None, flag: str) -> None:
    if path is not None and not cv2.haveImageWriter(str(path)):
        raise DigitEdgeError(f"{flag} {path}: unknown image type; use a .png or .jpg name")


def run(args: argparse.Namespace) -> int:
    """Read every image; print the results; return 1 if any image failed."""
    # imported here so `digitedge --help` stays fast
    from digitedge.edge_runtime.annotate import crops_mosaic, draw_reading
    from digitedge.edge_runtime.imageio import load_image
    from digitedge.edge_runtime.reader import DigitReader

    _check_writable(args.annotate, "--annotate")
    _check_writable(args.debug_crops, "--debug-crops")
    if args.threads is not None and args.threads < 1:
        raise DigitEdgeError("--threads must be at least 1")
    config = reader_config(args.work_side)
    reader = DigitReader(args.model, args.min_confidence, backend=args.backend,
                         threads=args.threads, config=config)
    several = len(args.images) > 1
    used: set[Path] = set()
    used_crops: set[Path] = set()
    failed = 0
    for path in args.images:
        try:
            image = load_image(path, max_pixels=args.max_pixels)
            reading, kept, dropped = reader.read_with_crops(image)
            if args.annotate is not None:
                write_image(output_path(args.annotate, path, several, used),
                            draw_reading(image, reading))
            if args.debug_crops is not None:
                # what each digit was read from, rejected ones last and marked "x"
                labels = [f"{d.label} {d.confidence:.2f}" for d in reading.digits]
                labels += [f"x{d.label} {d.confidence:.2f}" for d in reading.rejected]
                write_image(output_path(args.debug_crops, path, several, used_crops),
                            crops_mosaic(np.concatenate([kept, dropped]), labels))
        except DigitEdgeError as exc:
            print(f"digitedge: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            record = {"image": str(path), **reading.to_json(),
                      "rejected": [d.to_json() for d in reading.rejected]}
            print(json.dumps(record), flush=True)
        elif several:
            print(f"{path}: {reading.text.replace(chr(10), ' ')}", flush=True)
        else:
            print(reading.text, flush=True)
    return 1 if failed else 0
