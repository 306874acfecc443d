"""Turn a camera image into an ink mask: grayscale, denoise, flatten light, polarity, threshold.

Every step is a pure function over numpy arrays so each can be tested alone. The result of
`binarize` is an "ink strength" image (0 = background, larger = more ink-like, whatever the
ink colour) and a binary mask of the pixels that are ink.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np


class InkImage(NamedTuple):
    """The output of `binarize`."""

    strength: np.ndarray  # uint8 (H, W): how much each pixel departs from the background
    mask: np.ndarray  # uint8 (H, W): 255 where the pixel is ink, else 0
    threshold: int  # the strength level that separated ink from background
    dark_ink: bool  # True: dark ink on a light ground; False: light ink on a dark ground
    polarity_margin: float = float("inf")  # winning polarity vote / losing one (inf if forced)


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or gray uint8 -> gray uint8 (a copy is not guaranteed)."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"expected a gray, BGR or BGRA image, got shape {image.shape}")


def limit_size(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink `gray` so its longer side is at most `max_side`; returns (image, scale).

    Working at a bounded size keeps the cost per frame bounded on a Pi; `scale` (<= 1) maps
    working coordinates back to the input: input = working / scale.
    """
    h, w = gray.shape[:2]
    side = max(h, w)
    if side <= max_side:
        return gray, 1.0
    scale = max_side / side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def denoise(gray: np.ndarray, ksize: int = 3) -> np.ndarray:
    """Median filter: removes sensor speckle and salt-and-pepper noise but keeps stroke edges."""
    if ksize <= 1:
        return gray
    return cv2.medianBlur(gray, ksize | 1)


def estimate_background(gray: np.ndarray, kernel_frac: float = 0.12) -> np.ndarray:
    """The paper/board brightness at each pixel, with the strokes removed.

    A median over a window much wider than a stroke ignores the ink (a minority of any such
    window) whatever its colour, so the same estimate serves dark ink and chalk. It is taken
    on a 4x smaller image (the background varies slowly) and scaled back up.
    """
    h, w = gray.shape
    small_w, small_h = max(1, w // 4), max(1, h // 4)
    small = cv2.resize(gray, (small_w, small_h), interpolation=cv2.INTER_AREA)
    k = int(round(kernel_frac * min(small_w, small_h))) | 1
    k = max(3, min(k, 255))
    # medianBlur needs the kernel smaller than the image side
    while k > 3 and k >= min(small_w, small_h):
        k -= 2
    if min(small_w, small_h) < 3:
        bg = np.full_like(small, int(np.median(gray)))
    else:
        bg = cv2.medianBlur(small, k)
    # smooth the blocky median so its steps do not show up as faint "ink"
    bg = cv2.GaussianBlur(bg, (0, 0), max(1.0, k / 4))
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def deviation(gray: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Signed departure from the background, int16: negative = darker than the paper."""
    return gray.astype(np.int16) - background.astype(np.int16)


def polarity_votes(dev: np.ndarray, noise: float) -> tuple[float, float]:
    """(dark, light): how much the image departs from its background on each side.

    Only departures beyond several noise levels count, so sensor noise, which is
    symmetric, cancels out.
    """
    t = max(3.0 * noise, 8.0)
    dark = float(np.clip(-dev.astype(np.float32) - t, 0, None).sum())
    light = float(np.clip(dev.astype(np.float32) - t, 0, None).sum())
    return dark, light


def choose_polarity(dev: np.ndarray, noise: float) -> bool:
    """True when the ink is darker than its background (pen on paper), False for chalk.

    Ink is whatever departs strongly from the local background; the side (darker or
    lighter) with more such departure is the ink. A small bright sheet lying on a dark
    table can outvote the ink: `binarize` reports how clear the vote was
    (`InkImage.polarity_margin`) so the reader can try the other side when it was not.
    """
    dark, light = polarity_votes(dev, noise)
    return dark >= light


def noise_level(dev: np.ndarray) -> float:
    """Robust std of the background deviation (median absolute deviation * 1.4826)."""
    sample = dev[:: max(1, dev.shape[0] // 200), :: max(1, dev.shape[1] // 200)]
    med = float(np.median(sample))
    return float(1.4826 * np.median(np.abs(sample.astype(np.float32) - med)))


def ink_strength(dev: np.ndarray, background: np.ndarray, dark_ink: bool) -> np.ndarray:
    """Ink contrast relative to the local light level, stretched to uint8.

    Dividing by the local paper brightness (or, for chalk, by the room left above the board)
    turns "ink under a shadow" and "ink in full light" into the same value, which is what
    lets one global threshold work under uneven lighting.
    """
    bg = background.astype(np.float32)
    if dark_ink:
        rel = -dev.astype(np.float32) / np.maximum(bg, 24.0)
    else:
        rel = dev.astype(np.float32) / np.maximum(255.0 - bg, 24.0)
    return np.clip(rel * 255.0, 0, 255).astype(np.uint8)


def hysteresis(strength: np.ndarray, low: int, high: int) -> np.ndarray:
    """Pixels above `low` that are connected to at least one pixel above `high` (uint8 mask).

    Keeps the faint ends of a stroke attached to its strong core while noise, which seldom
    reaches `high`, is dropped.
    """
    weak = (strength >= low).astype(np.uint8)
    n, labels = cv2.connectedComponents(weak, connectivity=8)
    if n <= 1:
        return np.zeros_like(strength)
    peak = np.zeros(n, dtype=np.int32)
    np.maximum.at(peak, labels.ravel(), strength.ravel().astype(np.int32))
    keep = peak >= high
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def otsu_threshold(strength: np.ndarray) -> int:
    """Otsu's level over the strength image."""
    level, _ = cv2.threshold(strength, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return int(level)


def close_strokes(mask: np.ndarray, size: int = 3) -> np.ndarray:
    """Morphological closing: bridges one- or two-pixel gaps in a stroke."""
    if size <= 1:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def binarize(gray: np.ndarray, *, median_size: int = 3, background_frac: float = 0.12,
             min_contrast: int = 30, noise_factor: float = 5.0, close_size: int = 1,
             dark_ink: bool | None = None) -> InkImage:
    """Gray image -> ink strength and ink mask, robust to uneven light and either polarity.

    Args:
        gray: uint8 (H, W).
        median_size: median-filter size for denoising (1 disables it).
        background_frac: background window as a fraction of the shorter image side.
        min_contrast: lowest strength (0-255, relative to the paper) that can count as ink,
            so a blank page is not thresholded into noise.
        noise_factor: the threshold is at least this many noise standard deviations.
        close_size: closing kernel that mends broken strokes (1 disables it).
        dark_ink: force the polarity; None decides from the image.
    """
    smooth = denoise(gray, median_size)
    background = estimate_background(smooth, background_frac)
    dev = deviation(smooth, background)
    noise = noise_level(dev)
    margin = float("inf")
    if dark_ink is None:
        dark, light = polarity_votes(dev, noise)
        dark_ink = dark >= light
        margin = max(dark, light) / max(min(dark, light), 1e-6)
    strength = ink_strength(dev, background, dark_ink)
    # relative noise: the deviation noise in strength units
    bg_level = float(np.median(background))
    room = bg_level if dark_ink else 255.0 - bg_level
    noise_strength = noise * 255.0 / max(room, 24.0)
    floor = max(float(min_contrast), noise_factor * noise_strength)
    # Otsu separates strong ink from paper texture; the floor keeps a blank page blank
    high = max(otsu_threshold(strength), int(floor))
    low = max(int(floor * 0.6), high // 2)
    mask = hysteresis(strength, low, high)
    mask = close_strokes(mask, close_size)
    return InkImage(strength, mask, low, dark_ink, margin)
