"""Ruled and squared paper: find the printed lines, so they count as paper and not as ink.

Exercise books are ruled or squared, and people write across the lines. Left in, the lines
join every digit they touch into a net that spans the frame, which `preprocess.surround`
takes for a table or a page edge (so the digits go with it), and strong lines pass the ink
threshold and bury the digits. Ruling is told apart by its geometry: long, thin, straight
lines, at least four of them parallel. A digit's stroke is short; a sheet's edge or a
table's rim is one or two lines, and a table is a thick region, not a line.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_LINES = 4  # parallel long lines it takes to call it ruling (a sheet has two edges a side)
MIN_SPAN = 0.5  # a line is thin along at least this much of the frame's width (or height)
MAX_THICK = 3  # quarter-size pixels across a line (12 px at full size)
RUN = 0.15  # the line kernel's length, as a fraction of the frame's shorter side
LINE_WIDTH = 5  # px at full size: a printed line drawn back along its fit
SHORT = 8  # quarter-size pixels: a piece of line shorter than this is not fitted alone
STRAIGHT = 3.0  # degrees: ruling turned less than this is searched as it is


def _bridge(band: np.ndarray, size: int) -> np.ndarray:
    """`band` with gaps of under `size` pixels along the rows closed."""
    return cv2.morphologyEx(band, cv2.MORPH_CLOSE, np.ones((1, size), np.uint8))


def _family(q: np.ndarray, vertical: bool, length: int) -> np.ndarray:
    """The thin pixels of the long lines of one direction in the quarter-size mask `q`, if
    there are at least MIN_LINES such lines, else nothing."""
    if vertical:
        return _family(q.T.copy(), False, length).T
    qw = q.shape[1]
    none = np.zeros_like(q)
    # pixels in runs of at most MAX_THICK across the line's direction: a line, not the
    # stroke of a digit that crosses it (or a line of the other direction)
    thin = q & ~cv2.morphologyEx(q, cv2.MORPH_OPEN, np.ones((MAX_THICK + 1, 1), np.uint8))
    # a 3-px-tall band holds a line turned by up to atan(3 / length), about 9 degrees;
    # short breaks in the thin lines are bridged (a faint line is not above the noise
    # everywhere), but not the gaps between the lines of the other direction
    across = np.ones((3, 1), np.uint8)
    band = _bridge(cv2.dilate(q, across), 3) | _bridge(cv2.dilate(thin, across), 5)
    long = cv2.morphologyEx(band, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    n, labels = cv2.connectedComponents(long, connectivity=8)
    if n <= MIN_LINES:
        return none
    # a line's thin pixels cover at least MIN_SPAN of the columns (writing that crosses it
    # may join it to the next line: the two then count as one)
    ys, xs = np.nonzero(thin & (labels > 0))
    cover = np.zeros((n, qw), bool)
    cover[labels[ys, xs], xs] = True
    lines = cover.sum(axis=1) >= MIN_SPAN * qw
    lines[0] = False
    if lines.sum() < MIN_LINES:
        return none
    return thin & lines[labels].astype(np.uint8)


def _fit(pieces: np.ndarray) -> tuple[np.ndarray, ...]:
    """Least-squares lines through the pieces of line in the quarter-size mask `pieces`
    (rows direction): per piece x0, x1, slope, offset (y = slope * x + offset) and whether
    it was long enough to fit alone."""
    # a line's crossings with the other direction are not thin: bridge them, so a piece
    # runs from one digit that crosses the line to the next
    n, labels = cv2.connectedComponents(_bridge(pieces, 3), connectivity=8)
    ys, xs = np.nonzero(pieces)
    ids = labels[ys, xs]
    x, y = xs.astype(np.float64), ys.astype(np.float64)
    count, sx, sy = (np.bincount(ids, v, minlength=n) for v in (None, x, y))
    sxx, sxy = np.bincount(ids, x * x, minlength=n), np.bincount(ids, x * y, minlength=n)
    spread = count * sxx - sx * sx
    x0, x1 = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(x0, ids, x)
    np.maximum.at(x1, ids, x)
    long = (x1 - x0 >= SHORT) & (spread > 0)
    slope = np.zeros(n)
    slope[long] = (count[long] * sxy[long] - sx[long] * sy[long]) / spread[long]
    # a short piece (between two digits) takes the slope of the long ones
    slope[~long] = float(np.median(slope[long])) if long.any() else 0.0
    keep = np.flatnonzero(count)
    offset = (sy[keep] - slope[keep] * sx[keep]) / count[keep]
    return x0[keep], x1[keep], slope[keep], offset, long[keep]


def _fits(pieces: list[np.ndarray]) -> list[tuple[np.ndarray, ...] | None]:
    """`_fit` of the horizontal and the vertical pieces (those transposed), None for a
    direction without any."""
    return [_fit(found.T.copy() if vertical else found) if found.any() else None
            for vertical, found in zip((False, True), pieces, strict=True)]


def _turn(fits: list[tuple[np.ndarray, ...] | None]) -> float:
    """Degrees the ruling is turned counter-clockwise in the frame, from the slopes of the
    long pieces of both directions (0 when there are none)."""
    turns: list[float] = []
    for sign, fit in zip((-1.0, 1.0), fits, strict=True):
        if fit is not None:
            *_, slope, _, long = fit
            turns.extend(sign * np.degrees(np.arctan(slope[long])))
    return float(np.median(turns)) if turns else 0.0


def _lines(fits: list[tuple[np.ndarray, ...] | None], shape: tuple[int, int]) -> np.ndarray:
    """Full-size uint8 canvas with each fitted piece of line drawn, LINE_WIDTH px wide."""
    canvas = np.zeros(shape, np.uint8)
    for vertical, fit in zip((False, True), fits, strict=True):
        if fit is None:
            continue
        # a vertical piece's fit is of its transpose: drawn on the transposed canvas
        target = np.zeros(shape[::-1], np.uint8) if vertical else canvas
        for x0, x1, slope, offset, _ in zip(*fit, strict=True):
            # from a quarter-size pixel beyond each end, through the pixels' centres, in
            # full-size coordinates
            a, b = int(x0) - 1, int(x1) + 1
            p0 = (4 * a, round(4 * (slope * a + offset) + 1.5))
            p1 = (4 * b + 3, round(4 * (slope * b + offset) + 1.5 + 3 * slope))
            cv2.line(target, p0, p1, 1, LINE_WIDTH)
        if vertical:
            canvas |= target.T
    return canvas


def ruling(weak: np.ndarray) -> np.ndarray:
    """Bool mask (like `weak`) of the pixels of `weak` on ruled or squared paper lines.

    `weak` is every pixel that departs from the paper on the ink's side, lines included.
    The search runs at quarter size (4x4 max-pool), which keeps a 1-px line and makes the
    line kernels cheap. Each piece of line found there (between the digits that cross it)
    is drawn back at full size as the straight line fitted through it, so writing beside
    a line is not taken for it. A page turned in the frame is searched again turned
    straight (the kernels find only some of the lines of a page turned 10 degrees or more).
    """
    h, w = weak.shape
    q = cv2.resize(weak.astype(np.uint8) * 255, (max(1, w // 4), max(1, h // 4)),
                   interpolation=cv2.INTER_AREA)
    q = (q > 0).astype(np.uint8)
    length = max(8, round(RUN * min(q.shape)))
    fits = _fits([_family(q, vertical, length) for vertical in (False, True)])
    turn = _turn(fits)
    if abs(turn) <= STRAIGHT:
        return (_lines(fits, (h, w)) > 0) & weak
    # turned straight on a canvas large enough to hold the whole frame (its corners too)
    qh, qw = q.shape
    straight = cv2.getRotationMatrix2D((qw / 2, qh / 2), -turn, 1.0)
    cos, sin = abs(straight[0, 0]), abs(straight[0, 1])
    sw, sh = int(np.ceil(qw * cos + qh * sin)), int(np.ceil(qw * sin + qh * cos))
    straight[:, 2] += ((sw - qw) / 2, (sh - qh) / 2)
    q = cv2.warpAffine(q, straight, (sw, sh), flags=cv2.INTER_NEAREST)
    fits = _fits([_family(q, vertical, length) for vertical in (False, True)])
    # the same turn at full size maps the frame onto the drawn canvas: read it back so
    full = np.hstack([straight[:, :2], 4 * straight[:, 2:]])
    canvas = cv2.warpAffine(_lines(fits, (4 * sh, 4 * sw)), full, (w, h),
                            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    return (canvas > 0) & weak


def rejoin(rest: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """`rest` (bool, the departing pixels off the ruling) with the pixels of `lines` added
    back where something crosses a line: a sheet's edge, a margin line or a pen stroke that
    crosses the ruling stays one piece, while the ruling no longer joins what it touches."""
    if not lines.any():
        return rest
    size = 2 * LINE_WIDTH + 1  # two drawn pieces can overlap at a crossing
    r = rest.astype(np.uint8)
    across = cv2.morphologyEx(r, cv2.MORPH_CLOSE, np.ones((size, 1), np.uint8)) \
        | cv2.morphologyEx(r, cv2.MORPH_CLOSE, np.ones((1, size), np.uint8))
    return rest | (lines & (across > 0))
