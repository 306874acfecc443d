"""Read a blob of touching digits by trying cuts and letting the model choose ("segmentation
by recognition").

Digits that touch in a photo rarely meet in a clean vertical gap: a 3 leans into an 8, a
blur bridge joins a 1 to its neighbour. The cheapest top-to-bottom path through the blob
(fewest and faintest ink pixels crossed, as in seam carving) follows the space between them
and crosses only where they touch. Several such seams are found; every run of the blob
between two seams is a possible digit, and the reader keeps the cutting whose digits the
model reads most surely (`best_cutting`). A model trained with outlier exposure
(`digitedge train --outliers`) is unsure of fragments and of pairs, which is what makes the
choice work.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from digitedge.edge_runtime.mnistify import stroke_width

DRIFT = 0.15
"""Extra cost of a diagonal step, in units of one full-strength ink pixel: keeps seams
near-vertical so they do not wander around a digit to avoid a single stroke."""


SPACING = 0.2
"""Seams closer than this times the blob's height are one cut (the cheaper is kept)."""


class Piece(NamedTuple):
    """The part of a blob between seams `left` and `right` (0 = the blob's left side)."""

    left: int
    right: int
    mask: np.ndarray  # bool, the blob's box: this piece's pixels


def _seam_map(cost: np.ndarray) -> np.ndarray:
    """Each pixel's step (-1, 0, 1) up along the least-cost path from the top row."""
    h, w = cost.shape
    total = np.empty((h, w), dtype=np.float32)
    step = np.zeros((h, w), dtype=np.int8)
    total[0] = cost[0]
    pad = np.full(w + 2, np.inf, dtype=np.float32)
    for r in range(1, h):
        pad[1:-1] = total[r - 1]
        options = np.stack([pad[:-2] + DRIFT, pad[1:-1], pad[2:] + DRIFT])
        best = options.argmin(axis=0)
        total[r] = cost[r] + options[best, np.arange(w)]
        step[r] = best.astype(np.int8) - 1
    return step


def _trace(step: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(len(ends), rows): each seam's column in every row, back from its bottom column."""
    h = step.shape[0]
    cols = np.empty((len(ends), h), dtype=np.int32)
    cols[:, -1] = ends
    for r in range(h - 1, 0, -1):
        cols[:, r - 1] = cols[:, r] + step[r, cols[:, r]]
    return cols


def find_seams(strength: np.ndarray, own: np.ndarray, max_seams: int | None = None,
               max_cross: float = 3.0) -> list[np.ndarray]:
    """Top-to-bottom cuts through the blob `own`, left to right: each a column per row.

    Args:
        strength: uint8 ink strength over the blob's box (`preprocess.binarize`).
        own: bool mask of the blob's pixels in the same box.
        max_seams: at most this many, the cheapest first; default: three per digit the
            blob could hold (its width over its height), and at least 8.
        max_cross: a seam may cross at most this many stroke widths of full-strength ink
            (two digits touch in one or two places; a cut through a digit's body crosses
            more).

    Returns:
        The cheapest seams, `SPACING` apart, that leave half a digit's height of ink on both
        sides and stay near-vertical (drifting less than 0.6 of the blob's height).
    """
    h, w = own.shape
    if w < 8 or h < 8:
        return []
    if max_seams is None:
        max_seams = max(8, int(3 * w / h))
    ink = np.where(own, strength.astype(np.float32), 0.0)
    peak = float(ink.max())
    if peak <= 0:
        return []
    cost = ink / peak
    step = _seam_map(cost)
    # (and never half the blob's height: a solid blot is all "stroke")
    limit = min(max_cross * max(1.0, stroke_width(own)), 0.5 * h)
    cols = own.any(axis=0).nonzero()[0]
    ends = np.arange(int(cols[0]) + 2, int(cols[-1]) - 1)
    if ends.size == 0:
        return []
    seams = _trace(step, ends)
    rows = np.arange(h)
    crossed = cost[rows[None, :], seams].sum(axis=1)
    # ink on both sides of a seam over half the blob's height at least (a digit each side,
    # not a corner clipped off), from each row's first and last ink column
    has_ink = own.any(axis=1)
    first = np.where(has_ink, own.argmax(axis=1), w)
    last = np.where(has_ink, w - 1 - own[:, ::-1].argmax(axis=1), -1)
    ok = (crossed <= limit) & (np.ptp(seams, axis=1) <= 0.6 * h) \
        & (_extent(first[None, :] <= seams) >= 0.5 * h) \
        & (_extent(last[None, :] > seams) >= 0.5 * h)
    centres = seams.mean(axis=1)
    kept: list[int] = []
    for k in np.flatnonzero(ok)[np.argsort(crossed[ok], kind="stable")]:
        if all(abs(centres[k] - centres[j]) >= SPACING * h for j in kept):
            kept.append(int(k))
            if len(kept) == max_seams:
                break
    return [seams[k] for k in sorted(kept, key=lambda j: centres[j])]


def _extent(rows_with_ink: np.ndarray) -> np.ndarray:
    """Per seam (row of a bool array over the blob's rows): rows from the first True to the
    last True, 0 when none."""
    any_ink = rows_with_ink.any(axis=1)
    top = rows_with_ink.argmax(axis=1)
    bottom = rows_with_ink.shape[1] - 1 - rows_with_ink[:, ::-1].argmax(axis=1)
    return np.where(any_ink, bottom - top + 1, 0)


def pieces(own: np.ndarray, seams: list[np.ndarray], min_height: float = 0.6,
           max_width: float = 1.6) -> list[Piece]:
    """Every run of `own` between two seams (or a side) that could be one digit: at least
    `min_height` of the blob's height (digits side by side are about as tall as each other),
    at most `max_width` times as wide as tall, and not mere scraps where seams cross."""
    h, w = own.shape
    columns = np.arange(w)[None, :]
    bounds = [np.full(h, -1), *seams, np.full(h, w)]
    out = []
    for i in range(len(bounds) - 1):
        for j in range(i + 1, len(bounds)):
            mask = own & (columns > bounds[i][:, None]) & (columns <= bounds[j][:, None])
            ys, xs = np.nonzero(mask)
            if ys.size < h:  # a digit's strokes hold at least its height in pixels
                continue
            ph, pw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
            if ph >= min_height * h and pw <= max_width * ph:
                out.append(Piece(i, j, mask))
    return out


def best_cutting(pieces: list[Piece], confidences: np.ndarray, n_seams: int
                 ) -> tuple[list[int], float]:
    """The cutting of the blob into pieces (indices into `pieces`) whose confidences have
    the highest product, and that product (0.0 when no cutting covers the blob). More
    pieces multiply more numbers below 1, so a cutting must earn each extra digit.

    Dynamic programming over the seams: a cutting is a chain of pieces from the left side
    (0) to the right side (`n_seams` + 1), each piece starting where the last one ended.
    """
    end = n_seams + 1
    best = np.zeros(end + 1)
    best[0] = 1.0
    back: list[int] = [-1] * (end + 1)
    for k, piece in sorted(enumerate(pieces), key=lambda kp: kp[1].right):
        score = best[piece.left] * float(confidences[k])
        if score > best[piece.right]:
            best[piece.right], back[piece.right] = score, k
    if best[end] <= 0:
        return [], 0.0
    chain, at = [], end
    while at > 0:
        chain.append(back[at])
        at = pieces[back[at]].left
    return chain[::-1], float(best[end])
