"""The `digitedge` command: one entry point, one subcommand per pipeline stage.

Each subcommand lives in its stage's own module, which exposes `add_arguments(parser)` and
`run(args) -> int`. Those modules import nothing heavy at import time, so `--help` and the
device-side commands never pull in TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from digitedge import __version__
from digitedge.errors import DigitEdgeError

# (name, module, one-line help). The order is the order of the pipeline.
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("train", "digitedge.train.cli", "train the Keras MLP or CNN on MNIST (needs [train])"),
    ("convert", "digitedge.convert.cli", "convert a .keras model to TFLite (int8 by default)"),
    ("read", "digitedge.edge_runtime.read_cli", "read the digits in one or more images"),
    ("live", "digitedge.edge_runtime.live_cli", "read digits live from a camera, video or URL"),
    ("bench", "digitedge.benchmarks.cli", "benchmark latency and accuracy, write a report"),
    ("report", "digitedge.benchmarks.report_cli", "compare several benchmark.json runs"),
    ("scenes", "digitedge.benchmarks.scenes_cli", "generate photo-like test scenes of digits"),
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser; every subcommand's flags come from its own module."""
    parser = argparse.ArgumentParser(
        prog="digitedge",
        description="Handwritten digit recognition from workstation to Raspberry Pi.",
    )
    parser.add_argument("--version", action="version", version=f"digitedge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress and the interpreter backend to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name, help_text in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            name, help=help_text, description=(module.__doc__ or help_text).strip(),
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the subcommand, and turn known failures into one-line errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="digitedge: %(message)s", stream=sys.stderr, force=True,
    )
    try:
        return int(args._run(args) or 0)
    except DigitEdgeError as exc:
        print(f"digitedge: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file-system failure no stage turned into a DigitEdgeError
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"digitedge: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("digitedge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
