"""Find the digits in an ink mask: components, merging of pieces, splitting, lines, order.

Works on the binary mask from `preprocess.binarize`; the filters deciding which blobs can be
digits live in `blobs.py`.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from digitedge.edge_runtime.blobs import (
    REL_LONG_BAND,
    REL_OBSTACLE_MARGIN,
    Blob,
    Ink,
    SegmentConfig,
    cluttered,
    drop_containers,
    edge_or_frame,
    faint_blobs,
    measure_ink,
    near_obstacles,
    overlap,
    own_pixels,
    plausible,
    reference_height,
    sheet_outline,
    size_outliers,
    vertical_dashes,
    vouched,
)
from digitedge.edge_runtime.splits import split_wide
from digitedge.edge_runtime.types import Box

__all__ = ["Blob", "SegmentConfig", "Segmentation", "blob_mask", "segment"]


class Segmentation(NamedTuple):
    """The result of `segment`: candidates in reading order with their line numbers."""

    labels: np.ndarray  # int32 (H, W) component label image
    blobs: tuple[Blob, ...]  # reading order: lines top to bottom, left to right in a line
    lines: tuple[int, ...]  # line number of each blob, 0-based
    wholes: tuple[Blob | None, ...] = ()  # per blob: the wide blob it was cut from, or None


def components(mask: np.ndarray) -> tuple[np.ndarray, list[Blob]]:
    """8-connected components of `mask` as one-part blobs (background excluded)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (mask > 0).astype(np.uint8), connectivity=8)
    blobs = [Blob(Box(*(int(v) for v in stats[i, :4])), (i,), int(stats[i, 4]))
             for i in range(1, n)]
    return labels, blobs


def union(a: Blob, b: Blob) -> Blob:
    """One blob covering both."""
    x0, y0 = min(a.box.x, b.box.x), min(a.box.y, b.box.y)
    x1 = max(a.box.x + a.box.w, b.box.x + b.box.w)
    y1 = max(a.box.y + a.box.h, b.box.y + b.box.h)
    return Blob(Box(x0, y0, x1 - x0, y1 - y0), a.parts + b.parts, a.area + b.area)


def same_digit(a: Blob, b: Blob, ref: float | None = None) -> bool:
    """Are `a` and `b` two pieces of one broken digit (a 5's cap, a 7's bar, a split 4)?

    They must overlap horizontally by half the narrower one, nearly touch vertically, and
    together be no taller than a digit: stacked digits on two lines fail the last test.
    Or one is a short stroke lifted off beside the other's top (`_cap`: a 5's flag).
    A digit is taller than wide, so when both pieces are wider than tall (a faint digit
    broken across its middle) "a digit" is the typical digit height `ref`, not the taller
    piece.
    """
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    if overlap(ax, ax + aw, bx, bx + bw) < 0.5 * min(aw, bw):
        return _cap(a, b) or _cap(b, a)
    gap = max(ay, by) - min(ay + ah, by + bh)
    tallest = max(ah, bh)
    if ref is not None and aw > ah and bw > bh:
        tallest = max(tallest, ref)
    merged_h = max(ay + ah, by + bh) - min(ay, by)
    return gap <= 0.25 * tallest and merged_h <= 1.35 * tallest


def _cap(body: Blob, cap: Blob) -> bool:
    """Is `cap` a short stroke lifted off beside the top of `body` (a 5's flag)?"""
    bx, by, bw, bh = body.box
    cx, cy, cw, ch = cap.box
    gap = max(bx, cx) - min(bx + bw, cx + cw)
    width = max(bx + bw, cx + cw) - min(bx, cx)
    return (ch <= 0.5 * bh and cap.area <= 0.6 * body.area and gap <= 0.1 * bh
            and cy >= by - 0.1 * bh and cy + ch <= by + 0.5 * bh and width <= 1.2 * bh)


def merge_pieces(blobs: list[Blob], ref: float | None = None) -> list[Blob]:
    """Merge pieces of one digit until no pair qualifies (largest blobs absorb first);
    `ref`: the typical digit height (see `same_digit`)."""
    blobs = sorted(blobs, key=lambda b: -b.area)
    merged = True
    while merged:
        merged = False
        for i in range(len(blobs)):
            for j in range(i + 1, len(blobs)):
                if same_digit(blobs[i], blobs[j], ref):
                    blobs[i] = union(blobs[i], blobs[j])
                    del blobs[j]
                    merged = True
                    break
            if merged:
                break
    return blobs


def _cy(b: Blob) -> float:
    return b.box.y + b.box.h / 2


def _next_in_line(last: Blob, remaining: list[Blob]) -> Blob | None:
    """The blob continuing a line to the right of `last`, if one is near and level enough."""
    best, best_cost = None, float("inf")
    for b in remaining:
        h = max(last.box.h, b.box.h)
        gap = b.box.x - (last.box.x + last.box.w)
        dy = abs(_cy(b) - _cy(last))
        if b.box.x + b.box.w / 2 <= last.box.x + last.box.w / 2 or gap > 1.5 * h \
                or dy > 0.5 * h:
            continue
        cost = max(gap, 0) + 2 * dy
        if cost < best_cost:
            best, best_cost = b, cost
    return best


def group_lines(blobs: list[Blob]) -> list[list[Blob]]:
    """Group blobs into text lines (top to bottom), each ordered left to right.

    A line is chained from its leftmost blob to the nearest level neighbour on the right,
    so a sloping line follows its own slope instead of running into the next line. Chains
    at the same height with a wide gap between them are then joined into one line.
    """
    remaining = sorted(blobs, key=lambda b: b.box.x)
    chains: list[list[Blob]] = []
    while remaining:
        chain = [remaining.pop(0)]
        while (nxt := _next_in_line(chain[-1], remaining)) is not None:
            chain.append(nxt)
            remaining.remove(nxt)
        chains.append(chain)
    lines: list[list[Blob]] = []
    for chain in sorted(chains, key=lambda c: min(b.box.x for b in c)):
        for line in lines:
            h = float(np.median([b.box.h for b in line + chain]))
            level = abs(np.median([_cy(b) for b in line]) - np.median([_cy(b) for b in chain]))
            after = min(b.box.x for b in chain) >= max(b.box.x + b.box.w for b in line) - 0.2 * h
            if level < 0.4 * h and after:
                line.extend(chain)
                break
        else:
            lines.append(chain)
    return sorted(lines, key=lambda g: float(np.median([_cy(b) for b in g])))


def line_outliers(lines: list[list[Blob]], cfg: SegmentConfig) -> list[list[Blob]]:
    """Within each line, drop blobs much shorter than the line's digits (dots, commas)."""
    out = []
    for line in lines:
        ref = reference_height(line)
        kept = [b for b in line if b.box.h >= cfg.min_rel_height * ref]
        if kept:
            out.append(kept)
    return out


def segment(mask: np.ndarray, cfg: SegmentConfig | None = None,
            surround: np.ndarray | None = None,
            strength: np.ndarray | None = None) -> Segmentation:
    """Ink mask -> digit candidates in reading order.

    `surround` (optional, bool like `mask`): the table or page-edge region found by
    `preprocess.surround`; blobs lying mostly inside it are obstacles, not digits.
    `strength` (optional, uint8 like `mask`): the ink strength the mask was thresholded
    from; with it, touching digits are split by the cores of their strokes.
    """
    cfg = cfg or SegmentConfig()
    shape = mask.shape[:2]
    labels, blobs = components(mask)
    components_all = list(blobs)
    empty = Segmentation(labels, (), ())
    outside = set() if surround is None else in_surround(labels, blobs, surround)
    # pieces: anything bigger than a speck that is not the page edge, a frame or a sheet's rim
    is_edge = [edge_or_frame(b, shape, cfg) or b.parts[0] in outside
               or sheet_outline(labels, b, shape) for b in blobs]
    edges = [b for b, edge in zip(blobs, is_edge, strict=True) if edge]
    pieces = [b for b, edge in zip(blobs, is_edge, strict=True) if b.area >= 3 and not edge]
    # digit-sized blobs, counting a run of touching digits (split later) as one
    whole = [b for b in pieces if plausible(b, shape, cfg._replace(max_wide_aspect=6.0))]
    bands = [b for b in whole if page_edge_band(b, shape)]
    if len(whole) - len(bands) >= 2:
        # the strip of table along a sheet's edge, not a digit: with other candidates
        # around, it must not set the digit height (a lone close-up "1" is kept)
        edges += bands
        whole = [b for b in whole if b not in bands]
        pieces = [b for b in pieces if b not in bands]
    if not whole:
        return empty
    # a frame around the digits (a ring of shadow along a sheet's edge, a box drawn round
    # them) is dropped below; it must not set the digit height either
    ref = reference_height(drop_containers(whole) or whole, REL_LONG_BAND * min(shape))
    # ruled lines and big shapes go before merging, so they cannot swallow a digit; a
    # long blob as tall as the digits is a number blurred into one piece (cut later)
    pieces = [b for b in pieces if b.box.h <= cfg.max_rel_height * ref and b.box.w <= 6 * ref
              and not (b.box.w > 1.6 * ref and b.box.w > 3 * b.box.h and b.box.h < 0.6 * ref)]
    blobs = merge_pieces(drop_containers(pieces, cfg.min_rel_height * ref), ref)
    wholes: dict[int, Blob] = {}  # first label of a piece -> the blob it was cut from
    cut = []
    for b in blobs:
        pieces = split_wide(labels, b, cfg.split_aspect, strength)
        if len(pieces) > 1:
            wholes.update((piece.parts[0], b) for piece in pieces)
        cut.extend(pieces)
    blobs = cut
    # what a cut leaves over (the scraps of a digit cut as if it were a number) is
    # writing, not texture: it never counts as clutter (their pixels have new labels now;
    # measured: counting the scraps dropped a right "5" on a tuning scene, nothing else)
    relabelled = {p for b in wholes.values() for p in b.parts}
    components_all = [c for c in components_all if c.parts[0] not in relabelled]
    blobs = size_outliers(labels, [b for b in blobs if plausible(b, shape, cfg)], cfg)
    margin = int(min(0.15 * ref, REL_OBSTACLE_MARGIN * min(shape)))
    blobs = vertical_dashes(near_obstacles(labels, blobs, edges, margin))
    blobs = cluttered(labels, blobs, components_all, ref)
    ink = measure_ink(labels, blobs, strength)
    blobs = fat_blobs(blobs, ink)
    if strength is not None:
        blobs = smears(faint_blobs(blobs, ink), ink)
    lines = line_outliers(group_lines(blobs), cfg)
    ordered = tuple(b for line in lines for b in line)
    line_ids = tuple(i for i, line in enumerate(lines) for _ in line)
    return Segmentation(labels, ordered, line_ids,
                        tuple(wholes.get(b.parts[0]) for b in ordered))


def _lower_median(values: list[float]) -> float:
    return sorted(values)[(len(values) - 1) // 2]  # with two, the smaller


def fat_blobs(blobs: list[Blob], ink: dict[Blob, Ink], ratio: float = 2.5) -> list[Blob]:
    """Drop smudges: blobs whose stroke (2 x area / perimeter) is over `ratio` times the
    other candidates' and over a fifth of their own smaller side. One pen writes every digit
    of a note; a smudge or a thumbprint is all "stroke". A blob in a line beside a kept one
    at its height (`blobs.line_mate`) stays: blur swells a bold digit next to a thin "1"."""
    if len(blobs) < 2:
        return blobs
    ref = _lower_median([ink[b].stroke for b in blobs])
    kept = [b for b in blobs
            if not (ink[b].stroke > ratio * ref and ink[b].stroke > 0.2 * min(b.box.w, b.box.h))]
    return [b for b in blobs if b in kept or vouched(b, kept)]


def smears(blobs: list[Blob], ink: dict[Blob, Ink], wider: float = 1.6,
           fainter: float = 0.7) -> list[Blob]:
    """Drop smears: blobs with a stroke over `wider` times the candidates' typical stroke
    (as in `fat_blobs`) and ink under `fainter` times their typical strength (as in
    `faint_blobs`).

    Ink or graphite smeared by a hand or a sleeve spreads wider and lighter than the
    strokes it came from, while a digit pressed harder than the others is thicker and
    darker, so the two tests together mark a smear that neither alone (`fat_blobs`,
    `faint_blobs`) can tell from a bold or a light digit. A blob standing in a line beside
    a kept one, at its height (`blobs.line_mate`), stays: a bold digit in a dimmer patch
    of light is both wider and lighter, and smears do not line up with the writing.
    """
    if len(blobs) < 2:
        return blobs
    width = _lower_median([ink[b].stroke for b in blobs])
    strong = float(np.percentile([ink[b].strength for b in blobs], 80))
    kept = [b for b in blobs
            if not (ink[b].stroke > wider * width and ink[b].strength < fainter * strong)]
    return [b for b in blobs if b in kept or vouched(b, kept)]


def page_edge_band(blob: Blob, shape: tuple[int, int]) -> bool:
    """A long thin blob spanning more than half the image: a sheet edge or a rule."""
    w, h = blob.box.w, blob.box.h
    return (h > 0.5 * shape[0] and w < 0.3 * h) or (w > 0.5 * shape[1] and h < 0.3 * w)


def in_surround(labels: np.ndarray, blobs: list[Blob], surround: np.ndarray) -> set[int]:
    """Labels of the one-part blobs with at least half their ink inside `surround`, or, when
    the surround rings a sheet, beyond it (on the table: wood grain, not writing)."""
    if not surround.any():
        return set()
    full_h, full_w = surround.shape
    # at half size (2x2 max-pool), a 3x3 dilation closes gaps of ~5 px in the ring
    region = cv2.resize(surround.astype(np.uint8) * 255, (max(1, full_w // 2),
                        max(1, full_h // 2)), interpolation=cv2.INTER_AREA) > 0
    region = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8))
    n, zones, stats, _ = cv2.connectedComponentsWithStats(1 - region, connectivity=4)
    h, w = region.shape
    x, y, zw, zh, area = (stats[:, i] for i in range(5))
    border = (x == 0) | (y == 0) | (x + zw == w) | (y + zh == h)
    sheet = ~border & (area > 0.05 * h * w)
    sheet[0] = False
    away = surround
    if sheet[1:].any():
        border[0] = False
        beyond = (border[zones] & (region == 0)).astype(np.uint8)
        away = surround | (cv2.resize(beyond, (full_w, full_h),
                                      interpolation=cv2.INTER_NEAREST) > 0)
    inside = np.bincount(labels[away & (labels > 0)], minlength=len(blobs) + 1)
    return {b.parts[0] for b in blobs if inside[b.parts[0]] >= 0.5 * b.area}


def blob_mask(labels: np.ndarray, blob: Blob) -> np.ndarray:
    """The blob's own pixels inside its box (neighbours reaching into the box are left out)."""
    return own_pixels(labels, blob).astype(np.uint8) * 255
