"""Non-digit crops for outlier exposure: things the reader cuts from a photo that are no digit.

An MNIST classifier has only ever seen digits, so it is confident on anything: two touching
digits read as one, a broken-off bar, a smudge. Outlier exposure (Hendrycks et al., 2019)
trains the same 10-class softmax on such crops with the UNIFORM distribution as their target,
so the model learns to say "I don't know" (max probability near 0.1) while its output stays
a plain (N, 10) softmax. Every outlier is drawn as a binary mask and passed through the
reader's own `mnistify`, so it looks exactly like what the device model is fed.

Kinds, in roughly equal thirds (see KINDS):
    pair      two training digits binarised at 50%, side by side, touching or overlapping by
              0-25% of the narrower one's width, slight vertical offset: one blob, two digits.
    fragment  25-60% of a binarised digit (top, bottom, left or right part, or a disc-shaped
              stroke piece), its largest connected piece, holding at most 60% of the ink.
    clutter   lines (1-3 short non-vertical lines or dashes), dots, blob (filled ellipse,
              polygon or smudge), scribble (a short random-walk stroke), texture (speckle).
Anything else that a person would read as a digit is rejected and drawn again: after mnistify
rescales it to 20 px, a long near-vertical stroke is a "1" and a closed loop is a "0", so
fragments and clutter with a hole, or that are elongated within 45 degrees of vertical, are
never outliers. Numpy and OpenCV only (no TensorFlow), so tools and tests import it cheaply.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from digitedge.edge_runtime.mnistify import mnistify, tight_crop

KINDS = ("pair", "fragment", "lines", "dots", "blob", "scribble", "texture")
CLUTTER = KINDS[2:]
INK = 128  # MNIST binarised at 50% gray
CANVAS = 64  # clutter is drawn on a 64x64 field; mnistify rescales it anyway
MAX_TRIES = 50


class Outliers(NamedTuple):
    """Generated non-digit crops and what kind each one is."""

    images: np.ndarray  # uint8 (n, 28, 28), white on black, mnistify output
    kinds: np.ndarray  # int (n,), index into KINDS


def _largest_component(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, dtype=np.uint8)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == biggest).astype(np.uint8)


def has_hole(image: np.ndarray) -> bool:
    """True if the ink at >= 50% encloses background (a loop: 0, 6, 8, 9 look like that)."""
    binary = (image >= INK).astype(np.uint8)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    return any(h[3] >= 0 and cv2.contourArea(c) >= 2.0
               for c, h in zip(contours, hierarchy[0], strict=True))


def one_like(image: np.ndarray, elongation: float = 2.5, max_tilt: float = 45.0) -> bool:
    """True if the ink is a long stroke within `max_tilt` degrees of vertical: that is a "1".

    Uses the ink's second moments: the ratio of the principal standard deviations measures
    how line-like it is and the major axis gives its direction.
    """
    m = cv2.moments(image.astype(np.float32))
    if m["m00"] <= 0:
        return False
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    values, vectors = np.linalg.eigh(cov)  # ascending: minor axis first
    if values[1] < elongation ** 2 * max(values[0], 1e-9):
        return False
    dx, dy = vectors[:, 1]
    return bool(np.degrees(np.arctan2(abs(dx), abs(dy))) <= max_tilt)  # 0 degrees = vertical


def touching_pair(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two digits as one blob: b right of a, overlapping by 0-25% of the narrower width."""
    da, db = tight_crop(a >= INK).astype(np.uint8), tight_crop(b >= INK).astype(np.uint8)
    height = int(rng.integers(24, 40))
    parts = []
    for d in (da, db):
        h = max(4, round(height * rng.uniform(0.85, 1.15)))
        w = max(1, round(d.shape[1] * h / d.shape[0]))
        parts.append((cv2.resize(d * 255, (w, h), interpolation=cv2.INTER_LINEAR) >= INK)
                     .astype(np.uint8))
    pa, pb = parts
    offset = round(rng.uniform(-0.12, 0.12) * height)
    top_a, top_b = max(0, -offset), max(0, offset)
    canvas_h = max(top_a + pa.shape[0], top_b + pb.shape[0])
    canvas_w = pa.shape[1] + pb.shape[1]
    left = pa.shape[1] - round(rng.uniform(0.0, 0.25) * min(pa.shape[1], pb.shape[1]))
    first = np.zeros((canvas_h, canvas_w), np.uint8)
    first[top_a:top_a + pa.shape[0], :pa.shape[1]] = pa
    grown = cv2.dilate(first, np.ones((3, 3), np.uint8))
    # Bounding boxes touching is not enough: slide b left until its ink meets a's.
    for x in range(left, -1, -1):
        second = np.zeros_like(first)
        second[top_b:top_b + pb.shape[0], x:x + pb.shape[1]] = pb
        if (grown & second).any():
            break
    return first | second


def fragment(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """25-60% of a binarised digit (a side or a stroke piece); None if it is mostly the digit."""
    mask = tight_crop(digit >= INK).astype(np.uint8)
    h, w = mask.shape
    frac = rng.uniform(0.25, 0.6)
    part = np.zeros_like(mask)
    mode = int(rng.integers(5))
    if mode == 0:
        part[:max(1, round(frac * h))] = mask[:max(1, round(frac * h))]
    elif mode == 1:
        part[h - max(1, round(frac * h)):] = mask[h - max(1, round(frac * h)):]
    elif mode == 2:
        part[:, :max(1, round(frac * w))] = mask[:, :max(1, round(frac * w))]
    elif mode == 3:
        part[:, w - max(1, round(frac * w)):] = mask[:, w - max(1, round(frac * w)):]
    else:
        ys, xs = np.nonzero(mask)
        i = int(rng.integers(len(ys)))
        yy, xx = np.mgrid[0:h, 0:w]
        radius = frac * max(h, w) / 1.5
        part = mask * ((yy - ys[i]) ** 2 + (xx - xs[i]) ** 2 <= radius ** 2)
    # The reader cuts connected blobs, so a fragment is one connected piece.
    part = _largest_component(part)
    kept = part.sum() / max(1, mask.sum())
    if part.sum() < 6 or not 0.1 <= kept <= 0.6:
        return None
    return part


def _angle_off_vertical(rng: np.random.Generator) -> float:
    """A line direction at least 50 degrees away from vertical (steep strokes are "1")."""
    return float(np.radians(rng.uniform(-40.0, 40.0)))


def clutter(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One generic non-digit mark of `kind` (see CLUTTER) on a CANVAS x CANVAS field."""
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    c = CANVAS / 2
    if kind == "lines":
        for _ in range(int(rng.integers(1, 4))):
            length, angle = rng.uniform(8, 40), _angle_off_vertical(rng)
            x0, y0 = rng.uniform(c - 16, c + 16, 2)
            x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
            cv2.line(canvas, (round(x0), round(y0)), (round(x1), round(y1)), 255,
                     int(rng.integers(1, 5)))
    elif kind == "dots":
        spread = rng.uniform(6, 24)
        for _ in range(int(rng.integers(1, 8))):
            x, y = rng.normal(c, spread, 2).clip(4, CANVAS - 5)
            cv2.circle(canvas, (round(x), round(y)), int(rng.integers(1, 6)), 255, -1)
    elif kind == "blob":
        style = int(rng.integers(3))
        if style == 0:
            axes = (int(rng.integers(4, 24)), int(rng.integers(3, 16)))
            cv2.ellipse(canvas, (round(c), round(c)), axes, float(rng.uniform(0, 180)), 0, 360,
                        255, -1)
        elif style == 1:
            points = rng.normal(c, rng.uniform(5, 14), (int(rng.integers(3, 8)), 2))
            cv2.fillPoly(canvas, [cv2.convexHull(points.astype(np.int32))], 255)
        else:  # a smudge: smooth noise thresholded, its largest piece
            noise = cv2.GaussianBlur(rng.random((CANVAS, CANVAS)).astype(np.float32), (0, 0),
                                     float(rng.uniform(3, 6)))
            canvas = (noise >= np.quantile(noise, rng.uniform(0.85, 0.97))).astype(np.uint8)
            canvas = _largest_component(canvas) * 255
    elif kind == "scribble":
        x, y = rng.uniform(c - 8, c + 8, 2)
        heading = rng.uniform(0, 2 * np.pi)
        points = [(x, y)]
        for _ in range(int(rng.integers(3, 9))):
            heading += rng.normal(0.0, 1.2)
            step = rng.uniform(3, 9)
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
            points.append((x, y))
        line = np.round(np.array(points)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [line], False, 255, int(rng.integers(1, 4)))
    elif kind == "texture":
        ph, pw = rng.integers(12, 48, 2)
        noise = cv2.GaussianBlur(rng.random((ph, pw)).astype(np.float32), (0, 0),
                                 float(rng.uniform(0.6, 1.6)))
        patch = noise >= np.quantile(noise, rng.uniform(0.65, 0.9))
        canvas[:ph, :pw] = patch.astype(np.uint8) * 255
    else:
        raise ValueError(f"unknown clutter kind {kind!r}: choose one of {', '.join(CLUTTER)}")
    return canvas


def _one(kind: str, x_digits: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """One mnistified outlier of `kind`, or None if this draw could pass for a digit."""
    if kind == "pair":
        i, j = rng.integers(len(x_digits), size=2)
        return mnistify(touching_pair(x_digits[i], x_digits[j], rng))
    if kind == "fragment":
        part = fragment(x_digits[int(rng.integers(len(x_digits)))], rng)
        if part is None:
            return None
        image = mnistify(part)
    else:
        image = mnistify(clutter(kind, rng))
    if image.max() < INK or one_like(image):
        return None
    # Dots and speckle have gaps between marks by nature, not loops that read as a 0.
    if kind not in ("dots", "texture") and has_hole(image):
        return None
    return image


def make_outliers_with_kinds(x_digits: np.ndarray, rng: np.random.Generator,
                             n: int) -> Outliers:
    """`n` outliers: a third pairs, a third fragments, a third clutter (its five kinds alike).

    Args:
        x_digits: uint8 (N, 28, 28) MNIST-style digits that pairs and fragments are cut
            from; pass training digits only, never the digits a model is tested on.
        rng: all randomness comes from it, so a seed fixes the result.
        n: how many to make.
    """
    if x_digits.ndim != 3 or x_digits.shape[1:] != (28, 28) or x_digits.dtype != np.uint8:
        raise ValueError(f"expected uint8 (N, 28, 28) digits, got {x_digits.dtype} "
                         f"{x_digits.shape}")
    family = rng.permutation(np.arange(n) % 3)
    kinds = np.where(family == 0, 0, 1)
    clutter_count = int((family == 2).sum())
    kinds[family == 2] = 2 + rng.permutation(np.arange(clutter_count) % len(CLUTTER))
    images = np.zeros((n, 28, 28), np.uint8)
    for k in range(n):
        for _ in range(MAX_TRIES):
            image = _one(KINDS[kinds[k]], x_digits, rng)
            if image is not None:
                images[k] = image
                break
        else:
            raise RuntimeError(f"could not draw a {KINDS[kinds[k]]} outlier in {MAX_TRIES} tries")
    return Outliers(images=images, kinds=kinds)


def make_outliers(x_digits: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` non-digit crops, uint8 (n, 28, 28), for training with uniform targets."""
    return make_outliers_with_kinds(x_digits, rng, n).images
