"""Draw what was read onto the image, and tile the 28x28 tensors the model saw."""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.edge_runtime.types import Digit, Reading

ACCEPTED_BGR = (0, 200, 0)
REJECTED_BGR = (0, 0, 230)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image.copy()


def _label(canvas: np.ndarray, text: str, org: tuple[int, int], scale: float,
           color: tuple[int, int, int], thickness: int) -> None:
    """Text on a filled background so it stays legible on any picture."""
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, thickness)
    x, y = org
    y = max(th + base, y)
    cv2.rectangle(canvas, (x, y - th - base), (x + tw, y + base // 2), color, cv2.FILLED)
    cv2.putText(canvas, text, (x, y - base // 2), _FONT, scale, (255, 255, 255), thickness,
                cv2.LINE_AA)


def _draw_digit(canvas: np.ndarray, d: Digit, color: tuple[int, int, int], scale: float,
                thickness: int) -> None:
    x, y, w, h = d.box
    cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), color, thickness)
    _label(canvas, f"{d.label} {d.confidence:.2f}", (x, y - thickness), scale, color,
           max(1, thickness // 2))


def draw_reading(image: np.ndarray, reading: Reading) -> np.ndarray:
    """A BGR copy of `image` with a box, label and confidence per digit and the text read.

    Accepted digits are green; rejected ones (below the confidence floor) red.
    """
    canvas = _as_bgr(np.asarray(image))
    side = max(canvas.shape[:2])
    scale = max(0.4, side / 1200)
    thickness = max(1, round(side / 500))
    for d in reading.rejected:
        _draw_digit(canvas, d, REJECTED_BGR, scale * 0.8, thickness)
    for d in reading.digits:
        _draw_digit(canvas, d, ACCEPTED_BGR, scale, thickness)
    text = reading.text.replace("\n", " / ") or "(no digits)"
    _label(canvas, f"read: {text}", (4, canvas.shape[0] - 6), scale * 1.2, (40, 40, 40),
           thickness)
    return canvas


def crops_mosaic(crops: np.ndarray, labels: list[str] | None = None, *, columns: int = 10,
                 zoom: int = 3) -> np.ndarray:
    """Tile uint8 (N, 28, 28) crops into one BGR image, optionally captioned per crop.

    This shows exactly what the model was fed, which is the first thing to look at when a
    digit is misread.
    """
    n = len(crops)
    cell = 28 * zoom
    caption = 14 if labels else 0
    columns = max(1, min(columns, n)) if n else 1
    rows = max(1, -(-n // columns))
    mosaic = np.full((rows * (cell + caption + 2), columns * (cell + 2), 3), 64, np.uint8)
    for i, crop in enumerate(crops):
        r, c = divmod(i, columns)
        y, x = r * (cell + caption + 2), c * (cell + 2)
        big = cv2.resize(crop, (cell, cell), interpolation=cv2.INTER_NEAREST)
        mosaic[y:y + cell, x:x + cell] = big[:, :, None]
        if labels:
            cv2.putText(mosaic, labels[i], (x + 2, y + cell + caption - 3), _FONT, 0.4,
                        (255, 255, 255), 1, cv2.LINE_AA)
    return mosaic
