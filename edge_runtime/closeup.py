"""Close-ups and tight crops: a digit that fills the frame, read again inside a margin.

The reader expects digits written on a page, smaller than the frame: ink that touches the
border or spans most of the frame is taken for the table or the page's edge, and the paper's
brightness is estimated over windows a fraction of the frame wide. A phone photo of one digit,
a digit drawn on a small canvas or a crop cut tight around a digit breaks both assumptions:
the digit touches the border or spans the frame, and its strokes are as wide as the window,
so their insides count as paper. Set inside a margin of its own paper colour, the same image
is an ordinary page with a digit on it.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.edge_runtime.preprocess import limit_size
from digitedge.edge_runtime.types import Box, Digit, Reading

CLOSE_FRACTION = 0.4  # a digit at least this share of the frame's height or width: close-up
MARGIN = 0.5  # margin added on each side, as a share of the frame's longer side
MAX_RING = 0.2  # see `large_shape`; measured: 7 of 300 wild scenes pass it and the
MAX_FILL = 0.6  # stroke-like test, against 364 of 400 single-digit close-ups and crops
SURE = 0.9  # see `closer_reading`
MIN_SIDE = 320  # px: `add_margin` shrinks its image to no less than this longer side
TEST_SIDE = 160  # px: `large_shape` looks at the frame shrunk to this (shapes, not detail)
INK_SHARE = 0.005  # of the frame: see `has_ink` (a close-up's strokes cover far more)


def close_digits(reading: Reading, shape: tuple[int, ...]) -> bool:
    """Whether `reading` of a frame of `shape` (height, width, ...) may be a close-up
    misread by what it found: nothing, or a digit (accepted or not) as large as a
    close-up's."""
    return not reading.digits or any(_large(d, shape)
                                     for d in (*reading.digits, *reading.rejected))


def _ring(image: np.ndarray) -> np.ndarray:
    """The frame's outermost pixels, each once."""
    return np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])


def large_shape(gray: np.ndarray) -> bool:
    """Whether the minority side of the frame's Otsu split (the ink, in a close-up) holds
    a stroke-like shape (at most MAX_FILL of its box inked: a shadow or a table is solid)
    at least CLOSE_FRACTION of the frame's height or width, with at most MAX_RING of the
    frame's outermost pixels on that side (a table around a page covers much of the
    border; a digit cut tight meets it at a few strokes)."""
    small, _ = limit_size(gray, TEST_SIDE)
    _, split = cv2.threshold(cv2.GaussianBlur(small, (0, 0), 1.0), 0, 1,
                             cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if split.mean() > 0.5:
        split = 1 - split
    if _ring(split).mean() > MAX_RING:
        return False
    _, _, stats, _ = cv2.connectedComponentsWithStats(split, connectivity=8)
    h, w = split.shape
    bw, bh, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
    large = (bh >= CLOSE_FRACTION * h) | (bw >= CLOSE_FRACTION * w)
    return bool((large & (area <= MAX_FILL * bw * bh)).any())


def has_ink(gray: np.ndarray, min_contrast: float) -> bool:
    """Whether anything in the frame departs from its paper colour (`paper_colour`) by at
    least `min_contrast` grey levels, either way: the darkest and brightest INK_SHARE of
    the frame, shrunk and lightly blurred (no noise spike counts). A blank page under
    uneven light holds only the slope of the light; inside a margin of one colour its
    brighter side became a step that read as a big "1"."""
    small, _ = limit_size(gray, TEST_SIDE)
    small = cv2.GaussianBlur(small, (0, 0), 1.0).astype(np.float32)
    paper = paper_colour(small)
    low, high = np.percentile(small, [100 * INK_SHARE, 100 * (1 - INK_SHARE)])
    return bool(max(paper - low, high - paper) >= min_contrast)


def paper_colour(gray: np.ndarray) -> int:
    """The median of the frame's outermost pixels: paper in a close-up or a crop, where the
    digit meets the border only at a few points."""
    return int(np.median(_ring(gray)))


def add_margin(gray: np.ndarray) -> tuple[np.ndarray, int, float]:
    """`gray` inside a margin of its paper colour, shrunk back towards the frame's own
    longer side (not under MIN_SIDE) so the second reading costs about what the first
    did: returns (image, margin in original pixels, scale of the image to the margined
    frame). A digit that fills the frame loses nothing at half its size."""
    pad = max(1, round(MARGIN * max(gray.shape[:2])))
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT,
                                value=paper_colour(gray))
    small, scale = limit_size(padded, max(max(gray.shape[:2]), MIN_SIDE))
    return small, pad, scale


def _unpad(d: Digit, pad: int, scale: float, shape: tuple[int, ...]) -> Digit:
    h, w = shape[:2]
    left, top = d.box.x / scale - pad, d.box.y / scale - pad
    right, bottom = (d.box.x + d.box.w) / scale - pad, (d.box.y + d.box.h) / scale - pad
    x0, y0 = min(max(round(left), 0), w - 1), min(max(round(top), 0), h - 1)
    x1, y1 = min(max(round(right), x0 + 1), w), min(max(round(bottom), y0 + 1), h)
    return d._replace(box=Box(x0, y0, x1 - x0, y1 - y0))


def unpad(reading: Reading, pad: int, scale: float, shape: tuple[int, ...]) -> Reading:
    """`reading` of `add_margin`'s image with its boxes moved back onto the original frame
    of `shape` (clipped to it)."""
    return reading._replace(
        digits=tuple(_unpad(d, pad, scale, shape) for d in reading.digits),
        rejected=tuple(_unpad(d, pad, scale, shape) for d in reading.rejected))


def _large(d: Digit, shape: tuple[int, ...]) -> bool:
    return d.box.h >= CLOSE_FRACTION * shape[0] or d.box.w >= CLOSE_FRACTION * shape[1]


def _inside(box: Box, outer: Box) -> bool:
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    return outer.x <= cx <= outer.x + outer.w and outer.y <= cy <= outer.y + outer.h


def closer_reading(again: Reading, first: Reading, shape: tuple[int, ...],
                   shaped: bool) -> bool:
    """Whether `again` (the margined reading, boxes on the original frame of `shape`)
    should replace `first`: it reads only close-up-sized digits (on an ordinary page the
    margin changes nothing worth taking) and is surer, by the mean confidence of its
    digits (none counts as 0): fragments of a digit and a stroke's halo read unsure.
    When `first` found nothing, the frame must also hold a close-up's shape (`shaped`,
    from `large_shape`) or `again` be at most two sure digits: in an empty page the margin
    turns the sheet's outline and its ruling into big, often unsure or many "digits"."""
    if not again.digits or not all(_large(d, shape) for d in again.digits):
        return False
    if not first.digits and not shaped and (
            len(again.digits) > 2 or min(d.confidence for d in again.digits) < SURE):
        return False
    # what the first reading found must be parts of those digits: on a page, the margin
    # only turns what touched the border (a table's edge, the sheet's outline) into shapes
    if not all(any(_inside(d.box, big.box) for big in again.digits) for d in first.digits):
        return False

    def mean(r: Reading) -> float:
        return float(np.mean([d.confidence for d in r.digits])) if r.digits else 0.0
    return mean(again) > mean(first)
