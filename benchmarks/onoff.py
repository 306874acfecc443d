"""Shared by the benchmarks that read one kind of page with and without one reader stage
(`ruled`, `marks`): the counting and the Markdown table, so each names only its pages."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from digitedge.edge_runtime.reader import DigitReader


def counts(on: DigitReader, off: DigitReader, made: list[tuple[np.ndarray, str]],
           blank: list[np.ndarray]) -> list[int]:
    """Pages of `made` read exactly by `on` and by `off`, then pages of `blank` read blank
    by each: one table row's four counts."""
    right = [sum(r.read(im).text == t for im, t in made) for r in (on, off)]
    return right + [sum(r.read(im).text == "" for im in blank) for r in (on, off)]


def main(argv: list[str] | None, doc: str, unit: str, columns: str,
         run: Callable[[int, str | None], list[tuple[str, list[int]]]]) -> int:
    """Parse `--n` (pages per `unit`) and `--model`, and print `run`'s rows as a Markdown
    table headed `| unit (n pages) | columns |`, each count as a share of n."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help=f"pages per {unit}")
    parser.add_argument("--model", default=None, help="a .tflite model (default: bundled)")
    args = parser.parse_args(argv)
    n = max(1, args.n)
    print(f"| {unit} ({n} pages) | {columns} |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, row in run(n, args.model):
        print(f"| {name} | " + " | ".join(f"{c / n:.0%}" for c in row) + " |")
    return 0
