"""Cut a blob of touching digits into single digits: by stroke cores, else by columns.

`segment.py` cuts blobs too wide for one digit (`split_wide`); the reader asks
`two_way_split` for a second reading of squarish blobs (`peel_one` for narrower ones that
may be a "1" leaning on a digit) and lets the model choose.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.edge_runtime.blobs import Blob, mask_box, own_pixels
from digitedge.edge_runtime.cores import core_split
from digitedge.edge_runtime.mnistify import stroke_width, tight_crop
from digitedge.edge_runtime.types import Box

PAIR_ASPECT = 0.85  # a blob narrower than this for its height is no pair of broad digits


def split_touching(labels: np.ndarray, blob: Blob, aspect: float) -> list[Blob]:
    """Cut a blob of digits that touch into single digits (relabels `labels` in place).

    A blob wider than `aspect` times its height is taken as n = round(w / 0.8h) digits
    (touching digits overlap a little, each about 0.8 of its height wide); each cut goes
    through the column with the least ink near where the boundary is expected.
    """
    x, y, w, h = blob.box
    if w <= aspect * h:
        return [blob]
    own = own_pixels(labels, blob)
    n = max(2, int(round(w / (0.8 * h))))
    ink = own.sum(axis=0)
    # where two digits touch, a column crosses about one stroke; inside a wide digit (a 5
    # with a long cap, a broad 2) it crosses two or three, so such a blob is left whole
    neck = 1.6 * stroke_width(own)
    cuts = []
    for k in range(1, n):
        centre, half = k * w / n, max(1, int(0.3 * w / n))
        lo, hi = max(1, int(centre) - half), min(w - 1, int(centre) + half + 1)
        window = ink[lo:hi]
        if window.min() > neck:
            continue
        best = np.flatnonzero(window == window.min())
        cuts.append(lo + int(best[np.argmin(np.abs(best + lo - centre))]))
    if not cuts:
        return [blob]
    return relabel(labels, blob, column_parts(own, cuts))


def column_parts(own: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    """`own` cut at the columns `cuts` (left to right): one mask per strip, each the size
    of `own`."""
    parts = []
    for left, right in zip([0, *cuts], [*cuts, own.shape[1]], strict=True):
        part = np.zeros_like(own)
        part[:, left:right] = own[:, left:right]
        parts.append(part)
    return parts


def relabel(labels: np.ndarray, blob: Blob, parts: list[np.ndarray]) -> list[Blob]:
    """Give each of `parts` (bool masks over `blob`'s box) a new label in `labels` (in
    place) and return them as blobs; empty parts are skipped."""
    x, y = blob.box.x, blob.box.y
    region = labels[y:y + blob.box.h, x:x + blob.box.w]
    pieces = []
    next_label = int(labels.max()) + 1
    for part in parts:
        if not part.any():
            continue
        region[part] = next_label
        pieces.append(Blob(mask_box(part, x, y), (next_label,), int(part.sum())))
        next_label += 1
    return pieces


def split_wide(labels: np.ndarray, blob: Blob, aspect: float,
               strength: np.ndarray | None) -> list[Blob]:
    """Cut a blob wider than `aspect` times its height into digits: by the cores of its
    strokes when the ink strength is known (`cores.core_split`), else (or when the cores
    do not come apart) through its least-inked columns (`split_touching`)."""
    x, y, w, h = blob.box
    if w <= aspect * h:
        return [blob]
    if strength is not None:
        own = own_pixels(labels, blob)
        parts = core_split(strength[y:y + h, x:x + w], own)
        if parts is not None:
            return relabel(labels, blob, parts)
    return split_touching(labels, blob, aspect)


def two_way_split(labels: np.ndarray, blob: Blob, min_aspect: float = PAIR_ASPECT,
                  max_aspect: float = 1.25, strength: np.ndarray | None = None,
                  own: np.ndarray | None = None
                  ) -> tuple[tuple[Box, np.ndarray], ...] | None:
    """A possible cut of a squarish blob into two touching digits ("12", "95"), or None.

    Too narrow for `split_touching` to be sure, such a blob may be one digit or two; the
    reader classifies both readings in the same batch and keeps the more confident one.
    With the ink `strength` the cut follows the cores of the strokes (`cores.core_split`),
    else the least-inked column in the middle 40%, however thick the join (blur fattens
    it; the model, which is unsure of a pair read as one digit, decides). Returns
    ((box, mask), (box, mask)) for the left and right pieces, in mask pixels. `own`, the
    blob's pixels in its box (`blobs.own_pixels`), is taken when the caller has it.
    """
    x, y, w, h = blob.box
    if not min_aspect * h < w <= max_aspect * h or w < 8:
        return None
    crop = None if strength is None else strength[y:y + h, x:x + w]
    return cut_in_two(own_pixels(labels, blob) if own is None else own, crop, blob.box)


def cut_in_two(own: np.ndarray, strength: np.ndarray | None, box: Box
               ) -> tuple[tuple[Box, np.ndarray], ...] | None:
    """`two_way_split`'s cut of the blob `own` (a bool mask over `box`, with the ink
    `strength` over the same box, or None), whatever its shape."""
    x, y, w, h = box
    parts = None if strength is None else core_split(strength, own)
    if parts is None or len(parts) != 2:
        ink = own.sum(axis=0)
        lo, hi = int(0.3 * w), int(0.7 * w) + 1
        parts = column_parts(own, [lo + int(np.argmin(ink[lo:hi]))])
    pieces = []
    for part in parts:
        if not part.any():
            return None
        piece = mask_box(part, x, y)
        if piece.h < 0.7 * h:
            return None  # digits side by side are about as tall as each other
        pieces.append((piece, tight_crop(part).astype(np.uint8) * 255))
    return tuple(pieces)


def core_pair(core: np.ndarray, x: int, y: int) -> tuple[tuple[Box, np.ndarray], ...] | None:
    """Two digits that blur fused into one blob, as the tighter threshold parts them, or None.

    Where blur joins two small digits by a thick bridge, no column or seam crosses a thin
    neck, but the bridge is weaker ink than the strokes: thresholded tighter (`core`, from
    `cores.core_mask` over the blob's box, whose top-left corner is (x, y)), the blob falls
    into its digits. Taken when the two largest pieces are each at least 0.6 as tall as the
    box, side by side (sharing under a third of the narrower one's columns). Returns
    ((box, mask), (box, mask)) left to right, like `two_way_split`.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(core.astype(np.uint8), connectivity=8)
    if n < 3:
        return None
    two = sorted(range(1, n), key=lambda k: -stats[k, cv2.CC_STAT_AREA])[:2]
    two.sort(key=lambda k: stats[k, cv2.CC_STAT_LEFT])
    (lx, _, lw, lh), (rx, _, rw, rh) = (stats[k, :4] for k in two)
    if min(lh, rh) < 0.6 * core.shape[0] or lx + lw - rx > min(lw, rw) / 3:
        return None
    return tuple((mask_box(labels == k, x, y), tight_crop(labels == k).astype(np.uint8) * 255)
                 for k in two)


def peelable(box: Box, min_aspect: float) -> bool:
    """Whether a blob is in `peel_one`'s range: from `min_aspect` up to `PAIR_ASPECT` times
    as wide as tall (wider ones get `two_way_split`), and not a sliver."""
    return min_aspect * box.h < box.w <= PAIR_ASPECT * box.h and box.w >= 8


def peel_one(own: np.ndarray, strength: np.ndarray | None, box: Box, thin: float = 0.3
             ) -> tuple[tuple[Box, np.ndarray], ...] | None:
    """A thin "1" touching the digit beside it ("16", "41"), cut as `two_way_split` cuts
    a pair, or None.

    Too narrow for two broad digits (see `peelable`), such a blob is one digit or a "1"
    leaning on one; the cut counts only when one piece is a stroke at most `thin` of the
    blob's height wide. `own` is the blob's bool mask over `box`, `strength` the ink
    strength there (or None). Returns ((box, mask), (box, mask)) left to right, like
    `two_way_split`.
    """
    pieces = cut_in_two(own, strength, box)
    if pieces is None or min(piece.w for piece, _ in pieces) > thin * box.h:
        return None
    return pieces
