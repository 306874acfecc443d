"""What is on the sheet before the photo: surfaces, ink, and distractors that avoid the digits.

Pure functions over numpy arrays (float32 BGR in 0-255 unless stated); every random choice
comes from the `rng` passed in, so a scene is a function of its seed alone.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.errors import DigitEdgeError

# Surface colours (BGR). Paper is never pure white under a phone's auto white balance.
PAPERS = {"paper_white": (238, 240, 242), "paper_cream": (205, 228, 240),
          "paper_grey": (208, 212, 214)}
BOARDS = {"board_green": (62, 88, 44), "board_black": (44, 46, 48)}
WHITEBOARDS = {"whiteboard": (236, 236, 232)}
TABLES = {"wood": (70, 110, 160), "desk_grey": (120, 118, 112), "desk_dark": (40, 38, 36)}


def pick(rng: np.random.Generator, options: dict[str, float]) -> str:
    """One key of `options`, drawn with probability proportional to its weight."""
    names = list(options)
    p = np.asarray([options[k] for k in names], np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Zero-mean noise (about unit std) whose features are about `cell` pixels wide."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    small = rng.standard_normal((gh, gw), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _jitter_colour(rng: np.random.Generator, bgr: tuple[int, int, int], amount: float
                   ) -> np.ndarray:
    return np.asarray(bgr, np.float32) + rng.uniform(-amount, amount, 3).astype(np.float32)


def surface(rng: np.random.Generator, h: int, w: int, name: str) -> np.ndarray:
    """A paper or board texture: base colour, slow blotches and fine fibre or dust grain."""
    base = PAPERS.get(name) or BOARDS.get(name) or WHITEBOARDS.get(name) or TABLES[name]
    img = np.empty((h, w, 3), np.float32)
    img[:] = _jitter_colour(rng, base, 5)
    if name.startswith("paper"):
        blotch = smooth_noise(rng, h, w, 120) * rng.uniform(1.0, 4.0)
        fibre = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.8)
        grain = blotch + fibre * rng.uniform(2.0, 5.0)
    elif name == "whiteboard":
        # Smooth and glossy, with grey ghosts of earlier, badly erased writing.
        ghost = np.clip(smooth_noise(rng, h, w, 25) - 1.2, 0, 1)
        grain = -ghost * rng.uniform(6.0, 15.0) + smooth_noise(rng, h, w, 150) * 2.0
    elif name.startswith("board"):
        # Chalk dust left by erasing: broad light smears plus fine speckle.
        smear = np.clip(smooth_noise(rng, h, w, 90), 0, None) * rng.uniform(4.0, 14.0)
        speckle = rng.standard_normal((h, w), dtype=np.float32) * rng.uniform(1.5, 4.0)
        grain = smear + speckle
    else:
        # Wood grain: noise stretched along one axis; desks get a mild mottling.
        stretch = smooth_noise(rng, h, w // 16 + 2, 6)
        stretch = cv2.resize(stretch, (w, h), interpolation=cv2.INTER_LINEAR)
        grain = stretch * (8.0 if name == "wood" else 3.0) + smooth_noise(rng, h, w, 40) * 4.0
    img += grain[..., None]
    return img


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to its one-pixel centre line (numpy only)."""
    img = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            n = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
                 img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]  # P2..P9
            count = sum(v.astype(np.int32) for v in n)
            turns = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.int32)
                        for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                gate = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                gate = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            drop = (c == 1) & (count >= 2) & (count <= 6) & (turns == 1) & gate
            if drop.any():
                c[drop] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


def digit_patch(img28: np.ndarray, height: float, stroke: str, rotation: float, slant: float
                ) -> np.ndarray:
    """One MNIST digit as ink coverage (0-1) whose ink is `height` pixels tall.

    Upscaled MNIST strokes are about an eighth of the digit height, like a felt pen ("medium");
    "thin" redraws the centre line at ballpoint width and "thick" dilates towards a marker.
    """
    g = img28.astype(np.float32) / 255.0
    ys, xs = np.nonzero(g > 0.1)
    if ys.size == 0:
        raise DigitEdgeError("an MNIST digit image is blank; pass real x_test digits")
    crop = np.pad(g[ys.min():ys.max() + 1, xs.min():xs.max() + 1], 3)
    scale = height / (ys.max() - ys.min() + 1)
    size = (max(4, round(crop.shape[1] * scale)), max(4, round(crop.shape[0] * scale)))
    big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
    soft = max(1.0, scale / 1.2)  # keep the ink edge about a pixel wide at any size
    if stroke == "thin":
        # A ballpoint line of even width along the digit's centre line.
        centre = thin(big > 0.45)
        dist = cv2.distanceTransform((~centre).astype(np.uint8), cv2.DIST_L2, 3)
        alpha = np.clip(max(0.8, 0.028 * height) + 0.5 - dist, 0.0, 1.0)
    else:
        if stroke == "thick":
            k = max(1, round(0.03 * height))
            big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                            (2 * k + 1, 2 * k + 1)))
        # A hard-ish edge: pens do not leave MNIST's soft grey rims.
        alpha = np.clip((big - 0.45) * soft + 0.5, 0.0, 1.0)
    h, w = alpha.shape
    pad = int(0.25 * max(h, w))
    alpha = np.pad(alpha, pad)
    c = (alpha.shape[1] / 2, alpha.shape[0] / 2)
    m = cv2.getRotationMatrix2D(c, rotation, 1.0)
    m[0, 1] -= slant  # italic: shift x with height around the centre
    m[0, 2] += slant * c[1]
    alpha = cv2.warpAffine(alpha, m, (alpha.shape[1], alpha.shape[0]), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(alpha > 0.1)
    return alpha[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def composite(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Lay ink of `colour` with coverage `alpha` (0-1, HxW) over `img` in place."""
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0:
        return
    # Only the inked rectangle changes; marks are sparse, so this saves most of the work.
    region = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    a = alpha[region][..., None]
    img[region] = img[region] * (1.0 - a) + a * colour.astype(np.float32)


def ink_texture(rng: np.random.Generator, alpha: np.ndarray, ink: str) -> np.ndarray:
    """Pencil graphite and chalk leave grainy, broken coverage; pens leave near-solid ink."""
    h, w = alpha.shape
    if ink == "pencil":
        grain = 0.55 + 0.45 * rng.random((h, w), dtype=np.float32)
        return alpha * grain * rng.uniform(0.7, 0.9)
    if ink.startswith("chalk"):
        # Chalk skips over the board's grain: coherent speckled gaps, denser at stroke edges.
        grain = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), 1.2)
        grain = np.clip((grain - 0.5) * 6.0 + 0.8, 0.4, 1.0)
        return alpha * grain * rng.uniform(0.8, 1.0)
    return alpha * rng.uniform(0.85, 1.0)


def free_of(keepout: np.ndarray, mark: np.ndarray) -> bool:
    """True when a distractor's coverage `mark` stays off the keep-out zone around digits."""
    return not bool(np.any((mark > 0.02) & (keepout > 0)))


def ruling(rng: np.random.Generator, h: int, w: int, keepout: np.ndarray, kind: str
           ) -> np.ndarray:
    """Ruled or squared paper lines, leaving out any line that would cross a digit."""
    alpha = np.zeros((h, w), np.float32)
    step = int(rng.integers(22, 40))
    strength = float(rng.uniform(0.25, 0.5))
    for y in range(int(rng.integers(0, step)), h, step):
        if not keepout[y].any():
            cv2.line(alpha, (0, y), (w - 1, y), strength, 1, cv2.LINE_AA)
    if kind == "grid":
        for x in range(int(rng.integers(0, step)), w, step):
            if not keepout[:, x].any():
                cv2.line(alpha, (x, 0), (x, h - 1), strength, 1, cv2.LINE_AA)
    return alpha


def margin_line(rng: np.random.Generator, h: int, w: int, keepout: np.ndarray) -> np.ndarray:
    """The red vertical margin line of exercise paper, when it can miss the digits."""
    alpha = np.zeros((h, w), np.float32)
    for _ in range(4):
        x = int(rng.uniform(0.05, 0.3) * w)
        if not keepout[:, max(0, x - 2):x + 3].any():
            cv2.line(alpha, (x, 0), (x, h - 1), float(rng.uniform(0.4, 0.7)), 2, cv2.LINE_AA)
            break
    return alpha


def dots(rng: np.random.Generator, h: int, w: int, keepout: np.ndarray, count: int
         ) -> np.ndarray:
    """Pen taps and specks away from the digits."""
    alpha = np.zeros((h, w), np.float32)
    for _ in range(count * 4):
        if count <= 0:
            break
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(1, 4))
        if keepout[max(0, y - r - 2):y + r + 3, max(0, x - r - 2):x + r + 3].any():
            continue
        cv2.circle(alpha, (x, y), r, float(rng.uniform(0.6, 1.0)), -1, cv2.LINE_AA)
        count -= 1
    return alpha


def smudges(rng: np.random.Generator, h: int, w: int, keepout: np.ndarray, count: int
            ) -> np.ndarray:
    """Soft graphite or dust smudges: faint elongated blobs that miss the digits."""
    alpha = np.zeros((h, w), np.float32)
    for _ in range(count * 4):
        if count <= 0:
            break
        mark = np.zeros((h, w), np.float32)
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(8, 45)), int(rng.integers(3, 15)))
        cv2.ellipse(mark, centre, axes, float(rng.uniform(0, 180)), 0, 360,
                    float(rng.uniform(0.1, 0.3)), -1)
        mark = cv2.GaussianBlur(mark, (0, 0), rng.uniform(3, 8))
        if free_of(keepout, mark):
            alpha = np.maximum(alpha, mark)
            count -= 1
    return alpha


def underline(rng: np.random.Generator, h: int, w: int, keepout: np.ndarray,
              line_box: tuple[int, int, int, int], digit_h: float, thickness: int) -> np.ndarray:
    """A hand-drawn, slightly curved stroke under a number, kept clear of every digit."""
    x, y, bw, bh = line_box
    for _ in range(4):
        y0 = y + bh + digit_h * rng.uniform(0.45, 0.8)
        xs = np.linspace(x - digit_h * rng.uniform(0, 0.3), x + bw + digit_h * 0.3, 24)
        ys = y0 + rng.uniform(-0.08, 0.08) * digit_h * np.sin(np.linspace(0, np.pi, 24))
        ys += np.linspace(0, rng.uniform(-0.1, 0.1) * digit_h, 24)
        mark = np.zeros((h, w), np.float32)
        pts = np.stack([xs, ys], 1).round().astype(np.int32)
        cv2.polylines(mark, [pts], False, 1.0, max(1, thickness), cv2.LINE_AA)
        inside = y0 + thickness + 4 < h and xs.min() >= 2 and xs.max() < w - 2
        if inside and free_of(keepout, mark):
            return mark
    return np.zeros((h, w), np.float32)
