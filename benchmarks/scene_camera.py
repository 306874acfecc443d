"""The camera: framing over a table, uneven light, glare, blur, sharpening, noise and JPEG.

Pure functions over float32 BGR images (0-255); `photograph` chains them in the order a
phone or webcam applies them and reports what it did, for `Scene.conditions`.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from digitedge.benchmarks import scene_effects as fx


def illumination(rng: np.random.Generator, h: int, w: int, gradient: bool, vignette: bool,
                 shadow: bool) -> np.ndarray:
    """A multiplicative light field (HxW, about 0.3-1.05) for uneven lighting."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = np.ones((h, w), np.float32)
    if gradient:
        angle = rng.uniform(0, 2 * np.pi)
        t = (np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5)) + 0.5
        low = rng.uniform(0.45, 0.85)
        light *= low + (1.0 - low) * np.clip(t, 0, 1)
    if vignette:
        cx, cy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)
        r2 = ((xx - cx) / (0.75 * w)) ** 2 + ((yy - cy) / (0.75 * h)) ** 2
        light *= 1.0 - rng.uniform(0.2, 0.55) * np.clip(r2, 0, 1.5)
    if shadow:
        # A soft-edged shadow from a hand or the phone: a big blurred polygon over one side.
        mask = np.zeros((h, w), np.float32)
        cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
        radius = rng.uniform(0.35, 0.8) * max(h, w)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 6))
        pts = np.stack([cx + radius * rng.uniform(0.5, 1.0, 6) * np.cos(angles),
                        cy + radius * rng.uniform(0.5, 1.0, 6) * np.sin(angles)], 1)
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(8, 40))
        light *= 1.0 - rng.uniform(0.25, 0.55) * mask
    return light


def motion_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalised line kernel: camera shake during the exposure."""
    size = length if length % 2 else length + 1
    k = np.zeros((size, size), np.float32)
    k[size // 2, (size - length) // 2:(size - length) // 2 + length] = 1.0
    rot = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle_deg, 1.0)
    k = cv2.warpAffine(k, rot, (size, size), flags=cv2.INTER_LINEAR)
    return k / max(float(k.sum()), 1e-6)


def blur(rng: np.random.Generator, img: np.ndarray, kind: str) -> tuple[np.ndarray, float]:
    """Defocus, motion or low-resolution blur; returns the image and the blur's size."""
    if kind == "defocus":
        sigma = float(rng.uniform(0.7, 2.2))
        return cv2.GaussianBlur(img, (0, 0), sigma), sigma
    if kind == "motion":
        length = int(rng.integers(3, 10))
        return cv2.filter2D(img, -1, motion_kernel(length, rng.uniform(0, 180))), float(length)
    if kind == "lowres":
        # A cheap webcam or digital zoom: the scene was captured smaller and scaled up.
        factor = float(rng.uniform(1.6, 3.0))
        h, w = img.shape[:2]
        small = cv2.resize(img, (round(w / factor), round(h / factor)),
                           interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), factor
    return img, 0.0


def sharpen(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """The unsharp mask phones and webcams apply: crisper edges with bright and dark halos."""
    amount = rng.uniform(0.5, 1.5)
    return img + amount * (img - cv2.GaussianBlur(img, (0, 0), rng.uniform(1.0, 2.5)))


def glare(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A soft specular highlight (0-1, HxW) from a lamp on glossy paper or a board."""
    mask = np.zeros((h, w), np.float32)
    centre = (int(rng.uniform(0.1, 0.9) * w), int(rng.uniform(0.1, 0.9) * h))
    axes = (int(rng.uniform(0.08, 0.3) * w), int(rng.uniform(0.05, 0.2) * h))
    cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), float(rng.uniform(0.2, 0.5) * min(axes) + 3))


def sensor_noise(rng: np.random.Generator, img: np.ndarray, sigma: float) -> np.ndarray:
    """Read noise plus shot noise (grows with brightness) plus blotchy colour noise."""
    h, w, _ = img.shape
    shot = np.sqrt(np.clip(img, 0, None) / 255.0) * sigma
    out = img + rng.standard_normal((h, w, 3), dtype=np.float32) * (0.6 * sigma + shot)
    chroma = rng.standard_normal((h // 2 + 1, w // 2 + 1, 3), dtype=np.float32)
    chroma = cv2.resize(chroma, (w, h), interpolation=cv2.INTER_LINEAR)
    return out + chroma * (0.4 * sigma)


def jpeg_round_trip(img: np.ndarray, quality: int) -> tuple[np.ndarray, bytes]:
    """Encode `img` (uint8 BGR) as JPEG and decode it: the artefacts a phone or webcam adds."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    data = buf.tobytes()
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), data


def camera_homography(rng: np.random.Generator, w: int, h: int, tilt: float, sheet_scale: float,
                      rotation_deg: float) -> np.ndarray:
    """A 3x3 map from the sheet (w x h) to the camera frame: scale, rotate, shift and tilt.

    `tilt` is the largest corner displacement as a fraction of the frame (0 = none); a
    `sheet_scale` below 1 shows the sheet's edges and the table around it.
    """
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    c = np.float32([w / 2, h / 2])
    rot = np.deg2rad(rotation_deg)
    r = np.float32([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
    slack = (1.0 - sheet_scale) * 0.5
    shift = np.float32([rng.uniform(-slack, slack) * w, rng.uniform(-slack, slack) * h])
    dst = (src - c) @ r.T * sheet_scale + c + shift
    dst += rng.uniform(-tilt, tilt, (4, 2)).astype(np.float32) * np.float32([w, h])
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


def warp_boxes(boxes: list[tuple[int, int, int, int]], hmat: np.ndarray
               ) -> list[tuple[float, float, float, float]]:
    """Each box's corners through `hmat`, as the axis-aligned (x0, y0, x1, y1) around them."""
    out = []
    for x, y, bw, bh in boxes:
        corners = np.float32([[[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]]])
        p = cv2.perspectiveTransform(corners, hmat)[0]
        out.append((float(p[:, 0].min()), float(p[:, 1].min()),
                    float(p[:, 0].max()), float(p[:, 1].max())))
    return out


SKIN = ((105, 135, 185), (85, 115, 170), (60, 85, 130), (135, 160, 215))  # BGR skin tones


def _add_finger(rng: np.random.Generator, img: np.ndarray,
                boxes: list[tuple[float, float, float, float]]) -> bool:
    """A finger or thumb holding the sheet, entering from a frame edge, clear of the digits.

    Webcam users hold the sheet up to the camera; the finger is a large shaded blob with
    edges that a reader must not take for a digit. Returns whether one was drawn.
    """
    h, w = img.shape[:2]
    keep = np.zeros((h, w), np.uint8)
    for x0, y0, x1, y1 in boxes:
        pad = 0.3 * (y1 - y0)
        keep[max(0, int(y0 - pad)):int(y1 + pad) + 1, max(0, int(x0 - pad)):int(x1 + pad) + 1] = 1
    width = rng.uniform(0.12, 0.2) * min(h, w)
    for _ in range(6):
        side = int(rng.integers(4))
        t = rng.uniform(0.1, 0.9)
        start = [(t * w, -width), (w + width, t * h), (t * w, h + width), (-width, t * h)][side]
        inward = np.deg2rad([90, 180, 270, 0][side] + rng.uniform(-35, 35))
        length = rng.uniform(0.2, 0.45) * min(h, w)
        tip = (start[0] + length * np.cos(inward), start[1] + length * np.sin(inward))
        mask = np.zeros((h, w), np.float32)
        cv2.line(mask, (int(start[0]), int(start[1])), (int(tip[0]), int(tip[1])), 1.0,
                 int(width), cv2.LINE_AA)
        cv2.circle(mask, (int(tip[0]), int(tip[1])), int(width / 2), 1.0, -1, cv2.LINE_AA)
        if np.any((mask > 0.02) & (keep > 0)):
            continue
        mask = cv2.GaussianBlur(mask, (0, 0), 1.5)
        tone = np.float32(SKIN[int(rng.integers(len(SKIN)))])
        # Rounded shading: lit along the middle, darker towards the sides, plus a nail-ish
        # highlight would be overkill; a soft gradient across the finger is enough.
        core = cv2.GaussianBlur(mask, (0, 0), width / 4)
        shade = (0.6 + 0.5 * core)[..., None]
        img *= 1.0 - mask[..., None]
        img += mask[..., None] * tone * shade
        return True
    return False


class Shot(NamedTuple):
    """A photographed sheet."""

    image: np.ndarray  # uint8 BGR, as the camera delivers it
    jpeg: bytes | None  # the encoded file, when the camera saved a JPEG
    hmat: np.ndarray  # 3x3 map from sheet pixels to image pixels
    conditions: dict  # categorical choices, for breakdowns
    params: dict  # the numbers behind them


def _framing(rng: np.random.Generator, w: int, h: int, boxes: list[tuple[int, int, int, int]],
             tilt: float, sheet_scale: float, rotation: float) -> np.ndarray:
    """A homography that keeps every digit box at least 2% of the frame inside it."""
    margin = 0.02 * min(w, h)
    for attempt in range(8):
        # Later attempts give up the rotation, then the tilt: a plain, shrunken sheet fits.
        hmat = camera_homography(rng, w, h, tilt if attempt < 6 else 0.0, sheet_scale,
                                 rotation if attempt < 4 else 0.0)
        if all(x0 >= margin and y0 >= margin and x1 <= w - margin and y1 <= h - margin
               for x0, y0, x1, y1 in warp_boxes(boxes, hmat)):
            return hmat
    return np.eye(3)


def photograph(rng: np.random.Generator, sheet: np.ndarray, boxes: list[tuple[int, int, int, int]],
               wild: bool, sheet_scale: float = 1.0, tilt: float = 0.0, rotation: float = 0.0
               ) -> Shot:
    """Photograph `sheet` (float32 BGR, the frame's size) whose digits lie in `boxes`.

    "basic" (wild=False) is a straight-on shot with uneven light and noise; "wild" adds a
    tilted, rotated or distant sheet over a table, a finger holding it, shadows, glare,
    colour casts, blur, sharpening halos and JPEG. `sheet` is not modified.
    """
    h, w = sheet.shape[:2]
    img = sheet.copy()
    hmat = np.eye(3)
    moved = sheet_scale < 1.0 or tilt > 0 or rotation != 0
    if moved:
        hmat = _framing(rng, w, h, boxes, tilt, sheet_scale, rotation)
        table = fx.surface(rng, h, w, fx.pick(rng, {"wood": 1, "desk_grey": 1, "desk_dark": 1}))
        img = cv2.warpPerspective(sheet, hmat, (w, h), flags=cv2.INTER_LINEAR)
        inside = cv2.warpPerspective(np.ones((h, w), np.float32), hmat, (w, h))
        img += table * (1.0 - inside[..., None])
    tilted = bool(moved and (abs(hmat[2, 0]) + abs(hmat[2, 1]) > 1e-7 or abs(hmat[0, 1]) > 1e-3))
    finger = wild and bool(rng.random() < 0.15)
    if finger:
        finger = _add_finger(rng, img, warp_boxes(boxes, hmat))

    gradient, vignette = bool(rng.random() < 0.6), bool(rng.random() < 0.5)
    shadow = wild and bool(rng.random() < 0.3)
    img *= illumination(rng, h, w, gradient, vignette, shadow)[..., None]
    exposure = float(rng.uniform(0.65, 1.15) if wild else rng.uniform(0.8, 1.05))
    # White balance drifts along the warm-cool axis (indoor bulbs vs daylight), not to green.
    warmth = float(rng.uniform(-1, 1)) if wild else 0.0
    img *= (exposure * np.array([1 - 0.07 * warmth, 1.0, 1 + 0.05 * warmth])).astype(np.float32)
    shine = wild and bool(rng.random() < 0.15)
    if shine:
        img += (255.0 - img) * (rng.uniform(0.3, 0.6) * glare(rng, h, w))[..., None]

    kind = (fx.pick(rng, {"none": 0.4, "defocus": 0.3, "motion": 0.15, "lowres": 0.15}) if wild
            else "none")
    img, blur_size = blur(rng, img, kind)
    crisp = wild and bool(rng.random() < 0.3)
    if crisp:
        img = sharpen(rng, img)
    sigma = float(rng.uniform(1.0, 10.0) if wild else rng.uniform(1.5, 6.0))
    img = sensor_noise(rng, img, sigma)
    image = np.clip(np.round(img), 0, 255).astype(np.uint8)
    quality, data = 0, None
    if wild and rng.random() < 0.5:
        quality = int(rng.integers(25, 93))
        image, data = jpeg_round_trip(image, quality)
    conditions = {
        "paper_edge": bool(sheet_scale < 1.0 and moved and not np.allclose(hmat, np.eye(3))),
        "perspective": tilted, "light_gradient": gradient, "vignette": vignette,
        "shadow": shadow, "glare": shine, "finger": finger,
        "exposure": "dim" if exposure < 0.8 else "bright" if exposure > 1.0 else "normal",
        "blur": kind, "sharpened": crisp,
        "noise": "low" if sigma < 3 else "medium" if sigma < 6 else "high",
        "jpeg": "none" if not quality else "high" if quality >= 70
        else "medium" if quality >= 45 else "low",
    }
    params = {"blur_size": blur_size, "noise_sigma": sigma, "jpeg_quality": float(quality),
              "tilt": tilt, "rotation_deg": rotation, "sheet_scale": sheet_scale,
              "exposure": exposure, "warmth": warmth}
    return Shot(image, data, hmat, conditions, params)
