"""Ink components that are the rim of a brightness step, not pen strokes.

A pen stroke has the same paper on both sides. The strip that thresholding leaves along a
sheet's edge on a table, a board's frame or a shadow's edge has paper on one side and
something else on the other. A wooden table's grain breaks that strip into short dashes,
and each dash reads as a confident "1", so short thin pieces are tested as well as long
strips.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_LENGTH = 8  # px: shorter components are specks (as `SegmentConfig.min_height`)
SPARSE = 0.15  # ink / box area below this: a bent rim (a shadow's corner), not a region
MAX_WIDTH = 0.1  # share of the shorter image side: wider components are regions, not dashes


def _disk(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _side_step(own: np.ndarray, ring: np.ndarray, ground: np.ndarray) -> float:
    """How much the ground on one long side of a thin component departs from the other
    side, relative to the lighter side (0 for a stroke on even paper)."""
    ys, xs = np.nonzero(own)
    points = np.stack([xs, ys], axis=1).astype(np.float32)
    centre = points.mean(axis=0)
    # the normal of the component's main axis splits its surroundings into two sides
    normal = np.linalg.svd(points - centre, full_matrices=False)[2][1]
    ry, rx = np.nonzero(ring)
    side = (np.stack([rx, ry], axis=1) - centre) @ normal
    a, b = ground[side > 0], ground[side < 0]
    if a.size < 5 or b.size < 5:
        return 0.0
    ma, mb = float(np.median(a)), float(np.median(b))
    return abs(ma - mb) / max(ma, mb, 24.0)


def _spread(ground: np.ndarray) -> float:
    """How far the darker tenth of the ground departs from the lighter tenth, relative to
    the latter (a strip along a step has both kinds of ground around it)."""
    low, high = np.percentile(ground, [10, 90])
    return float(high - low) / max(float(high), 24.0)


def edge_strips(mask: np.ndarray, gray: np.ndarray, dark_ink: bool, min_frac: float = 0.06,
                min_step: float = 0.4, min_side_step: float = 0.2) -> np.ndarray:
    """Bool mask of the thin ink components that are the rim of a brightness step (a
    sheet's edge on a table, a board's frame, a shadow's edge), not pen strokes.

    The ground just around each thin component (over twice as long as wide, at least
    `MIN_LENGTH` px long, at most `MAX_WIDTH` wide) is compared with itself:
    - a long strip (over `min_frac` of the shorter image side, and over 3 times longer than
      wide, or a bent rim filling under `SPARSE` of its box: a shadow's corner) is an edge
      when the darker tenth of its ground (for chalk: the lighter) departs from the lighter
      tenth by over `min_step` of the latter (a digit, however sparse, has paper all
      round);
    - any thin component is an edge when the ground on one of its long sides departs from
      the other side by over `min_side_step` of the lighter side (measured on 1,200 tuning
      scenes: the 703 thin digits read right stayed under 0.16, the dashes of a sheet's
      edge on a wooden table read as digits reached 0.12-0.42; half of them lie above 0.2).
    """
    out = np.zeros(mask.shape, dtype=bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8),
                                                           connectivity=8)
    img_h, img_w = mask.shape
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        bent = stats[i, 4] < SPARSE * w * h
        long = max(w, h) >= min_frac * min(img_h, img_w) and (max(w, h) > 3 * min(w, h) or bent)
        # a stroke or a dash, not a region (a table's corner is as thin for its size)
        thin = max(w, h) > 2 * min(w, h) and min(w, h) <= MAX_WIDTH * min(img_h, img_w)
        if max(w, h) < MIN_LENGTH or not (long or thin):
            continue
        # the ring lies past the stroke's blurred fringe; a bent rim's box says nothing of
        # its width (area / length does, and keeps the dilations below cheap)
        width = stats[i, 4] / max(w, h) if bent else min(w, h)
        d = max(3, int(0.15 * width) + 2)
        x0, y0 = max(0, x - 2 * d), max(0, y - 2 * d)
        x1, y1 = min(img_w, x + w + 2 * d), min(img_h, y + h + 2 * d)
        own = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
        far = cv2.dilate(own, _disk(2 * d + 1))
        near = cv2.dilate(own, _disk(d + 1))
        ring = (far > 0) & (near == 0) & (mask[y0:y1, x0:x1] == 0)
        if ring.sum() < 10:
            continue
        ground = gray[y0:y1, x0:x1][ring].astype(np.float32)
        if not dark_ink:
            ground = 255.0 - ground
        if (long and _spread(ground) > min_step) or _side_step(own, ring, ground) > min_side_step:
            out[y0:y1, x0:x1] |= own > 0
    return out
