"""Photo-like test scenes: held-out MNIST test digits written on paper or boards, photographed.

A scene is a pure function of (rng, digits, profile, size): the same seed gives the same bytes.
Each digit is scaled, thinned or thickened, slanted and set into numbers and lines with
natural spacing, inked on a textured surface, surrounded by distractors that keep clear of
the digits, then "photographed": tilt, the table around the sheet, uneven light, blur,
sensor noise and JPEG. `Scene.conditions` records every choice so results can be broken down.
Callers must pass MNIST *test* digits (x_test, y_test): never the digits a model trained on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from digitedge.atomic import write_bytes, write_text
from digitedge.benchmarks import scene_camera as sc
from digitedge.benchmarks import scene_effects as fx
from digitedge.edge_runtime.types import Box
from digitedge.errors import DigitEdgeError

PROFILES = ("basic", "wild")
INKS = {"black": (38, 34, 32), "blue": (140, 62, 28), "red": (48, 42, 170),
        "pencil": (88, 86, 84), "chalk_white": (236, 238, 238), "chalk_yellow": (150, 225, 240),
        "marker_black": (45, 42, 40), "marker_blue": (150, 80, 30), "marker_red": (50, 45, 185),
        "marker_green": (75, 125, 40)}
Condition = str | int | float | bool


@dataclass(frozen=True)
class Scene:
    """One generated photo and its truth."""

    image: np.ndarray  # BGR uint8 (height, width, 3)
    text: str  # the digits line by line, lines joined by "\n"
    boxes: tuple[Box, ...]  # one per digit of `text`, in reading order
    conditions: dict[str, Condition]  # categorical choices, for breakdowns of results
    params: dict[str, float] = field(default_factory=dict)  # the numeric detail behind them
    indices: tuple[int, ...] = ()  # rows of the digit arrays used, in reading order
    jpeg: bytes | None = None  # the encoded file when the scene went through JPEG


@dataclass(frozen=True)
class _DigitSpec:
    index: int  # row of x_digits
    scale: float  # size relative to the scene's digit height
    rotation: float  # degrees
    drop: float  # baseline jitter, in digit heights
    gap: float  # space before the next digit, in digit heights (negative = overlap)


def _line_lengths(rng: np.random.Generator, wild: bool) -> tuple[str, list[int]]:
    if wild:
        layout = fx.pick(rng, {"single": 0.25, "number": 0.45, "lines": 0.30})
        if layout == "number":
            return layout, [int(rng.integers(2, 9))]
        if layout == "lines":
            return layout, [int(rng.integers(1, 7)) for _ in range(int(rng.integers(2, 4)))]
        return layout, [1]
    layout = fx.pick(rng, {"single": 1, "number": 1, "lines": 1})
    if layout == "number":
        return layout, [int(rng.integers(4, 7))]
    if layout == "lines":
        return layout, [int(rng.integers(2, 6)) for _ in range(2)]
    return layout, [1]


def _layout(rng: np.random.Generator, x_digits: np.ndarray, lines: list[list[_DigitSpec]],
            digit_h: float, stroke: str, slant: float, width: int, height: int
            ) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, int, int, int]]], bool,
                       float]:
    """Place every digit on a full-frame coverage map; shrink the text until it fits.

    Returns the coverage, a label map (digit k in reading order is k+1), the boxes per
    line, whether any two digits touch, and the digit height used.
    """
    margin = max(6, int(0.03 * min(width, height)))
    for _ in range(8):
        patches = [[fx.digit_patch(x_digits[d.index], digit_h * d.scale, stroke, d.rotation, slant)
                    for d in line] for line in lines]
        widths = [sum(p.shape[1] for p in ps) + sum(d.gap * digit_h for d in ln[:-1])
                  for ps, ln in zip(patches, lines, strict=True)]
        pitch = digit_h * rng.uniform(1.35, 1.8)
        indents = [rng.uniform(0, 0.6) * digit_h for _ in lines]
        block_w = max(w + i for w, i in zip(widths, indents, strict=True))
        block_h = pitch * (len(lines) - 1) + digit_h * 1.25
        fit = min((width - 2 * margin) / block_w, (height - 2 * margin) / block_h)
        if fit >= 1.0:
            break
        digit_h *= fit * 0.97
    x0 = rng.uniform(margin, max(margin + 1, width - margin - block_w))
    y0 = rng.uniform(margin, max(margin + 1, height - margin - block_h)) + digit_h * 1.1
    alpha = np.zeros((height, width), np.float32)
    labels = np.zeros((height, width), np.uint16)
    boxes: list[list[tuple[int, int, int, int]]] = []
    touching = False
    for row, (ps, line) in enumerate(zip(patches, lines, strict=True)):
        cursor, base = x0 + indents[row], y0 + row * pitch
        row_boxes = []
        for p, d in zip(ps, line, strict=True):
            ph, pw = p.shape
            x = int(round(cursor))
            y = int(round(base + d.drop * digit_h - ph))
            x, y = min(max(x, 0), width - pw), min(max(y, 0), height - ph)
            region = alpha[y:y + ph, x:x + pw]
            touching |= bool(np.any((region > 0.3) & (p > 0.3)))
            np.maximum(region, p, out=region)
            labels[y:y + ph, x:x + pw][p > 0.3] = sum(map(len, boxes)) + len(row_boxes) + 1
            row_boxes.append((x, y, pw, ph))
            cursor += pw + d.gap * digit_h
        boxes.append(row_boxes)
    return alpha, labels, boxes, touching, digit_h


def _size_bin(h: float) -> str:
    return "small" if h < 32 else "medium" if h < 64 else "large"


def _style(rng: np.random.Generator, wild: bool) -> tuple[str, str, str]:
    """(surface, ink, stroke): what the digits are written on and with."""
    kind = fx.pick(rng, {"paper": 0.7, "board": 0.2, "whiteboard": 0.1} if wild
                   else {"paper": 1, "board": 1})
    if kind == "board":
        surface = fx.pick(rng, {"board_green": 1, "board_black": 1})
        ink = fx.pick(rng, {"chalk_white": 4, "chalk_yellow": 1}) if wild else "chalk_white"
    elif kind == "whiteboard":
        surface = "whiteboard"
        ink = fx.pick(rng, {"marker_black": 2, "marker_blue": 2, "marker_red": 1,
                            "marker_green": 1})
    else:
        surface = fx.pick(rng, {"paper_white": 2, "paper_cream": 1, "paper_grey": 1})
        ink = (fx.pick(rng, {"blue": 3.5, "black": 3.5, "red": 1, "pencil": 2}) if wild
               else fx.pick(rng, {"black": 1, "blue": 1}))
    # Chalk and markers do not draw ballpoint-thin lines.
    if wild and ink in ("blue", "black", "red", "pencil"):
        stroke = fx.pick(rng, {"thin": 0.45, "medium": 0.35, "thick": 0.2})
    else:
        stroke = fx.pick(rng, {"medium": 1, "thick": 1})
    return surface, ink, stroke


def _draw_sheet(rng: np.random.Generator, surface: str, ink: str, cov: np.ndarray,
                boxes: list[list[tuple[int, int, int, int]]], digit_h: float, wild: bool
                ) -> tuple[np.ndarray, dict[str, Condition]]:
    """The surface with its ruling, smudges, the digits, dots and an underline (float BGR)."""
    height, width = cov.shape
    img = fx.surface(rng, height, width, surface)
    keepout = np.zeros((height, width), np.uint8)
    pad = int(max(4, 0.3 * digit_h))
    for x, y, bw, bh in (b for row in boxes for b in row):
        keepout[max(0, y - pad):y + bh + pad, max(0, x - pad):x + bw + pad] = 1
    ink_bgr = np.asarray(INKS[ink], np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)
    dark = surface.startswith("board")
    mark_bgr = np.float32([225, 225, 225]) if dark else np.float32([70, 70, 70])
    ruling = "none"
    if wild and surface.startswith("paper"):
        ruling = fx.pick(rng, {"none": 0.5, "ruled": 0.35, "grid": 0.15})
        if ruling != "none":
            fx.composite(img, fx.ruling(rng, height, width, keepout, ruling),
                         np.float32([205, 165, 130]))
            if ruling == "ruled" and rng.random() < 0.5:
                fx.composite(img, fx.margin_line(rng, height, width, keepout),
                             np.float32([90, 80, 210]))
    smudge = wild and bool(rng.random() < 0.3)
    if smudge:
        fx.composite(img, fx.smudges(rng, height, width, keepout, int(rng.integers(1, 4))),
                     mark_bgr)
    fx.composite(img, fx.ink_texture(rng, cov, ink), ink_bgr)
    dot = wild and bool(rng.random() < 0.4)
    if dot:
        fx.composite(img, fx.dots(rng, height, width, keepout, int(rng.integers(1, 7))),
                     ink_bgr)
    under = wild and len(boxes[0]) + len(boxes) > 2 and bool(rng.random() < 0.2)
    if under:
        row = boxes[int(rng.integers(len(boxes)))]
        x0, y0 = row[0][0], min(b[1] for b in row)
        x1, y1 = max(b[0] + b[2] for b in row), max(b[1] + b[3] for b in row)
        mark = fx.underline(rng, height, width, keepout, (x0, y0, x1 - x0, y1 - y0), digit_h,
                            max(1, round(0.06 * digit_h)))
        under = bool(mark.any())
        fx.composite(img, fx.ink_texture(rng, mark, ink), ink_bgr)
    return img, {"ruling": ruling, "smudges": smudge, "dots": dot, "underline": under}


def _digit_boxes(labels: np.ndarray, hmat: np.ndarray, fallback: list[tuple[int, int, int, int]]
                 ) -> tuple[Box, ...]:
    """Tight boxes of each digit's ink as the camera sees it (labels 1..n, warped)."""
    h, w = labels.shape
    if not np.allclose(hmat, np.eye(3)):
        labels = cv2.warpPerspective(labels, hmat, (w, h), flags=cv2.INTER_NEAREST)
    out = []
    for k, (fx0, fy0, fx1, fy1) in enumerate(sc.warp_boxes(fallback, hmat), start=1):
        # Search only around the warped layout box, which contains the digit's ink.
        x0, y0 = max(0, int(fx0) - 2), max(0, int(fy0) - 2)
        ys, xs = np.nonzero(labels[y0:int(np.ceil(fy1)) + 3, x0:int(np.ceil(fx1)) + 3] == k)
        if ys.size:
            out.append(Box(x0 + int(xs.min()), y0 + int(ys.min()),
                           int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)))
        else:  # wholly overdrawn by a neighbour: fall back to the warped layout box
            x0, y0 = max(0, int(fx0)), max(0, int(fy0))
            out.append(Box(x0, y0, max(1, min(w, int(np.ceil(fx1))) - x0),
                           max(1, min(h, int(np.ceil(fy1))) - y0)))
    return tuple(out)


def generate_scene(rng: np.random.Generator, x_digits: np.ndarray, y_digits: np.ndarray,
                   profile: str = "wild", width: int = 640, height: int = 480) -> Scene:
    """One photo-like scene of MNIST test digits (`x_digits` uint8 (N,28,28), `y_digits`).

    "basic": one digit, a 4-6 digit number or two lines; dark on light or light on dark;
    uneven light and noise. "wild" adds pen, pencil and marker colours, whiteboards, stroke
    width, slant, touching digits, distractors, a tilted sheet on a table, shadows, glare,
    blur, sharpening and JPEG.
    """
    if profile not in PROFILES:
        raise DigitEdgeError(f"unknown scene profile {profile!r}; choose one of {PROFILES}")
    if width < 64 or height < 64:
        raise DigitEdgeError(f"scene size {width}x{height} is too small; use at least 64x64")
    if (x_digits.dtype != np.uint8 or x_digits.ndim != 3 or x_digits.shape[1:] != (28, 28)
            or len(x_digits) != len(y_digits) or len(x_digits) == 0):
        raise DigitEdgeError("scene digits must be uint8 (N, 28, 28), N >= 1, with N labels; "
                             "pass MNIST x_test and y_test")
    wild = profile == "wild"
    layout, lengths = _line_lengths(rng, wild)
    distant = wild and bool(rng.random() < 0.35)
    sheet_scale = float(rng.uniform(0.6, 0.9)) if distant else 1.0
    tilt = float(rng.uniform(0.01, 0.06)) if wild and rng.random() < 0.5 else 0.0
    rotation = float(rng.uniform(-10, 10)) if wild and rng.random() < 0.5 else 0.0
    surface, ink, stroke = _style(rng, wild)

    # Digit height as seen by the camera (20-90 px at 640x480, in proportion for other
    # sizes); the sheet is drawn larger when it will be shrunk.
    top = 160 if layout == "single" else 90
    target_h = float(np.exp(rng.uniform(np.log(20 if wild else 24), np.log(top))))
    target_h = max(12.0, target_h * min(width, height) / 480)
    slant = float(rng.uniform(-0.25, 0.25)) if wild else 0.0
    specs = [[_DigitSpec(int(rng.integers(len(x_digits))),
                         float(rng.uniform(0.9, 1.1) if wild else rng.uniform(0.95, 1.05)),
                         float(rng.uniform(-8, 8) if wild else rng.uniform(-4, 4)),
                         float(rng.uniform(-0.08, 0.08) if wild else rng.uniform(-0.04, 0.04)),
                         float(rng.uniform(-0.05, 0.4) if wild else rng.uniform(0.1, 0.4)))
              for _ in range(n)] for n in lengths]
    cov, labels, boxes, touching, world_h = _layout(
        rng, x_digits, specs, target_h / sheet_scale, stroke, slant, width, height)
    sheet, marks = _draw_sheet(rng, surface, ink, cov, boxes, world_h, wild)
    flat = [b for row in boxes for b in row]
    shot = sc.photograph(rng, sheet, flat, wild, sheet_scale, tilt, rotation)
    final = _digit_boxes(labels, shot.hmat, flat)

    median_h = float(np.median([b.h for b in final]))
    n = len(final)
    cond: dict[str, Condition] = {
        "layout": layout, "n_lines": len(lengths),
        "digits": "1" if n == 1 else "2-3" if n <= 3 else "4-6" if n <= 6 else "7+",
        "size": _size_bin(median_h), "touching": touching,
        "polarity": "light_on_dark" if surface.startswith("board") else "dark_on_light",
        "surface": surface, "ink": ink, "stroke": stroke, **marks, **shot.conditions}
    indices = tuple(d.index for line in specs for d in line)
    text = "\n".join("".join(str(int(y_digits[d.index])) for d in line) for line in specs)
    params = {"digit_height_px": median_h, "slant": slant, **shot.params}
    return Scene(shot.image, text, final, cond, params, indices, shot.jpeg)


def iter_scenes(n: int, seed: int, x_digits: np.ndarray, y_digits: np.ndarray,
                profile: str = "wild", width: int = 640, height: int = 480) -> Iterator[Scene]:
    """Scenes 0..n-1 one at a time; scene i uses its own generator seeded by (seed, i)."""
    if n < 0 or seed < 0:
        raise DigitEdgeError(f"scene count and seed must be >= 0, got n={n}, seed={seed}")
    for i in range(n):
        yield generate_scene(np.random.default_rng([seed, i]), x_digits, y_digits, profile,
                             width, height)


def generate_scenes(n: int, seed: int, x_digits: np.ndarray, y_digits: np.ndarray,
                    profile: str = "wild", width: int = 640, height: int = 480) -> list[Scene]:
    """`n` scenes as a list (about 0.9 MB each at 640x480; use iter_scenes for many)."""
    return list(iter_scenes(n, seed, x_digits, y_digits, profile, width, height))


def write_scenes(out_dir: str | Path, scenes: Iterable[Scene], seed: int, profile: str, *,
                 data_source: str | None = None, data_sha256: str | None = None) -> int:
    """Write each scene's image, then truth.jsonl and meta.json; returns the scene count.

    Images are PNG, or the scene's own JPEG bytes when it went through JPEG (so the file
    decodes to exactly `Scene.image`). Every file is written atomically; an earlier set's
    truth.jsonl and meta.json are removed first and the new ones written last, so an
    interrupted run leaves no truth file that does not match its images; scene_NNNNN
    images of an earlier run that this set does not include are deleted.
    """
    out = Path(out_dir)
    # An earlier set's truth must not outlive its images: were this run interrupted, the old
    # truth.jsonl would describe the new images.
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in ("truth.jsonl", "meta.json"):
            (out / old).unlink(missing_ok=True)
    except OSError as exc:
        raise DigitEdgeError(f"cannot write scenes to {out}: {exc.strerror or exc}") from None
    rows, size = [], None
    for i, scene in enumerate(scenes):
        size = [int(scene.image.shape[1]), int(scene.image.shape[0])]
        if scene.jpeg is not None:
            name, data = f"scene_{i:05d}.jpg", scene.jpeg
        else:
            ok, buf = cv2.imencode(".png", scene.image)
            if not ok:
                raise DigitEdgeError(f"OpenCV could not encode scene {i} as PNG")
            name, data = f"scene_{i:05d}.png", buf.tobytes()
        write_bytes(out / name, data)
        rows.append(json.dumps({"file": name, "text": scene.text,
                                "boxes": [list(map(int, b)) for b in scene.boxes],
                                "conditions": scene.conditions, "params": scene.params,
                                "mnist_test_indices": list(scene.indices)}))
    write_text(out / "truth.jsonl", "".join(r + "\n" for r in rows))
    meta = {"seed": seed, "n": len(rows), "profile": profile, "size": size,
            "digits": "MNIST test split", "data_source": data_source,
            "data_sha256": data_sha256}
    write_text(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    # Images a previous, larger (or differently seeded) run left behind would be mistaken
    # for part of this set: remove those that follow our own naming and are not in truth.
    written = {json.loads(r)["file"] for r in rows}
    for stale in [*out.glob("scene_[0-9][0-9][0-9][0-9][0-9].png"),
                  *out.glob("scene_[0-9][0-9][0-9][0-9][0-9].jpg")]:
        if stale.name not in written:
            stale.unlink()
    return len(rows)
