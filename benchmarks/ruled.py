"""Digits written across ruled and squared paper: the reader on exercise-book pages.

The scene generator keeps its ruling off the digits. People write across the lines: a number
sits on a ruled line, and squared paper puts a line through every digit. This renders
held-out MNIST test digits (four to a page) on such paper, with the lines at several
strengths, widths and angles, and counts exact readings, and blank pages read blank, with
and without the reader's ruling detection (`edge_runtime/ruling.py`).

    python -m digitedge.benchmarks.ruled --n 100
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from digitedge.benchmarks import onoff
from digitedge.edge_runtime.reader import DigitReader, ReaderConfig

WIDTH, HEIGHT = 640, 480
PAPER = (228, 232, 235)  # BGR, white paper
BLUE = (205, 165, 130)  # light blue printed ruling
GREY = (150, 150, 150)  # grey printed squares
PEN = (40, 30, 20)
PENCIL = (120, 120, 120)


class Paper(NamedTuple):
    """One kind of page: its ruling and the pen."""

    kind: str  # "plain", "ruled" (horizontal lines) or "squared"
    strength: float = 0.6  # line opacity over the paper
    colour: tuple[int, int, int] = BLUE
    width: int = 1  # line width, px
    turn: float = 0.0  # the page turned in the frame, degrees
    ink: tuple[int, int, int] = PEN


PAPERS: dict[str, Paper] = {
    "plain paper": Paper("plain"),
    "ruled, digits on the line": Paper("ruled"),
    "ruled, strong lines": Paper("ruled", 0.9),
    "ruled, pencil": Paper("ruled", ink=PENCIL),
    "squared": Paper("squared"),
    "squared, strong lines": Paper("squared", 1.0),
    "squared, 2-px lines": Paper("squared", width=2),
    "squared, grey print": Paper("squared", 0.7, GREY),
    "squared, pencil": Paper("squared", ink=PENCIL),
    "squared, page turned 6 degrees": Paper("squared", turn=6.0),
    "squared, strong lines, page turned 12 degrees": Paper("squared", 1.0, turn=12.0),
}


def _lines(rng: np.random.Generator, paper: Paper, step: int) -> tuple[np.ndarray, int]:
    """The ruling's opacity (float32 HxW) and the y of its first line."""
    alpha = np.zeros((HEIGHT, WIDTH), np.float32)
    y0 = int(rng.integers(0, step))
    if paper.kind == "plain":
        return alpha, y0
    for y in range(y0, HEIGHT, step):
        cv2.line(alpha, (0, y), (WIDTH - 1, y), paper.strength, paper.width, cv2.LINE_AA)
    if paper.kind == "squared":
        for x in range(int(rng.integers(0, step)), WIDTH, step):
            cv2.line(alpha, (x, 0), (x, HEIGHT - 1), paper.strength, paper.width, cv2.LINE_AA)
    return alpha, y0


def write(ink: np.ndarray, digits: list[np.ndarray], x: int, base: int, size: int,
          rng: np.random.Generator, *, jitter: bool = True) -> list[tuple[int, int, int, int]]:
    """Write `digits` (MNIST, white on black) into `ink` (float32 opacity, HxW) in a row
    from `x`, `size` px tall, standing on the row `base` (one px into it, or up to 4 px off
    it either way when `jitter`); their boxes (x, y, w, h)."""
    boxes = []
    for digit in digits:
        ys, xs = np.nonzero(digit > 30)
        cut = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        w = max(2, round(cut.shape[1] * size / cut.shape[0]))
        patch = cv2.resize(cut, (w, size), interpolation=cv2.INTER_CUBIC) / 255.0
        top = base - size + (int(rng.integers(-4, 5)) if jitter else 1)
        ink[top:top + size, x:x + w] = np.maximum(ink[top:top + size, x:x + w], patch)
        boxes.append((x, top, w, size))
        x += w + int(size * rng.uniform(0.25, 0.5))
    return boxes


def page(digits: list[np.ndarray], paper: Paper, seed: int) -> np.ndarray:
    """A photo (BGR uint8, 640x480) of `digits` (MNIST, white on black) written in a row on
    `paper`: on ruled paper they stand on a line, on squared paper they cross the lines."""
    rng = np.random.default_rng(seed)
    step = int(rng.integers(24, 37))
    alpha, y0 = _lines(rng, paper, step)
    img = np.empty((HEIGHT, WIDTH, 3), np.float32)
    img[:] = PAPER
    img += np.linspace(0, rng.uniform(-25, 25), WIDTH)[None, :, None]  # light falls off
    img = img * (1 - alpha[..., None]) + np.float32(paper.colour) * alpha[..., None]
    base = y0 + step * ((HEIGHT // 2 - y0) // step)  # the ruled line nearest the middle
    size = int(rng.uniform(0.8, 1.4) * step)
    ink = np.zeros((HEIGHT, WIDTH), np.float32)
    write(ink, digits, int(rng.integers(60, 140)), base, size, rng,
          jitter=paper.kind != "ruled")
    img = img * (1 - ink[..., None]) + np.float32(paper.ink) * ink[..., None]
    if paper.turn:
        turn = cv2.getRotationMatrix2D((WIDTH / 2, HEIGHT / 2), paper.turn, 1.0)
        img = cv2.warpAffine(img, turn, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REFLECT)
    img = cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def pages(paper: Paper, n: int) -> list[tuple[np.ndarray, str]]:
    """`n` pages of four held-out test digits each on `paper`, with their truth; page i is
    the same digits on every paper."""
    from digitedge.benchmarks.scenes_cli import load_test_digits

    data = load_test_digits()
    out = []
    for i in range(n):
        pick = np.random.default_rng(i).choice(len(data.y_test), 4, replace=False)
        text = "".join(str(int(data.y_test[j])) for j in pick)
        out.append((page([data.x_test[j] for j in pick], paper, i), text))
    return out


def run(n: int, model: str | None = None) -> list[tuple[str, list[int]]]:
    """Per paper: pages of four digits read exactly and blank pages read blank, each with
    and without ruling detection, out of `n`."""
    on = DigitReader(model)
    off = DigitReader(on.model, config=ReaderConfig(ruling=False))
    rows = []
    for name, paper in PAPERS.items():
        made = pages(paper, n)
        blank = [page([], paper, i) for i in range(n)]
        rows.append((name, onoff.counts(on, off, made, blank)))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the table of `run` as Markdown."""
    return onoff.main(argv, __doc__, "paper", "4 digits read exactly | without ruling detection "
                      "| blank read blank | without", run)


if __name__ == "__main__":
    raise SystemExit(main())
