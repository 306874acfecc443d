"""What a live viewer sees on top of the reader's boxes: reading, FPS, latency, camera status."""

from __future__ import annotations

import collections
from typing import NamedTuple

import cv2
import numpy as np

from digitedge.edge_runtime.annotate import draw_reading
from digitedge.edge_runtime.types import Box, Reading

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_GREEN = (60, 220, 60)
_RED = (40, 40, 235)
_WHITE = (255, 255, 255)
_AMBER = (0, 190, 255)


class FpsMeter:
    """Frames per second over a sliding window of the last `window` frame times."""

    def __init__(self, window: int = 30) -> None:
        self._times: collections.deque[float] = collections.deque(maxlen=window)

    def tick(self, now: float) -> float:
        """Record a frame finished at `now` (seconds, monotonic); returns the current FPS."""
        self._times.append(now)
        return self.fps

    @property
    def fps(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0


class OverlayInfo(NamedTuple):
    """The live state drawn over a frame."""

    fps: float  # processed frames per second
    latency_ms: float  # this frame, capture to reading (drawing and encoding come after)
    read_ms: float  # the reader's own time for this frame
    frame: int  # frame index
    stable_text: str | None  # the current stable reading, None before the first one
    camera_ok: bool  # False while the source is lost
    camera_message: str  # e.g. "camera lost, retrying in 2 s"
    roi: Box | None = None  # the region read, drawn as a frame when set


def offset_reading(reading: Reading, dx: int, dy: int) -> Reading:
    """Shift every box by (dx, dy): readings of an ROI crop back into full-frame pixels."""
    if dx == 0 and dy == 0:
        return reading

    def move(digits: tuple) -> tuple:
        return tuple(d._replace(box=Box(d.box.x + dx, d.box.y + dy, d.box.w, d.box.h))
                     for d in digits)

    return reading._replace(digits=move(reading.digits), rejected=move(reading.rejected))


def _bar(image: np.ndarray, y0: int, y1: int) -> None:
    """Darken a full-width band in place so white text stays legible on any scene."""
    band = image[y0:y1]
    band[:] = (band.astype(np.uint16) * 2 // 5).astype(np.uint8)


def _text(image: np.ndarray, text: str, org: tuple[int, int], scale: float,
          color: tuple[int, int, int]) -> None:
    cv2.putText(image, text, org, _FONT, scale, color, max(1, int(round(scale * 2))),
                cv2.LINE_AA)


def draw_overlay(image: np.ndarray, reading: Reading | None, info: OverlayInfo) -> np.ndarray:
    """A BGR copy of `image` with the reading's boxes (reader's annotate) and a status bar.

    Top band: FPS, latency and frame number, then the stable reading (or the camera status
    in red while the source is lost). `reading` None draws no boxes (no frame read).
    """
    out = draw_reading(image, reading) if reading is not None else image.copy()
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    w = out.shape[1]
    scale = max(0.4, min(1.0, w / 900))
    line = int(28 * scale / 0.6)
    if info.roi is not None:
        x, y, bw, bh = info.roi
        cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), _AMBER, 1)
    # Two lines at the top; the reader's own "read: ..." label stays at the bottom.
    _bar(out, 0, min(out.shape[0], 2 * line + line // 3))
    top = (f"{info.fps:5.1f} FPS   latency {info.latency_ms:4.0f} ms   "
           f"read {info.read_ms:4.0f} ms   frame {info.frame}")
    _text(out, top, (6, int(line * 0.75)), scale, _WHITE)
    if info.camera_ok:
        shown = "-" if info.stable_text is None else (info.stable_text.replace("\n", " / ")
                                                      or "(no digits)")
        _text(out, f"stable: {shown}", (6, int(line * 1.9)), scale * 1.1, _GREEN)
    else:
        _text(out, info.camera_message, (6, int(line * 1.9)), scale * 1.1, _RED)
    return out

