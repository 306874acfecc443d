"""Compare benchmark.json files written by `digitedge bench` (two devices, two versions): one
table per model with each run's figures side by side and ratios against the first run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from digitedge.atomic import write_text
from digitedge.benchmarks.compare import load_runs, render_comparison


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `report` flags."""
    parser.add_argument("runs", type=Path, nargs="+", metavar="BENCHMARK_JSON",
                        help="benchmark.json files; the first is the baseline of the ratios")
    parser.add_argument("--out", type=Path, default=None,
                        help="Markdown file to write; default: print to stdout")


def run(args: argparse.Namespace) -> int:
    """Load and check every file first, then write the comparison."""
    markdown = render_comparison(load_runs(args.runs))
    if args.out is None:
        sys.stdout.write(markdown)
    else:
        write_text(args.out, markdown)
        print(args.out)
    return 0
