"""Which ink blobs can be digits: the blob type, its limits, and the filters that drop the rest.

Every rule is relative to the image or to the other candidates, so it holds for a 28-pixel
crop and a 12-megapixel photo alike. `segment.py` applies them in order.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from digitedge.edge_runtime.mnistify import stroke_width
from digitedge.edge_runtime.types import Box


class Blob(NamedTuple):
    """One digit candidate: its box and the connected components it is made of."""

    box: Box  # in mask pixels
    parts: tuple[int, ...]  # component labels in `Segmentation.labels`
    area: int  # ink pixels


class SegmentConfig(NamedTuple):
    """Limits deciding which ink blobs can be digits."""

    min_height: int = 8  # px; smaller blobs cannot be read reliably at 28x28
    min_area: int = 12  # px of ink
    max_wide_aspect: float = 2.0  # width/height above this is a dash or a ruled line
    max_tall_aspect: float = 15.0  # height/width above this is a vertical rule, not a "1"
    max_image_frac: float = 0.9  # a blob spanning more of the image is a page edge or frame
    drop_border: bool = True  # blobs touching the image edge are cut off or the page edge
    min_rel_height: float = 0.4  # vs the line's median height: specks, dots and dashes
    max_rel_height: float = 2.0  # vs the median height: long lines, big shapes
    max_fill: float = 0.85  # ink / box area above this, with a wide box, is a solid blob
    max_dot_fill: float = 0.75  # above this with no hole: a dot or smudge, not a digit...
    dot_aspect: float = 0.8  # ...if at least this wide for its height (dots are round)
    split_aspect: float = 1.25  # wider than this (and with a thin neck): touching digits


REL_OBSTACLE_MARGIN = 0.025  # at most this share of the shorter side is kept clear of an
# obstacle (see `near_obstacles`)
REL_LONG_BAND = 0.25  # a thin band longer than this share of the image's shorter side is
# a sheet's or table's edge as likely as a digit: it does not set the typical digit height


def own_pixels(labels: np.ndarray, blob: Blob) -> np.ndarray:
    """Bool mask of the blob's own pixels inside its box (neighbours reaching in excluded)."""
    x, y, w, h = blob.box
    return np.isin(labels[y:y + h, x:x + w], blob.parts)


def drop_specks(mask: np.ndarray, min_area: int = 3) -> np.ndarray:
    """Bool mask of `mask`'s ink without its 8-connected specks under `min_area` pixels."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8),
                                                           connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return keep[labels]


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def edge_or_frame(blob: Blob, shape: tuple[int, int], cfg: SegmentConfig) -> bool:
    """A blob touching the image border (page edge, cut-off object) or spanning the image."""
    x, y, w, h = blob.box
    img_h, img_w = shape
    if w > cfg.max_image_frac * img_w or h > cfg.max_image_frac * img_h:
        return True
    touches = x == 0 or y == 0 or x + w == img_w or y + h == img_h
    return cfg.drop_border and touches


def sheet_outline(labels: np.ndarray, blob: Blob, shape: tuple[int, int],
                  min_frac: float = 0.25, corner: float = 0.05) -> bool:
    """The rim of a bright sheet on a dark table, read as light ink: a blob spanning over
    `min_frac` of the image each way with ink in all four corners of its box.

    Against a local background the inside of a sheet is paper and only its rim stands
    out, so the rim is one rectangular ring, and rings read as a confident "0" (three of
    2,200 tuning and check scenes lost their number to it; a quarter, not a third, so that
    the close-up reading's margined frame, where the sheet is smaller, drops it too).
    Written digits do not reach all four corners of their box: none of the 1,000 sample
    digits does, even dilated by 3 px (5 do by 2 px with corner patches of 0.12)."""
    w, h = blob.box.w, blob.box.h
    if w < min_frac * shape[1] or h < min_frac * shape[0]:
        return False
    own = own_pixels(labels, blob)
    k = max(1, round(corner * min(w, h)))
    return all(own[rows, cols].any() for rows in (slice(0, k), slice(h - k, h))
               for cols in (slice(0, k), slice(w - k, w)))


def plausible(blob: Blob, shape: tuple[int, int], cfg: SegmentConfig) -> bool:
    """Absolute tests a whole digit must pass, before looking at its neighbours."""
    w, h = blob.box.w, blob.box.h
    if h < cfg.min_height or blob.area < cfg.min_area:
        return False
    if w > cfg.max_wide_aspect * h or h > cfg.max_tall_aspect * w:
        return False
    return not edge_or_frame(blob, shape, cfg)


def drop_containers(blobs: list[Blob], min_inner: float = 0.0) -> list[Blob]:
    """Drop blobs whose box holds a much smaller blob well inside it: a frame or a circle
    drawn around digits. A piece touching its box's edge (a 6's loop) does not count, nor
    a speck under `min_inner` px and a fifth of the frame's height: a chalk digit's loop
    holds specks of board, not digits (the fifth keeps a frame a frame when `min_inner`,
    set from the digit height, is itself too big because frames set that height)."""
    keep = []
    for a in blobs:
        ax, ay, aw, ah = a.box
        margin = 0.05 * ah
        inside = any(
            b is not a and b.box.h <= ah / 1.6 and (b.box.h >= min_inner or b.box.h >= 0.2 * ah)
            and b.box.x >= ax + margin and b.box.y >= ay + margin
            and b.box.x + b.box.w <= ax + aw - margin and b.box.y + b.box.h <= ay + ah - margin
            for b in blobs)
        if not inside:
            keep.append(a)
    return keep


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def reference_height(blobs: list[Blob], long_side: float | None = None) -> float:
    """The typical digit height: the ink-weighted median height, recomputed without outliers.

    Weighting by ink area lets a few real digits outvote many specks of texture or noise;
    capping each weight at four times the median area keeps one big blot (glare on a board, a
    smudge, a shadow) from outvoting a whole row of small digits. With `long_side`, long
    thin bands (longer than that, over 3.5 times longer than wide: pieces of a sheet's edge,
    a rule, a table edge) do not vote unless nothing else does: two such strips beside a
    lone digit would otherwise outvote it and get it dropped as a speck. Likewise, when
    some blobs stand in a row with a neighbour of about their height (upright, side by
    side: the digits of a number), only those vote: a finger tip or a shadow's corner
    beside one short number has more ink than its two digits but no row of its own.
    """
    if long_side is not None:
        blobs = [b for b in blobs if not _long_band(b, long_side)] or blobs
        blobs = [b for b, m in zip(blobs, _row_mates(blobs), strict=True) if m] or blobs
    heights = np.array([b.box.h for b in blobs], dtype=np.float32)
    weights = np.array([b.area for b in blobs], dtype=np.float64)
    weights = np.minimum(weights, 4.0 * np.median(weights))
    ref = _weighted_median(heights, weights)
    near = (heights >= 0.5 * ref) & (heights <= 2.0 * ref)
    return _weighted_median(heights[near], weights[near]) if near.any() else ref


def _row_mates(blobs: list[Blob]) -> np.ndarray:
    """Per blob: whether another upright blob of about its height stands beside it in a
    row, as neighbouring digits of a number or a line of writing do."""
    x, y, w, h = (np.array([b.box[i] for b in blobs], dtype=np.float32)[:, None]
                  for i in range(4))
    upright = w < 0.9 * h
    ratio = h.T / h
    v_overlap = np.minimum(y + h, (y + h).T) - np.maximum(y, y.T)
    gap = np.maximum(x, x.T) - np.minimum(x + w, (x + w).T)
    mate = (upright & upright.T & (ratio >= 0.67) & (ratio <= 1.5)
            & (v_overlap >= 0.5 * np.minimum(h, h.T)) & (gap <= np.maximum(h, h.T)))
    np.fill_diagonal(mate, False)
    return mate.any(axis=1)


def _long_band(blob: Blob, long_side: float) -> bool:
    w, h = blob.box.w, blob.box.h
    return max(w, h) > long_side and max(w, h) > 3.5 * min(w, h)


def _has_hole(labels: np.ndarray, blob: Blob) -> bool:
    own = own_pixels(labels, blob).astype(np.uint8)
    _, hierarchy = cv2.findContours(own, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return hierarchy is not None and bool((hierarchy[0][:, 3] >= 0).any())


def size_outliers(labels: np.ndarray, blobs: list[Blob], cfg: SegmentConfig) -> list[Blob]:
    """Drop blobs far from the typical digit size, and solid blobs (shadows, stickers, dots).

    A round blob without a hole that fills most of its box is a dot or a smudge: written
    digits without a loop (1, 2, 3, 5, 7) are strokes and fill far less of their box. A
    thick marker can fill a narrow digit's box as much (and close the loops of an 8), but a
    digit is taller than wide while a dot is round, so only roundish blobs count as dots.
    Long bands (see `reference_height`) do not vote on the typical size. A solid blob in a
    line beside a digit, at its height (`line_mate`), stays: blur fills every loop of a
    small 8 or 0, while dots and blots do not line up with the writing at its size.
    """
    if not blobs:
        return blobs
    ref = reference_height(blobs, REL_LONG_BAND * min(labels.shape[:2]))
    sized = [b for b in blobs if cfg.min_rel_height * ref <= b.box.h <= cfg.max_rel_height * ref]
    solid = [_solid(labels, b, cfg) for b in sized]
    kept = [b for b, s in zip(sized, solid, strict=True) if not s]
    return [b for b, s in zip(sized, solid, strict=True)
            if not s or vouched(b, kept)]


def _solid(labels: np.ndarray, b: Blob, cfg: SegmentConfig) -> bool:
    """A filled box (sticker, shadow) or a round filled blob without a hole (dot, blot)."""
    fill = b.area / float(b.box.w * b.box.h)
    boxy = b.box.w > 0.5 * b.box.h and fill > cfg.max_fill
    return boxy or (b.box.w >= cfg.dot_aspect * b.box.h and fill > cfg.max_dot_fill
                    and not _has_hole(labels, b))


def near_obstacles(labels: np.ndarray, blobs: list[Blob], obstacles: list[Blob],
                   margin: int) -> list[Blob]:
    """Drop blobs within `margin` px of an obstacle (the page edge, a frame, the table).

    Thresholding the ragged edge of a sheet or a textured table leaves fragments just off
    the big component; real digits keep a margin from the page edge. The caller scales the
    margin with the digit height but caps it (`REL_OBSTACLE_MARGIN`): the fragments lie
    as close to the edge whatever the digits' size, while a close-up digit written near
    the top of the sheet does not keep a margin of a sixth of its height.
    """
    if not obstacles or not blobs:
        return blobs
    zone = np.isin(labels, [p for o in obstacles for p in o.parts]).astype(np.uint8)
    size = 2 * max(1, margin) + 1
    zone = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    keep = []
    for b in blobs:
        x, y, w, h = b.box
        if not (zone[y:y + h, x:x + w] & own_pixels(labels, b)).any():
            keep.append(b)
    return keep


def vertical_dashes(blobs: list[Blob], min_count: int = 3) -> list[Blob]:
    """Drop thin upright blobs stacked in one column: the dashes of a broken margin line.

    Each dash alone looks like a "1"; three or more in a column, each on its own line,
    are a vertical rule the threshold broke up.
    """
    thin = [b for b in blobs if b.box.w < 0.35 * b.box.h]
    drop: set[int] = set()
    for a in thin:
        # stacked, not side by side: a written "1111" is a row of thin blobs too
        column = [b for b in thin
                  if overlap(a.box.x - a.box.w, a.box.x + 2 * a.box.w, b.box.x,
                              b.box.x + b.box.w) > 0
                  and (b is a or overlap(a.box.y, a.box.y + a.box.h, b.box.y, b.box.y + b.box.h)
                       < 0.3 * min(a.box.h, b.box.h))]
        # count the lines the column spans: "1 11" below a "1" is two lines, not three
        tiers: list[Blob] = []
        for b in sorted(column, key=lambda b: b.box.y):
            if not tiers or overlap(tiers[-1].box.y, tiers[-1].box.y + tiers[-1].box.h,
                                    b.box.y, b.box.y + b.box.h) \
                    < 0.3 * min(tiers[-1].box.h, b.box.h):
                tiers.append(b)
        if len(tiers) >= min_count:
            drop.update(id(b) for b in column)
    return [b for b in blobs if id(b) not in drop]


def cluttered(labels: np.ndarray, blobs: list[Blob], pieces: list[Blob], ref: float,
              max_ratio: float = 1.0) -> list[Blob]:
    """Drop blobs sitting in clutter: much stray ink around them that is not a candidate.

    Digits are written on a clean surface; a blob surrounded by specks is a piece of a
    texture (wood grain, fabric, a textured table beyond the page), whatever it looks like.
    """
    if not blobs:
        return blobs
    taken = {p for b in blobs for p in b.parts}
    # stray ink: small pieces only; rules, underlines and page edges are not texture
    small = [b.parts[0] for b in pieces if b.parts[0] not in taken
             and max(b.box.w, b.box.h) < ref]
    stray = np.isin(labels, small).astype(np.uint8)
    integral = cv2.integral(stray)
    h, w = labels.shape
    pad = int(0.5 * ref)
    keep = []
    for b in blobs:
        x0, y0 = max(0, b.box.x - pad), max(0, b.box.y - pad)
        x1, y1 = min(w, b.box.x + b.box.w + pad), min(h, b.box.y + b.box.h + pad)
        around = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
        if around <= max_ratio * b.area:
            keep.append(b)
    return keep


class Ink(NamedTuple):
    """How a blob is written, for comparing it with the other candidates."""

    stroke: float  # stroke width in px (`mnistify.stroke_width`)
    strength: float  # median ink strength of its pixels (0 without a strength image)


def measure_ink(labels: np.ndarray, blobs: list[Blob], strength: np.ndarray | None
                ) -> dict[Blob, Ink]:
    """Each blob's stroke width and median strength, measured once for the filters that
    compare one blob's writing with the others' (`fat_blobs`, `faint_blobs`, `smears`)."""
    out = {}
    for b in blobs:
        own = own_pixels(labels, b)
        x, y, w, h = b.box
        median = 0.0 if strength is None else float(np.median(strength[y:y + h, x:x + w][own]))
        out[b] = Ink(stroke_width(own), median)
    return out


def mask_box(mask: np.ndarray, x: int, y: int) -> Box:
    """The box of `mask`'s nonzero pixels, for a mask whose top-left corner is at (x, y)."""
    ys, xs = np.nonzero(mask)
    return Box(x + int(xs.min()), y + int(ys.min()), int(xs.max() - xs.min()) + 1,
               int(ys.max() - ys.min()) + 1)


def faint_blobs(blobs: list[Blob], ink: dict[Blob, Ink], ratio: float = 0.5,
                floor: float = 0.3) -> list[Blob]:
    """Drop blobs whose ink is much fainter than the digits': smudges, shadows, a finger's
    or a board's edge caught by the threshold.

    One pen writes a note, so its digits stand out from the paper about equally (strength
    is already relative to the local light); a blot that barely clears the threshold while
    the others are several times stronger is not writing. The reference is the 80th
    percentile of the blobs' median strengths, so one inky blot does not set it alone.
    Light still varies along a line (chalk in a board's dim corner, a pencil pressed less),
    so a faint blob down to `floor` of the reference stays when it sits on a line beside a
    strong digit of its height: blots do not line up with the writing at its size.
    """
    if len(blobs) < 2:
        return blobs
    ref = float(np.percentile([ink[b].strength for b in blobs], 80))
    strong = [b for b in blobs if ink[b].strength >= ratio * ref]
    return [b for b in blobs if ink[b].strength >= ratio * ref
            or (ink[b].strength >= floor * ref and vouched(b, strong))]


MATE_GAP = 0.8  # at most this many mate heights apart, side by side
MATE_HEIGHT = (0.75, 1.3)  # height / the mate's height
MATE_OVERLAP = 0.75  # of the shorter one's height shared with the mate's rows


def line_mate(box: Box, mate: Box) -> bool:
    """Whether `mate` is the neighbour of a digit in `box` in a line of writing: beside it,
    about as tall, on the same rows."""
    x, y, w, h = box
    mx, my, mw, mh = mate
    rows = min(y + h, my + mh) - max(y, my)
    gap = max(mx - (x + w), x - (mx + mw), 0)
    return (rows >= MATE_OVERLAP * min(h, mh) and gap <= MATE_GAP * mh
            and MATE_HEIGHT[0] * mh <= h <= MATE_HEIGHT[1] * mh)


def vouched(blob: Blob, writing: list[Blob]) -> bool:
    """Whether a blob of `writing` is `blob`'s neighbour in a line (`line_mate`): the filters
    that drop odd blobs keep one the writing vouches for."""
    return any(line_mate(blob.box, mate.box) for mate in writing)
