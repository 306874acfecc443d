"""Split digits that blur or a thick pen made touch, by the cores of their strokes.

Where two digits touch in a photo, the bridge between them is usually fainter than the
strokes themselves: defocus, motion or a bleeding pen smears ink into the gap, and the
ink threshold, set low to keep faint strokes whole, takes the smear in. Raising the
threshold over that one blob separates the digits' cores again; every pixel of the blob
then goes to its nearest core, so each digit keeps its own shape (a straight cut through
the least-inked column would slice off the parts that lean over the neighbour).
"""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.edge_runtime.blobs import drop_specks

LEVELS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
"""Quantiles of the blob's own ink strengths tried as the higher threshold, lowest first:
the lowest level that separates the digits keeps the most of each."""


def _side_by_side(stats: np.ndarray, keep: np.ndarray) -> bool:
    """Are the kept cores arranged left to right, each mostly beside the others?"""
    order = np.flatnonzero(keep)
    order = order[np.argsort(stats[order, 0])]
    for a, b in zip(order[:-1], order[1:], strict=True):
        a0, a1 = stats[a, 0], stats[a, 0] + stats[a, 2]
        b0, b1 = stats[b, 0], stats[b, 0] + stats[b, 2]
        if min(a1, b1) - max(a0, b0) > 0.4 * min(stats[a, 2], stats[b, 2]):
            return False
    return True


def cuts_a_loop(own: np.ndarray, pieces: list[np.ndarray]) -> bool:
    """Does a boundary between `pieces` run through a closed loop of `own` (a 0, the bowl
    of a 6)? Digits that touch each keep their own loops; a loop shared by two pieces means
    the "cores" were the two sides of one wide digit."""
    contours, hierarchy = cv2.findContours(own.astype(np.uint8), cv2.RETR_CCOMP,
                                           cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return False
    owner = np.zeros(own.shape, dtype=np.int32)
    for k, piece in enumerate(pieces, start=1):
        owner[piece] = k
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        if parent < 0 or len(contour) < 4:
            continue  # an outer outline, or a pinhole
        pts = contour[:, 0, :]
        counts = np.bincount(owner[pts[:, 1], pts[:, 0]], minlength=len(pieces) + 1)[1:]
        if np.sort(counts)[-2] > 0.2 * len(pts):
            return True
    return False


def core_split(strength: np.ndarray, own: np.ndarray, min_height: float = 0.55,
               max_pieces: int = 8) -> list[np.ndarray] | None:
    """The blob `own` as several touching digits, left to right, or None if its cores do not
    come apart.

    Args:
        strength: uint8 ink strength over the blob's box (`preprocess.binarize`).
        own: bool mask of the blob's pixels in the same box.
        min_height: a core must be at least this fraction of the blob's height to count as
            a digit (shorter cores are a digit's own loose ends, given to their neighbour).
        max_pieces: a blob falling into more cores than this is texture, not digits.

    Returns:
        Bool masks the size of `own` that partition its pixels, sorted by their left edge.
    """
    values = strength[own]
    if values.size < 12:
        return None
    height = own.shape[0]
    for q in LEVELS:
        level = float(np.quantile(values, q))
        cores = (own & (strength >= level)).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cores, connectivity=8)
        keep = stats[:, 3] >= min_height * height
        keep[0] = False
        count = int(keep.sum())
        if count > max_pieces:
            return None
        if count < 2 or not _side_by_side(stats, keep):
            continue
        seeds = np.where(keep[labels], labels, 0)
        # nearest core for every pixel: distance to the zero pixels of (seeds == 0)
        _, nearest = cv2.distanceTransformWithLabels(
            (seeds == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        ys, xs = np.nonzero(seeds)
        # DIST_LABEL_PIXEL numbers the zero pixels of the input in row-major order
        owner = np.zeros(len(ys) + 1, dtype=np.int32)
        owner[1:] = seeds[ys, xs]
        assigned = owner[nearest] * own
        pieces = [assigned == k for k in np.flatnonzero(keep)]
        pieces.sort(key=lambda m: int(np.flatnonzero(m.any(axis=0))[0]))
        return None if cuts_a_loop(own, pieces) else pieces
    return None


def core_mask(strength: np.ndarray, own: np.ndarray, quantile: float = 0.5,
              min_height: float = 0.6) -> np.ndarray | None:
    """The blob `own` thresholded tighter: only pixels at or above the `quantile` of its own
    ink strengths, or None when that loses the digit's shape (shorter than `min_height` of
    the blob, or nothing left).

    A small or defocused digit is thresholded fat: its loops fill in (a 6 becomes a blob,
    an 8 a bar) because the blur spreads ink into them. The stroke centres are the
    strongest ink, so a tighter threshold over the same blob reopens them.
    """
    values = strength[own]
    if values.size < 12:
        return None
    core = drop_specks(own & (strength >= float(np.quantile(values, quantile))))
    rows = np.flatnonzero(core.any(axis=1))
    if rows.size == 0 or rows[-1] - rows[0] + 1 < min_height * own.shape[0]:
        return None
    return core
