"""Marks people add to a number: a line under, over or through it, a box or a ring round it.

People underline a total, write a number on a form's line or in a box, ring an answer.
Where such a mark touches the digits it joins them into one blob wider than any digit,
which the segmentation drops as a band or cuts in the wrong places; a ring round the
digits is read as a "0" or takes the digits with it. Marks are told apart by geometry:
- a line is a straight, thin, roughly horizontal stroke longer than the writing it touches
  is tall. A digit's longest straight stroke (a 7's bar, a 2's base) is shorter than the
  digit's height, so a line under two digits or more is found and a lone digit is left
  alone;
- a box is two such lines joined at their ends;
- a ring is a thin closed curve close to an ellipse with writing inside it. A "0" is one
  too, but holds no writing.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_LENGTH = 24  # px: a shorter stroke is never taken for a line
BAND = 7  # rows: a line sloping by up to about 6 degrees has long runs within this band
LONGER = 2.0  # a line is at least this many times as long as the writing it touches is tall
MAX_THICK = 0.4  # and at most this thick, as a fraction of that height
MAX_SLOPE = 0.27  # about 15 degrees
COVER = 0.9  # of the columns along a line that hold one of its pixels (a straight stroke)
THIN_REGION = 0.25  # of its box: a region of the surround at most this full may be a line
BEND = 0.03  # of its length: the most a line's middle may stray from a straight fit
MIN_RING = 20  # px: the smallest ring's shorter axis
ON_CURVE = 0.8  # of a ring's outline within its stroke's width of the fitted ellipse
RING_WIDE = 1.1  # a ring's box is at least this many times as wide as tall
RING_THICK = 0.3  # a ring's stroke is at most this fraction of its shorter half-axis
SPAN = 0.5  # of a ring's width: the least the writing inside it spans
SPAN_RUN = 0.4  # of a blob's width: the shortest run searched for a line
FORM_WRITING = 0.2  # of the frame's shorter side: the tallest writing on a form's line


def _middles(ys: np.ndarray, xs: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The columns that hold pixels (`ys`, `xs`) in an image `width` wide, and the mean row
    of each: the path a line's fit runs along."""
    count = np.bincount(xs, minlength=width)
    cols = np.flatnonzero(count)
    return cols, np.bincount(xs, ys, minlength=width)[cols] / count[cols]


def _least(h: int) -> float:
    """The shortest line in a blob `h` px tall: LONGER times the writing it touches, which
    is at least h - thick tall with thick at most MAX_THICK of it."""
    return max(MIN_LENGTH, LONGER * h / (1 + MAX_THICK))


def _line_pixels(sub: np.ndarray, piece: np.ndarray, least: float = MIN_LENGTH
                 ) -> tuple[np.ndarray, float, float, float] | None:
    """The pixels of `sub` (uint8 0/1) along the straight line fitted through `piece`
    (bool, its long horizontal runs), the line's thickness, slope and offset (y = slope *
    x + offset); None when it is not a straight, near-horizontal line at least `least` px
    long."""
    ys, xs = np.nonzero(piece)
    x0, x1 = int(xs.min()), int(xs.max())
    if x1 - x0 + 1 < max(MIN_LENGTH, least):
        return None
    # the band also holds the feet of digits standing on the line: fitted robustly through
    # each column's middle, then again through the pixels near that fit
    cols, mid = _middles(ys, xs, piece.shape[1])
    vx, vy, px, py = cv2.fitLine(np.column_stack([cols, mid]).astype(np.float32),
                                 cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    if abs(vx) < 1e-6:
        return None
    slope = float(vy / vx)
    offset = float(py - slope * px)
    close = np.abs(ys - (slope * xs + offset)) <= 3
    if close.sum() >= MIN_LENGTH:
        slope, offset = np.polyfit(xs[close].astype(np.float64), ys[close].astype(np.float64), 1)
    if abs(slope) > MAX_SLOPE:
        return None
    sy, sx = np.nonzero(sub)
    off = np.abs(sy - (slope * sx + offset))
    span = (sx >= x0) & (sx <= x1)
    length = x1 - x0 + 1
    # thickness: the median count of pixels per column near the fit (a digit touching the
    # line adds to a few columns only)
    near = span & (off <= BAND)
    thick = float(np.median(np.bincount(sx[near] - x0, minlength=length)))
    on = span & (off <= thick / 2 + 1.0)
    # straight: the fit runs through the stroke along its whole length (an arc leaves it)
    if thick < 1 or np.mean(np.bincount(sx[on] - x0, minlength=length) > 0) < COVER:
        return None
    # and straight for its length: a ruler's or a hand's line wavers little, a path along
    # the strokes of touching digits (a 2's base run into a 5's bowl) bends
    ys, xs = sy[on], sx[on]
    cols, mid = _middles(ys, xs, sub.shape[1])
    bend = np.percentile(np.abs(mid - (slope * cols + offset)), 90)
    if bend > max(1.0, BEND * (cols[-1] - cols[0] + 1)):
        return None
    line = np.zeros(sub.shape, bool)
    line[ys, xs] = True
    return line, thick, float(slope), float(offset)


def _sides(sub: np.ndarray, found: list[tuple[np.ndarray, int, int]]) -> np.ndarray:
    """The pieces of `sub` left between two of its lines, at both lines' ends: the sides of
    a box drawn round the writing (its top and bottom are the lines)."""
    sides = np.zeros(sub.shape, bool)
    if len(found) < 2:
        return sides
    removed = np.zeros(sub.shape, bool)
    for line, _, _ in found:
        removed |= line
    n, parts, stats, _ = cv2.connectedComponentsWithStats(
        (sub & ~removed).astype(np.uint8), connectivity=8)
    for p in range(1, n):
        x, _, w, h = (int(v) for v in stats[p, :4])
        own = parts == p
        piece = cv2.dilate(own.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        for end in (x, x + w - 1):
            ends = [(piece & line).any() and min(abs(end - x0), abs(end - x1)) <= 6
                    for line, x0, x1 in found]
            if sum(ends) >= 2:
                sides |= _side(own, end, h)
    return sides


def _side(own: np.ndarray, end: int, h: int) -> np.ndarray:
    """The pixels of `own` (bool) on a box's near-vertical side at column `end` (its left or
    right edge): only the side's own stroke, as a digit touching the side is part of the
    same piece. Row by row the side is the first run of ink from that edge, cut to the
    pen's width where a digit touches it; it must run along most of `h` and be straight."""
    right = end > own.shape[1] // 2
    grid = own[:, ::-1] if right else own
    start = own.shape[1] - 1 - end if right else end
    rows, firsts, runs = [], [], []
    for y in range(grid.shape[0]):
        xs = np.flatnonzero(grid[y])
        if not xs.size or xs[0] > start + 6:
            continue
        gaps = np.flatnonzero(np.diff(xs) > 1)
        rows.append(y)
        firsts.append(int(xs[0]))
        runs.append(int(xs[gaps[0]] - xs[0] + 1) if gaps.size else int(xs[-1] - xs[0] + 1))
    out = np.zeros(grid.shape, bool)
    if len(rows) < max(MIN_LENGTH, 0.6 * h):
        return out
    ys, fs = np.array(rows), np.array(firsts)
    slope, offset = np.polyfit(ys.astype(np.float64), fs.astype(np.float64), 1)
    bend = np.percentile(np.abs(fs - (slope * ys + offset)), 90)
    if abs(slope) > MAX_SLOPE or bend > max(2.0, BEND * len(rows)):
        return out
    width = int(np.ceil(np.median(runs)))
    for y, f, r in zip(rows, firsts, runs, strict=True):
        out[y, f:f + min(r, width + 1)] = True
    return out[:, ::-1] if right else out


def _component(sub: np.ndarray, tallest: float = np.inf) -> np.ndarray:
    """The line pixels (bool, like `sub`) of one component `sub` (uint8 0/1): see `marks`.
    Writing taller than `tallest` px touching a line is not writing (a finger, a shadow)."""
    h, w = sub.shape
    band = cv2.dilate(sub, np.ones((BAND, 1), np.uint8))
    # a line runs along most of what it marks, a digit's stroke along a part of it: runs
    # shorter than SPAN_RUN of the blob's width are left out, so the strokes of digits
    # standing on a box's top and bottom do not join them into one piece
    run = max(MIN_LENGTH, int(SPAN_RUN * w))
    long = cv2.morphologyEx(band, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    m, pieces, runs, _ = cv2.connectedComponentsWithStats(long, connectivity=8)
    under: list[tuple[np.ndarray, int, int]] = []
    over: list[tuple[np.ndarray, int, int]] = []
    least = _least(h)  # shorter pieces are never lines
    for j in np.flatnonzero(runs[:, 2] >= least):
        if j == 0:
            continue
        fitted = _line_pixels(sub, (pieces == j) & (sub > 0), least)
        if fitted is None:
            continue
        line, thick, slope, offset = fitted
        rest = sub & ~line
        # the writing it touches: the pieces left within a few px of the line
        _, parts, pstats, _ = cv2.connectedComponentsWithStats(
            rest.astype(np.uint8), connectivity=8)
        near = cv2.dilate(line.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        touching = np.unique(parts[near & (parts > 0)])
        heights = [int(pstats[t, 3]) for t in touching if pstats[t, 4] >= 2 * thick]
        # writing: something on it much taller than the line is thick (texture or specks
        # along a sheet's edge are not; a double underline blurred into one band under
        # small digits is still under MAX_THICK of them)
        if not heights or max(heights) * MAX_THICK < thick or max(heights) > tallest:
            continue
        # the whole blob counts too: a digit's own arc leaves shorter pieces of it
        tall = max(*heights, h - thick)
        cols = np.nonzero(line.any(axis=0))[0]
        if cols[-1] - cols[0] + 1 < LONGER * tall or thick > MAX_THICK * tall:
            continue
        # which side the writing is on: all above (an underline) or all below (a box's
        # top). Writing on both sides is a stroke through the digits: the bars of touching
        # 5s and 7s, a 4's bar run into its neighbour
        px, py, pw, ph = (pstats[touching, c] for c in range(4))
        big = ph >= 0.3 * tall
        below = (py + ph / 2 > slope * (px + pw / 2) + offset)[big]
        side = under if not below.any() else over if below.all() else None
        if side is None:
            continue
        # slivers along it (the line's own wobble, a digit's foot dipping under it, the
        # second line of a double underline) go with the line; a stroke crossing it is ink
        # above and below: those pixels stay
        low = [t for t in touching if pstats[t, 3] < thick + 3
               or (pstats[t, 2] >= 4 * pstats[t, 3] and pstats[t, 3] < 2 * thick + 6)]
        sliver = np.isin(parts, low) & (parts > 0)
        size = int(np.ceil(thick)) + 6
        across = cv2.morphologyEx((rest & ~sliver).astype(np.uint8), cv2.MORPH_CLOSE,
                                  np.ones((size, 1), np.uint8)) > 0
        side.append(((line & ~across) | sliver, int(cols[0]), int(cols[-1])))
    # a line over the writing counts only as a box's top, over an underline of its length
    box = [top for top in over if any(abs(top[1] - a) + abs(top[2] - b) <= 0.2 * (b - a) + 12
                                      for _, a, b in under)]
    out = np.zeros(sub.shape, bool)
    for line, _, _ in under + box:
        out |= line
    return out | _sides(sub, under + box)


def _ring(sub: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The pixels of `sub` (uint8 0/1, one component) on a ring round writing; none for a
    closed curve that holds no number (an empty ring, a wide "0"); None for no ring.

    `ink` is all of the mask in the component's box: a ring drawn clear of the digits is a
    component of its own, and the writing it holds is in other components.
    """
    outer = max(cv2.findContours(sub, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0], key=len)
    if len(outer) < 5 * MIN_RING:
        return None
    if sub.shape[1] < RING_WIDE * sub.shape[0]:
        return None  # round or tall: a 0, 6 or 9 is taller than wide
    (cx, cy), (a, b), angle = cv2.fitEllipse(outer)
    if not (min(a, b) >= MIN_RING and max(a, b) <= 2 * max(sub.shape)):
        return None
    centre, axes = (round(cx), round(cy)), (round(a / 2), round(b / 2))
    curve = np.zeros(sub.shape, np.uint8)
    cv2.ellipse(curve, centre, axes, angle, 0, 360, 1, 1)
    # closed: the stroke runs along the fitted ellipse nearly all the way round
    near = cv2.dilate(sub, np.ones((5, 5), np.uint8)) > 0
    if not curve.any() or near[curve > 0].mean() < COVER:
        return None
    # thin: its stroke (2 x area / perimeter: the pen's width) is small beside the ring
    # (the holes of a speckled chalk stroke are left out of the perimeter: counted, they
    # thinned the stroke, and its own inner rim passed for writing inside a ring)
    lengths = [cv2.arcLength(c, True) for c in
               cv2.findContours(sub, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)[0]]
    thick = 2 * float(sub.sum()) / sum(v for v in lengths if v >= 0.1 * max(lengths))
    if thick > RING_THICK * min(a, b) / 2:
        return None
    away = cv2.distanceTransform(1 - curve, cv2.DIST_L2, 3)
    # an ellipse, not a box: the outline stays on the curve (a box's corners leave it;
    # digits poking out of a tight ring are a small part)
    xs, ys = outer[:, 0, 0], outer[:, 0, 1]
    if np.mean(away[ys, xs] <= thick + 2) < ON_CURVE:
        return None
    ring = (sub > 0) & (away <= thick + 1.5)
    inside = np.zeros(sub.shape, np.uint8)
    cv2.ellipse(inside, centre, axes, angle, 0, 360, 1, -1)
    held = (ink > 0) & ~ring & (inside > 0)
    n, parts, stats, _ = cv2.connectedComponentsWithStats(held.astype(np.uint8),
                                                          connectivity=8)
    # writing inside: a piece at least a quarter of the ring's height that reaches well
    # into it (not specks, nor what a thick "0" leaves along its own ring)
    depth = np.zeros(n)
    np.maximum.at(depth, parts[held], away[held])
    writing = (stats[:, 3] >= 0.25 * min(a, b)) & (depth >= thick + 0.25 * min(a, b) / 2)
    # and room around it: a ring is mostly empty inside (a blot or a shadow is not)
    if held.sum() > 0.5 * (inside > 0).sum():
        return None
    nothing = np.zeros(sub.shape, bool)  # a closed curve holding no number: no mark at all
    if not writing[1:].any():
        return nothing  # an empty ring, or a wide "0": its flat bottom is no underline
    # a number fills a ring along its length (a ring is wider than tall, so it holds two
    # digits or more): the writing spans half of it. What a wide "0" or two touching 0s
    # hold (the pen's curl, the strokes where they meet) is narrow
    keep = np.flatnonzero(writing[1:]) + 1
    left = stats[keep, 0].min()
    right = (stats[keep, 0] + stats[keep, 2]).max()
    if right - left < SPAN * sub.shape[1]:
        return nothing
    return ring


def marks(mask: np.ndarray, tallest: float = np.inf) -> np.ndarray:
    """Bool mask of the pixels of `mask` (ink, bool or uint8) on lines under, over or
    through writing, where they do not cross a stroke of it (a 4 or a 7 reaching through
    an underline stays whole), on the sides of a box whose top and bottom are such lines,
    and on rings round writing. Writing taller than `tallest` px is not looked at."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8),
                                                           connectivity=8)
    return _marks_of(labels, stats, np.arange(1, n), tallest)


def _marks_of(labels: np.ndarray, stats: np.ndarray, ids: np.ndarray,
              tallest: float) -> np.ndarray:
    """`marks` of the components `ids` of `labels` (with their `stats`), the others left
    out as if they were not there."""
    out = np.zeros(labels.shape, bool)
    every = ids.size == stats.shape[0] - 1
    for i in ids:
        x, y, w, h = (int(v) for v in stats[i, :4])
        if min(w, h) < MIN_RING and w < MIN_LENGTH:
            continue
        box = labels[y:y + h, x:x + w]
        sub = (box == i).astype(np.uint8)
        found = None
        if min(w, h) >= MIN_RING and h <= tallest:
            ink = box > 0 if every else np.isin(box, ids)
            found = _ring(sub, ink.astype(np.uint8))
        if found is None:
            found = np.zeros(sub.shape, bool)
            # a second pass finds the line that the first one left on the writing (the
            # upper line of a double underline, when the lower one was fitted first)
            for _ in range(2 if w >= _least(h) else 0):
                more = _component((sub & ~found).astype(np.uint8), tallest)
                if not more.any():
                    break
                found |= more
        out[y:y + h, x:x + w] |= found
    return out


def marks_in_surround(weak: np.ndarray, around: np.ndarray) -> np.ndarray:
    """`marks` of the thin parts of the surround (`preprocess.surround` of `weak`, the
    pixels departing from the paper): a form's printed line runs to the frame's edge, and
    the digits written on it would go with it. A table or a shadow is a thick region
    (over a quarter of its box) and is not searched, and what touches a form's line is
    handwriting, under a fifth of the frame's shorter side tall (a finger or a shadow on a
    sheet's edge is not)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (weak & around).astype(np.uint8), connectivity=8)
    thin = np.flatnonzero(stats[:, 4] <= THIN_REGION * stats[:, 2] * stats[:, 3])
    thin = thin[(thin > 0) & (stats[thin, 2] >= MIN_LENGTH)]
    if not thin.size:
        return np.zeros(weak.shape, bool)
    return _marks_of(labels, stats, thin, FORM_WRITING * min(weak.shape))
