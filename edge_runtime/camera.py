"""Frame sources (camera, device, file, URL, Pi camera) and a capture thread that keeps up.

`FrameGrabber` reads in its own thread so a slow reader never makes the camera queue frames:
in "latest" mode the newest frame replaces any frame not yet taken (stale frames are dropped,
latency stays flat); in "sequential" mode (video files, unless paced in real time) every frame
is handed over in order, which is what tests and offline analysis need. A source that stops
delivering is reopened with exponential backoff; the consumer sees that as a `CameraStatus`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from digitedge.errors import DigitEdgeError

log = logging.getLogger(__name__)

PICAMERA = "picamera"
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class SourceSpec(NamedTuple):
    """What `--source` names, parsed."""

    kind: str  # "index", "device", "file", "url" or "picamera"
    target: int | str  # camera index, device path, file path, URL, or "picamera"

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


def parse_source(text: str) -> SourceSpec:
    """Classify a `--source` value; a file must exist (one-line error otherwise).

    "0" or "1" are camera indexes, "/dev/video0" a V4L2 device, "picamera" the Pi camera
    module, anything with a scheme (rtsp://, http://) a stream URL, the rest a video file.
    """
    text = text.strip()
    if text.isdigit():
        return SourceSpec("index", int(text))
    if text.lower() == PICAMERA:
        return SourceSpec("picamera", PICAMERA)
    if _URL.match(text):
        return SourceSpec("url", text)
    if text.startswith("/dev/"):
        return SourceSpec("device", text)
    if not Path(text).is_file():
        raise DigitEdgeError(
            f"video source not found: {text} (give a camera index such as 0, a device such as "
            "/dev/video0, an existing video file, a stream URL, or picamera)")
    return SourceSpec("file", text)


class FrameSource(Protocol):
    """Anything that yields BGR frames; `read` returns None when no frame came."""

    fps: float  # the source's nominal frame rate, 0 when unknown

    def read(self) -> np.ndarray | None: ...

    def release(self) -> None: ...


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Hide OpenCV's own multi-line warnings while opening: we report one line ourselves."""
    logging_mod = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_mod is None:
        yield
        return
    old = logging_mod.getLogLevel()
    logging_mod.setLogLevel(logging_mod.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging_mod.setLogLevel(old)


class OpenCVSource:
    """A camera index, V4L2 device, video file or stream URL through cv2.VideoCapture."""

    def __init__(self, spec: SourceSpec, width: int | None = None,
                 height: int | None = None) -> None:
        v4l2 = sys.platform.startswith("linux") and hasattr(cv2, "CAP_V4L2")
        with _quiet_opencv():
            if spec.kind in ("index", "device") and v4l2:
                self.cap = cv2.VideoCapture(spec.target, cv2.CAP_V4L2)
            else:
                self.cap = cv2.VideoCapture(spec.target)
        if not self.cap.isOpened():
            self.cap.release()
            raise DigitEdgeError(f"cannot open video source {spec.target}: check that it is "
                                 "connected (or exists) and not in use by another program")
        if spec.kind in ("index", "device"):
            if width:
                self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            if height:
                self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            # A driver-side queue of one frame: we want the newest, not the oldest.
            self.cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.0 < fps < 1000.0 else 0.0

    def read(self) -> np.ndarray | None:
        ok, frame = self.cap.read()
        return frame if ok and frame is not None and frame.size else None

    def release(self) -> None:
        self.cap.release()


class PiCameraSource:
    """The Raspberry Pi camera module through picamera2 (libcamera), BGR frames."""

    def __init__(self, width: int | None = None, height: int | None = None) -> None:
        try:
            from picamera2 import Picamera2  # only on a Pi: sudo apt install python3-picamera2
        except ImportError:
            raise DigitEdgeError(
                "picamera needs picamera2, which is not installed: on Raspberry Pi OS run "
                "'sudo apt install python3-picamera2' and create the venv with "
                "--system-site-packages (or use a USB camera: --source 0)") from None
        try:
            self.cam = Picamera2()
            size = (int(width or 640), int(height or 480))
            # picamera2's "RGB888" is laid out B, G, R in memory: OpenCV's BGR order.
            config = self.cam.create_video_configuration(main={"size": size, "format": "RGB888"})
            self.cam.configure(config)
            self.cam.start()
        except Exception as exc:  # libcamera raises assorted types when no camera is attached
            raise DigitEdgeError(f"cannot start the Pi camera: {exc}".splitlines()[0]) from None
        self.fps = 0.0

    def read(self) -> np.ndarray | None:
        frame = self.cam.capture_array("main")
        return None if frame is None else np.ascontiguousarray(frame[:, :, :3])

    def release(self) -> None:
        self.cam.stop()
        self.cam.close()


def open_source(spec: SourceSpec, width: int | None = None,
                height: int | None = None) -> FrameSource:
    """Open the source `spec` names; raises DigitEdgeError when it cannot be opened."""
    if spec.kind == "picamera":
        return PiCameraSource(width, height)
    return OpenCVSource(spec, width, height)


class Frame(NamedTuple):
    """One captured frame."""

    image: np.ndarray  # BGR uint8
    index: int  # 0-based count of frames captured since start (gaps = dropped frames)
    captured: float  # time.monotonic() when it arrived, for end-to-end latency


class CameraStatus(NamedTuple):
    """The capture thread's state, for the overlay, the log and /reading."""

    state: str  # "ok", "lost" (retrying), "ended" (file finished) or "stopped"
    message: str  # one line for people, e.g. "camera lost, retrying in 2 s"
    reconnects: int  # successful reopenings after a loss


class FrameGrabber:
    """Capture in a background thread and hand the consumer frames without building a queue.

    Args:
        opener: returns a newly opened FrameSource (called again after each loss).
        sequential: hand over every frame in order (the capture waits for the consumer);
            False drops stale frames and always hands over the newest.
        loop: reopen a source that ended (a video file) instead of finishing.
        ends: the source can end (a file); a camera that stops sending is "lost" instead.
        pace_fps: sleep between reads to play a file at this rate (0: as fast as possible).
        retry_initial / retry_max: backoff in seconds between reopen attempts, doubling.
        first: an already opened source to start with (so open errors surface at start).
    """

    def __init__(self, opener: Callable[[], FrameSource], *, sequential: bool = False,
                 loop: bool = False, ends: bool = False, pace_fps: float = 0.0,
                 retry_initial: float = 0.5, retry_max: float = 8.0,
                 first: FrameSource | None = None) -> None:
        self._opener = opener
        self.sequential = sequential
        self.loop = loop
        self.ends = ends
        self.pace_fps = pace_fps
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self._source = first
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._stop = threading.Event()
        self._status = CameraStatus("ok", "camera ok", 0)
        self._status_seq = 0  # bumped on every status change, so `get` can report it at once
        self.captured = 0  # frames read from the source
        self.dropped = 0  # frames overwritten before the consumer took them
        self._thread = threading.Thread(target=self._run, name="frame-grabber", daemon=True)

    def start(self) -> FrameGrabber:
        self._thread.start()
        return self

    @property
    def status(self) -> CameraStatus:
        with self._cond:
            return self._status

    def _set_status(self, state: str, message: str, reconnects: int | None = None) -> None:
        with self._cond:
            n = self._status.reconnects if reconnects is None else reconnects
            self._status = CameraStatus(state, message, n)
            self._status_seq += 1
            self._cond.notify_all()

    def get(self, timeout: float = 0.5) -> Frame | None:
        """The next frame to process; None after `timeout` s, when the status changes (e.g.
        the camera was lost: see `status`), or once capture has finished."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seq = self._status_seq
            while self._slot is None and self._status.state not in ("ended", "stopped"):
                if self._status_seq != seq:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            frame, self._slot = self._slot, None
            self._cond.notify_all()  # a sequential producer waits for the empty slot
            return frame

    @property
    def finished(self) -> bool:
        """True once the source has ended (or capture stopped) and every frame was taken."""
        with self._cond:
            return self._slot is None and self._status.state in ("ended", "stopped")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop capturing, release the source and join the thread."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- capture thread -------------------------------------------------------------------

    def _put(self, image: np.ndarray) -> None:
        frame = Frame(image, self.captured, time.monotonic())
        self.captured += 1
        with self._cond:
            if self.sequential:
                while self._slot is not None and not self._stop.is_set():
                    self._cond.wait(0.1)
            elif self._slot is not None:
                self.dropped += 1
            self._slot = frame
            self._cond.notify_all()

    def _read_once(self) -> np.ndarray | None:
        try:
            return self._source.read() if self._source is not None else None
        except Exception as exc:  # a driver or network error must not kill the capture
            log.warning("frame read failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
            return None

    def _release(self) -> None:
        if self._source is not None:
            try:
                self._source.release()
            except Exception as exc:  # releasing a dead device can fail too
                log.debug("release failed: %s", exc)
            self._source = None

    def _reopen(self) -> bool:
        try:
            self._source = self._opener()
            return True
        except Exception as exc:  # DigitEdgeError from open_source, or a driver error
            log.debug("reopen failed: %s", exc)
            return False

    def _run(self) -> None:
        delay = self.retry_initial
        since_open = 0
        reconnects = 0
        lost = False
        next_due = time.monotonic()
        try:
            while not self._stop.is_set():
                if self._source is None and not self._reopen():
                    self._set_status("lost", f"camera lost, retrying in {delay:g} s")
                    log.warning("video source lost, retrying in %g s", delay)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.retry_max)
                    lost = True
                    continue
                image = self._read_once()
                if image is not None:
                    if since_open == 0 and lost:
                        reconnects += 1
                        log.warning("video source recovered")
                        self._set_status("ok", "camera ok", reconnects)
                        lost = False
                    since_open += 1
                    delay = self.retry_initial
                    if self.pace_fps > 0:
                        next_due = max(next_due + 1.0 / self.pace_fps, time.monotonic())
                        self._stop.wait(max(0.0, next_due - time.monotonic()))
                    self._put(image)
                    continue
                # No frame: a file that ended (normal), or a camera/stream that stopped.
                had_frames = since_open > 0
                self._release()
                since_open = 0
                if self.ends and not self.loop:
                    self._set_status("ended", "video ended")
                    return
                if self.ends and had_frames:
                    continue  # loop: rewind by reopening straight away
                lost = True
                self._set_status("lost", f"camera lost, retrying in {delay:g} s")
                log.warning("video source stopped delivering, retrying in %g s", delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry_max)
        finally:
            self._release()
            with self._cond:
                if self._status.state != "ended":
                    self._status = CameraStatus("stopped", "capture stopped",
                                                self._status.reconnects)
                self._cond.notify_all()
