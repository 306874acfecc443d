"""Turn a camera image into an ink mask: grayscale, denoise, flatten light, polarity, threshold.

Every step is a pure function over numpy arrays so each can be tested alone. The result of
`binarize` is an "ink strength" image (0 = background, larger = more ink-like, whatever the
ink colour) and a binary mask of the pixels that are ink.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from digitedge.edge_runtime.marks import marks, marks_in_surround
from digitedge.edge_runtime.rims import edge_strips
from digitedge.edge_runtime.ruling import rejoin, ruling


class InkImage(NamedTuple):
    """The output of `binarize`."""

    strength: np.ndarray  # uint8 (H, W): how much each pixel departs from the background
    mask: np.ndarray  # uint8 (H, W): 255 where the pixel is ink, else 0
    threshold: int  # the strength level that separated ink from background
    dark_ink: bool  # True: dark ink on a light ground; False: light ink on a dark ground
    polarity_margin: float = float("inf")  # winning polarity vote / losing one (inf if
    # forced, or if neither side departs from the paper)
    surround: np.ndarray | None = None  # bool (H, W): table / page-edge region (`surround`,
    # `edge_strips`)
    background: np.ndarray | None = None  # uint8 (H, W): the paper's brightness estimate
    strips: np.ndarray | None = None  # bool (H, W): the rims of brightness steps alone
    # (`rims.edge_strips`, also part of `surround`)


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


def fine_detail(gray: np.ndarray) -> float:
    """How much detail `gray` has at its own pixel scale, against the same at half the size.

    Mean absolute difference from a 1 px Gaussian blur, at full and at half size: about 1 or
    more for a sharp frame (edges and sensor noise are a pixel wide at any size), about 0.6
    or less for a frame upscaled from half its size or focused that softly (its pixels are
    interpolations of their neighbours). Such a frame holds no more than its half-size copy.
    """
    def detail(image: np.ndarray) -> float:
        image = image.astype(np.float32)
        return float(np.mean(np.abs(image - cv2.GaussianBlur(image, (0, 0), 1.0))))

    h, w = gray.shape[:2]
    half = cv2.resize(gray, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    return detail(gray) / max(detail(half), 1e-6)


def working_image(gray: np.ndarray, max_side: int, soft_side: int, soft_detail: float
                  ) -> tuple[np.ndarray, float]:
    """`limit_size` to `max_side`, then down to `soft_side` when the frame is soft (its
    `fine_detail` under `soft_detail`): the reader's noise filter and size rules hold at the
    scale of a frame's real detail, and a soft 1280 px frame read as it is loses digits to
    its grown-up noise and blur (the scales benchmark). 0 turns the second step off."""
    work, scale = limit_size(gray, max_side)
    if soft_side <= 0 or max(work.shape[:2]) <= soft_side or fine_detail(work) >= soft_detail:
        return work, scale
    smaller, extra = limit_size(work, soft_side)
    return smaller, scale * extra


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


def surround(mask: np.ndarray, max_frac: float = 0.7) -> np.ndarray:
    """Bool mask of the components of `mask` that touch the image border or span more than
    `max_frac` of its width or height: a table or the sheet's edge around a photographed
    page, a shadow's rim, never a digit (digits are written inside the page, smaller).

    The Otsu level leaves these out: a dark table around a bright sheet is a huge "dark ink"
    region that would otherwise raise the threshold far above faint pencil strokes. (Leaving
    them out of the polarity vote too measured worse.)
    """
    full_h, full_w = mask.shape
    # a coarse region is enough: work at half size (2x2 max-pool keeps thin links) for speed
    half = cv2.resize(mask.astype(np.uint8) * 255, (max(1, full_w // 2), max(1, full_h // 2)),
                      interpolation=cv2.INTER_AREA) > 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(half.astype(np.uint8), connectivity=8)
    h, w = half.shape
    x, y, bw, bh = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    big = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h) \
        | (bw > max_frac * w) | (bh > max_frac * h)
    big[0] = False
    if not big.any():
        return np.zeros(mask.shape, dtype=bool)
    region = big.astype(np.uint8)[labels]
    return cv2.resize(region, (full_w, full_h), interpolation=cv2.INTER_NEAREST) > 0


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


def local_floor(strength: np.ndarray, background: np.ndarray, dark_ink: bool, min_dev: float,
                floor: float, min_contrast: float) -> np.ndarray:
    """Scale `strength` down where the surface is darker than the page (for chalk: lighter).

    Relative contrast divides the sensor noise by the local brightness, so on a dark table
    or in a deep shadow the noise and texture reach strengths that real ink has on the page.
    A departure must be `min_dev` grey levels (several noise sigmas) wherever it is: the
    local floor is that departure in strength units, and strength is scaled by
    floor / local floor where the local floor is higher, so one threshold serves both.
    """
    darkest = int(background.min()) if dark_ink else 255 - int(background.max())
    if max(min_contrast, min_dev * 255.0 / max(darkest, 24.0)) <= floor:
        return strength  # no part of the surface is darker than the page's floor allows
    room = background.astype(np.float32) if dark_ink else 255.0 - background.astype(np.float32)
    local = np.maximum(min_contrast, min_dev * 255.0 / np.maximum(room, 24.0))
    return (strength * np.minimum(1.0, floor / local)).astype(np.uint8)


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


def clear_lines(strength: np.ndarray, lines: np.ndarray, weak: np.ndarray, min_contrast: float,
                min_writing: int = 20) -> np.ndarray:
    """`strength` with the ruling's pixels (`lines`) cleared where nothing stronger than the
    ruling crosses them: the lines are paper, and a pen stroke across one stays whole.

    Only when the ruling is faint: its median strength under `min_contrast` (the least
    contrast that counts as ink), or at least `min_writing` departing pixels (`weak`) more
    than twice as strong, the writing. The line zone is found at quarter size, so writing
    beside a line can fall in it: strength, not place, decides what is cleared. Lines as
    dark as the writing cannot be told from it so; they are left to the segmentation.
    """
    if not lines.any():
        return strength
    level = float(np.median(strength[lines]))
    writing = int(np.count_nonzero(strength[weak] > 2 * level))
    if level >= min_contrast and writing < min_writing:
        return strength
    return np.where(lines & (strength <= 2 * level), 0, strength).astype(np.uint8)


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
             dark_ink: bool | None = None, ruled: bool = True,
             marked: bool = True) -> InkImage:
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
        ruled: find the lines of ruled or squared paper (`ruling.ruling`) and count them
            as paper: left out of the surround, so digits written across them stay digits,
            and when faint cleared from the strength (`clear_lines`).
        marked: find the marks people add to a number (`marks.marks`: a line under it, a
            box or a ring round it, a form's printed line it stands on) and take them out of
            the mask, so they neither join the digits into one blob nor read as digits.
    """
    smooth = denoise(gray, median_size)
    background = estimate_background(smooth, background_frac)
    dev = deviation(smooth, background)
    noise = noise_level(dev)
    margin = float("inf")
    t = max(3.0 * noise, 8.0)
    if dark_ink is None:
        dark, light = polarity_votes(dev, noise)
        dark_ink = dark >= light
        # no vote at all (nothing departs from the paper on either side) is a blank page,
        # not a close vote: there is no other side worth trying
        margin = max(dark, light) / max(min(dark, light), 1e-6) if max(dark, light) else margin
    # the table or page edge around a photographed sheet: left out of the Otsu statistics
    weak = dev < -t if dark_ink else dev > t
    lines = ruling(weak) if ruled else np.zeros(weak.shape, dtype=bool)
    around = surround(rejoin(weak & ~lines, lines))
    drawn = marks_in_surround(weak, around) if marked and around.any() else None
    if drawn is not None and drawn.any():
        # a line to the frame's edge with writing on it (a form's): paper, like ruling
        lines = lines | drawn
        around = surround(rejoin(weak & ~lines, lines))
    strength = ink_strength(dev, background, dark_ink)
    # the noise in strength units, on the page: ink is written on the brighter part of the
    # frame (a dark table or a shadowed margin can cover half of it), so the page's level is
    # taken at the 75th percentile of the background, not the median
    bg_level = float(np.percentile(background[::4, ::4], 75 if dark_ink else 25))
    room = bg_level if dark_ink else 255.0 - bg_level
    floor = max(float(min_contrast), noise_factor * noise * 255.0 / max(room, 24.0))
    strength = local_floor(strength, background, dark_ink, noise * noise_factor, floor,
                           float(min_contrast))
    strength = clear_lines(strength, lines, weak, float(min_contrast))
    # Otsu separates strong ink from paper texture; the floor keeps a blank page blank
    inside = strength[~around]
    level = otsu_threshold(inside.reshape(-1, 1)) if inside.size else 255
    high = max(level, int(floor))
    low = max(int(floor * 0.6), high // 2)
    mask = hysteresis(strength, low, high)
    mask = close_strokes(mask, close_size)
    strips = edge_strips(mask, smooth, dark_ink)
    # the surround's own marks (a form's line) were taken above; its edges and rims stay
    under = marks(mask) & ~(around | strips) if marked else None
    if under is not None and under.any():
        mask = np.where(under, 0, mask).astype(np.uint8)
        strength = np.where(under, 0, strength).astype(np.uint8)
    return InkImage(strength, mask, low, dark_ink, margin, around | strips, background, strips)
