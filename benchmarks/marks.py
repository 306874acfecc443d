"""Numbers people have marked: underlined, boxed, ringed, or written on a form's line.

The scene generator never draws on its digits, but people do: they underline a total, ring
an answer, write in a box or on the printed line of a form. Where the mark touches the
digits it joins them into one blob wider than any digit. This renders held-out MNIST test
digits (four to a page, 30-60 px tall) with such marks drawn by hand (a wobbling pen line
of the writing's own width) or printed, and counts exact readings, and pages holding the
mark alone read blank, with and without the reader's marks detection
(`edge_runtime/marks.py`).

    python -m digitedge.benchmarks.marks --n 100
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from digitedge.benchmarks import onoff
from digitedge.benchmarks.ruled import HEIGHT, PAPER, PEN, WIDTH, write
from digitedge.edge_runtime.reader import DigitReader, ReaderConfig

Box = tuple[int, int, int, int]  # x, y, w, h of the writing
Mark = Callable[[np.ndarray, Box, np.random.Generator], None]


def _stroke(ink: np.ndarray, points: np.ndarray, width: int, closed: bool = False) -> None:
    """Draw a pen stroke through `points` (float, (N, 2)) into `ink` at full opacity."""
    pts = np.round(points * 4).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(ink, [pts], closed, 1.0, width, cv2.LINE_AA, shift=2)


def _wobble(n: int, amount: float, rng: np.random.Generator) -> np.ndarray:
    """A slow waver of a hand-drawn line: two random sines, `amount` px at the most."""
    t = np.linspace(0, 1, n)
    wave = sum(rng.uniform(-1, 1) * np.sin(2 * np.pi * (k * t + rng.uniform())) for k in (1, 2))
    return amount * wave / 2


def _pen(rng: np.random.Generator, box: Box) -> int:
    """A pen's width, like the writing's: MNIST strokes are about a tenth of the height."""
    return max(2, round(box[3] * rng.uniform(0.07, 0.11)))


def _line(ink: np.ndarray, x0: float, x1: float, y: float, width: int,
          rng: np.random.Generator) -> None:
    """A hand-drawn, near-horizontal line from x0 to x1 about the row y."""
    n = max(8, int(x1 - x0) // 8)
    xs = np.linspace(x0, x1, n)
    slope = np.tan(np.radians(rng.uniform(-3, 3)))
    ys = y + slope * (xs - (x0 + x1) / 2) + _wobble(n, 1.5, rng)
    _stroke(ink, np.column_stack([xs, ys]), width)


def underline(gap: tuple[int, int]) -> Mark:
    """A line under the writing, `gap` px below its feet (negative: through them)."""
    def draw(ink: np.ndarray, box: Box, rng: np.random.Generator) -> None:
        x, y, w, h = box
        pad = rng.uniform(0.1, 0.4) * h
        _line(ink, x - pad, x + w + pad, y + h + rng.uniform(*gap), _pen(rng, box), rng)
    return draw


def double_underline(ink: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """Two lines under the writing, the first touching its feet."""
    x, y, w, h = box
    width = _pen(rng, box)
    below = y + h + rng.uniform(-2, 2)
    for step in (0, width + rng.uniform(4, 8)):
        _line(ink, x - 0.2 * h, x + w + 0.2 * h, below + step, width, rng)


def form_line(ink: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """The printed line of a form across the whole frame, the writing standing on it."""
    x, y, w, h = box
    cv2.line(ink, (0, y + h), (WIDTH - 1, y + h), 0.85, int(rng.integers(1, 3)), cv2.LINE_AA)


def boxed(ink: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """A box drawn by hand round the writing, 0-10 px clear of it."""
    x, y, w, h = box
    m = [rng.uniform(0, 10) for _ in range(4)]
    corners = [(x - m[0], y - m[1]), (x + w + m[2], y - m[1]), (x + w + m[2], y + h + m[3]),
               (x - m[0], y + h + m[3])]
    width = _pen(rng, box)
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        n = max(8, int(np.hypot(bx - ax, by - ay)) // 8)
        t = np.linspace(0, 1, n)
        off = _wobble(n, 1.5, rng)
        xs, ys = ax + t * (bx - ax), ay + t * (by - ay)
        if ay == by:
            ys = ys + off
        else:
            xs = xs + off
        _stroke(ink, np.column_stack([xs, ys]), width)


def ring(clear: tuple[float, float]) -> Mark:
    """An ellipse drawn by hand round the writing, its axes `clear` times the writing's
    half-size larger (under about 1.2 it runs through the end digits' corners)."""
    def draw(ink: np.ndarray, box: Box, rng: np.random.Generator) -> None:
        x, y, w, h = box
        grow = rng.uniform(*clear)
        a, b = w / 2 * grow + 0.15 * h, h / 2 * grow + 0.15 * h
        start = rng.uniform(0, 2 * np.pi)
        t = start + np.linspace(0, 2 * np.pi * rng.uniform(1.02, 1.1), 90)
        r = 1 + _wobble(len(t), 0.04, rng)
        pts = np.column_stack([x + w / 2 + a * r * np.cos(t), y + h / 2 + b * r * np.sin(t)])
        _stroke(ink, pts, _pen(rng, box))
    return draw


MARKS: dict[str, tuple[Mark | None, int]] = {
    "no mark": (None, 4),
    "underlined, touching the digits": (underline((-2, 2)), 4),
    "underlined, 4-10 px below": (underline((4, 10)), 4),
    "double underline": (double_underline, 4),
    "on a form's printed line": (form_line, 4),
    "boxed": (boxed, 4),
    "ringed": (ring((1.25, 1.45)), 4),
    "ringed, touching the digits": (ring((1.1, 1.25)), 4),
    "two digits, underlined": (underline((-2, 2)), 2),
    "one digit, underlined": (underline((-2, 2)), 1),
}


def page(digits: list[np.ndarray], mark: Mark | None, seed: int) -> np.ndarray:
    """A photo (BGR uint8, 640x480) of `digits` in a row on plain paper with `mark` drawn
    round them; with no digits, the mark alone (drawn round where a four-digit number of
    the page's size would stand)."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(30, 61))
    base = int(rng.integers(size + 40, HEIGHT - 60))
    x = int(rng.integers(60, 200))
    ink = np.zeros((HEIGHT, WIDTH), np.float32)
    boxes = write(ink, digits, x, base, size, rng, jitter=False)
    if boxes:
        x0 = min(b[0] for b in boxes)
        x1 = max(b[0] + b[2] for b in boxes)
        y0 = min(b[1] for b in boxes)
        box = (x0, y0, x1 - x0, max(b[1] + b[3] for b in boxes) - y0)
    else:
        box = (x, base - size + 1, int(size * 3.4), size)
    if mark is not None:
        mark(ink, box, rng)
    img = np.empty((HEIGHT, WIDTH, 3), np.float32)
    img[:] = PAPER
    img += np.linspace(0, rng.uniform(-25, 25), WIDTH)[None, :, None]  # light falls off
    img = img * (1 - ink[..., None]) + np.float32(PEN) * ink[..., None]
    img = cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def pages(mark: Mark | None, count: int, n: int) -> list[tuple[np.ndarray, str]]:
    """`n` pages of `count` held-out test digits each with `mark`, with their truth; page i
    holds the same digits for every mark."""
    from digitedge.benchmarks.scenes_cli import load_test_digits

    data = load_test_digits()
    out = []
    for i in range(n):
        pick = np.random.default_rng(i).choice(len(data.y_test), count, replace=False)
        text = "".join(str(int(data.y_test[j])) for j in pick)
        out.append((page([data.x_test[j] for j in pick], mark, i), text))
    return out


def run(n: int, model: str | None = None) -> list[tuple[str, list[int]]]:
    """Per mark: pages read exactly and pages of the mark alone read blank, each with and
    without the marks detection, out of `n`."""
    on = DigitReader(model)
    off = DigitReader(on.model, config=ReaderConfig(marks=False))
    rows = []
    for name, (mark, count) in MARKS.items():
        made = pages(mark, count, n)
        blank = [page([], mark, i) for i in range(n)]
        rows.append((name, onoff.counts(on, off, made, blank)))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the table of `run` as Markdown."""
    return onoff.main(argv, __doc__, "mark", "read exactly | without marks detection "
                      "| mark alone read blank | without", run)


if __name__ == "__main__":
    raise SystemExit(main())
