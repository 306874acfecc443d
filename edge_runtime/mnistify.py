"""Turn one digit's ink mask into a 28x28 MNIST-style tensor, the way MNIST itself was made.

MNIST digits were fitted into a 20x20 box keeping their aspect ratio (anti-aliased, so the
edges are gray), then placed in a 28x28 field with their centre of mass at the centre. We do
the same, and also bring the stroke width near MNIST's (about 2.2 px at that scale), because
a marker pen or a tiny far-away digit otherwise looks nothing like what the model learned.
"""

from __future__ import annotations

import cv2
import numpy as np

MNIST_SIZE = 28
FIT_SIZE = 20  # MNIST's digits fill a 20x20 box
MNIST_STROKE = 2.2  # median stroke width of MNIST test digits at 28x28 (2*area/perimeter)
CANONICAL = 4  # stroke width is adjusted at 4x the final scale, where a pixel is fine enough


def tight_crop(mask: np.ndarray) -> np.ndarray:
    """The smallest sub-array holding every nonzero pixel (empty input -> 0x0 array)."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return mask[:0, :0]
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary mask: 2 * area / perimeter.

    For a thin stroke of length L and width w the area is L*w and the outline about 2L, so
    this is w without having to skeletonise.
    """
    binary = (mask > 0).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    if perimeter <= 0:
        return 0.0
    return 2.0 * float(binary.sum()) / perimeter


def fit_box(mask: np.ndarray, side: int, interpolation: int) -> np.ndarray:
    """Resize so the longer side is `side`, keeping the aspect ratio (shorter side >= 1)."""
    h, w = mask.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(mask, size, interpolation=interpolation)


def to_canonical(mask: np.ndarray) -> np.ndarray:
    """Binary 0/255 mask with its longer side at CANONICAL * FIT_SIZE pixels, smooth edges."""
    side = CANONICAL * FIT_SIZE
    interp = cv2.INTER_AREA if max(mask.shape) > side else cv2.INTER_LINEAR
    big = fit_box(mask.astype(np.uint8), side, interp)
    return np.where(big >= 128, 255, 0).astype(np.uint8)


def match_stroke(mask: np.ndarray, target: float, low: float = 0.75,
                 high: float = 1.35) -> np.ndarray:
    """Dilate thin strokes or erode thick ones so their width comes near `target`.

    Widths within [low, high] * target are left alone: MNIST itself varies that much, and
    every morphological step also rounds corners. Erosion never deletes the digit.
    """
    width = stroke_width(mask)
    if width <= 0:
        return mask
    radius = int(round(abs(target - width) / 2))
    if radius == 0 or low * target <= width <= high * target:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    if width < target:
        padded = cv2.copyMakeBorder(mask, radius, radius, radius, radius, cv2.BORDER_CONSTANT)
        return cv2.dilate(padded, kernel)
    thinner = cv2.erode(mask, kernel)
    return thinner if thinner.any() else mask


def center_of_mass_shift(image: np.ndarray) -> np.ndarray:
    """Translate a 28x28 image so its centre of mass lands on (14, 14), as in MNIST."""
    m = cv2.moments(image.astype(np.float32))
    if m["m00"] <= 0:
        return image
    cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    h, w = image.shape
    shift = np.float32([[1, 0, w / 2 - cx], [0, 1, h / 2 - cy]])
    return cv2.warpAffine(image, shift, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def mnistify(mask: np.ndarray, *, stroke: float | None = MNIST_STROKE) -> np.ndarray:
    """One digit's mask (nonzero = ink, any size) -> uint8 (28, 28), white on black.

    Args:
        mask: the digit's pixels; only nonzero vs zero matters.
        stroke: target stroke width at 28x28 scale; None keeps the stroke as drawn.
    """
    crop = tight_crop(mask)
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.uint8)
    if crop.size == 0:
        return out
    big = to_canonical(np.where(crop > 0, 255, 0).astype(np.uint8))
    if stroke is not None:
        matched = tight_crop(match_stroke(big, stroke * CANONICAL))
        # thinning can erase a mask of thin scraps entirely: then keep it as drawn
        big = matched if matched.size else big
    small = fit_box(big, FIT_SIZE, cv2.INTER_AREA)
    h, w = small.shape
    top, left = (MNIST_SIZE - h) // 2, (MNIST_SIZE - w) // 2
    out[top:top + h, left:left + w] = small
    return center_of_mass_shift(out)


def mnistify_batch(masks: list[np.ndarray], *,
                   stroke: float | None = MNIST_STROKE) -> np.ndarray:
    """Several digit masks -> uint8 (N, 28, 28), ready for one batched model call."""
    if not masks:
        return np.zeros((0, MNIST_SIZE, MNIST_SIZE), dtype=np.uint8)
    return np.stack([mnistify(m, stroke=stroke) for m in masks])
