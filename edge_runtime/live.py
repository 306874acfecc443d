"""The live loop: grab the newest frame, read it, debounce, and show / serve / record / print.

Capture runs in `camera.FrameGrabber`'s thread; everything else (reading, overlay, JPEG for
the web view, recording, the optional window) runs here, once per processed frame. SIGINT and
SIGTERM only set a stop flag, so the loop always ends through the same path: the recording is
finalised and renamed, the port released, the capture thread joined.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, NamedTuple

import cv2
import numpy as np

from digitedge.atomic import atomic_path
from digitedge.edge_runtime.camera import FrameGrabber, FrameSource, open_source, parse_source
from digitedge.edge_runtime.manifest import MIN_CONFIDENCE
from digitedge.edge_runtime.overlay import FpsMeter, OverlayInfo, draw_overlay, offset_reading
from digitedge.edge_runtime.server import LiveServer, parse_host_port
from digitedge.edge_runtime.stability import Stabilizer, StableReading
from digitedge.edge_runtime.types import Box, Reading
from digitedge.errors import DigitEdgeError

log = logging.getLogger(__name__)

WINDOW = "digitedge live"
_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}
NO_GUI_HINT = ("--display needs OpenCV with GUI support, and opencv-python-headless has none: "
               "pip uninstall opencv-python-headless && pip install opencv-python; on a headless "
               "Pi use --serve 127.0.0.1:8080 and open the page in a browser instead")


@dataclass
class LiveConfig:
    """Everything `digitedge live` was asked to do (one field per flag)."""

    source: str = "0"  # camera index, /dev/videoN, video file, stream URL or "picamera"
    width: int | None = None  # requested capture size (cameras only)
    height: int | None = None
    model: str | None = None  # .tflite; None = the bundled int8 model
    roi: Box | None = None  # read only this part of each frame
    display: bool | None = None  # None: open a window when a GUI and a display exist
    serve: str | None = None  # "HOST:PORT" for the web view
    json_lines: bool = False  # one JSON object per changed stable reading on stdout
    record: Path | None = None  # annotated video (.mp4 or .avi)
    max_frames: int | None = None  # stop after this many processed frames
    stable_frames: int = 3  # K consecutive identical readings before one is reported
    min_confidence: float = MIN_CONFIDENCE  # digits below this are rejected by the reader
    work_side: int | None = None  # the reader's first size limit; None = its default
    loop: bool = False  # replay a video file forever
    realtime: bool = False  # play a file at its frame rate, newest-frame-only like a camera
    retry_initial: float = 0.5  # first reconnect delay (s); doubles up to retry_max
    retry_max: float = 8.0
    max_clients: int = 4  # concurrent MJPEG viewers
    jpeg_quality: int = 80


class FrameResult(NamedTuple):
    """What happened to one processed frame (for callers such as the soak benchmark)."""

    processed: int  # 1-based count of frames processed
    index: int  # the frame's capture index (gaps are frames dropped as stale)
    reading: Reading  # in full-frame coordinates
    stable: StableReading | None  # set when this frame changed the stable reading
    fps: float
    latency_ms: float  # capture to finished processing (overlay drawn and published)


class LiveSummary(NamedTuple):
    """The end-of-run counts."""

    frames: int  # processed
    captured: int  # delivered by the source
    dropped: int  # stale frames skipped
    reported: int  # stable readings reported
    reconnects: int  # times the source came back after a loss
    last_text: str | None  # the last stable reading


def parse_roi(text: str) -> Box:
    """'x,y,w,h' in pixels -> Box (one-line error when malformed)."""
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise DigitEdgeError(f"--roi wants x,y,w,h in pixels such as 100,80,400,200, "
                             f"got {text!r}") from None
    if x < 0 or y < 0 or w <= 0 or h <= 0:
        raise DigitEdgeError(f"--roi {text}: x and y must be >= 0, w and h > 0")
    return Box(x, y, w, h)


def clip_roi(roi: Box, width: int, height: int) -> Box:
    """The part of `roi` inside a width x height frame; an error when nothing is left."""
    x0, y0 = min(roi.x, width), min(roi.y, height)
    x1, y1 = min(roi.x + roi.w, width), min(roi.y + roi.h, height)
    if x1 <= x0 or y1 <= y0:
        raise DigitEdgeError(f"--roi {','.join(map(str, roi))} lies outside the "
                             f"{width}x{height} frame")
    return Box(x0, y0, x1 - x0, y1 - y0)


def gui_available() -> bool:
    """True when this OpenCV build can open windows (opencv-python-headless cannot)."""
    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GUI:") and line.split(":", 1)[1].strip().upper() == "NONE":
            return False
    try:
        cv2.namedWindow(WINDOW)
        cv2.destroyWindow(WINDOW)
        return True
    except cv2.error:
        return False


def _want_display(requested: bool | None) -> bool:
    if requested is False:
        return False
    has_screen = not sys.platform.startswith("linux") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if requested is None:
        return has_screen and gui_available()
    if not gui_available():
        print(f"digitedge: {NO_GUI_HINT}", file=sys.stderr)
        return False
    return True


class Recorder(contextlib.AbstractContextManager):
    """Annotated frames to a video; written under a temporary name, renamed on exit."""

    def __init__(self, dest: Path, fps: float, size: tuple[int, int]) -> None:
        fourcc = _FOURCC.get(dest.suffix.lower())
        if fourcc is None:
            raise DigitEdgeError(f"--record {dest}: use a .mp4 or .avi file name")
        self._ctx = atomic_path(dest)
        tmp = self._ctx.__enter__()
        self.writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if not self.writer.isOpened():
            self._ctx.__exit__(DigitEdgeError, DigitEdgeError(), None)
            raise DigitEdgeError(f"cannot write {dest} with codec {fourcc}: try a .avi name")
        self.dest, self.size, self.frames = dest, size, 0

    def write(self, image: np.ndarray) -> None:
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self.writer.write(image)
        self.frames += 1

    def __exit__(self, *exc: Any) -> bool | None:
        self.writer.release()  # writes the container trailer before the rename
        log.info("recorded %d frames to %s", self.frames, self.dest)
        return self._ctx.__exit__(*exc)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` (a second one aborts); a no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.warning("signal %d: stopping", signum)
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _emit(out: IO[str], stable: StableReading, json_lines: bool) -> None:
    if json_lines:
        record = {"text": stable.reading.text,
                  "digits": [d.to_json() for d in stable.reading.digits],
                  "frame": stable.frame, "since_frame": stable.since,
                  "time": round(time.time(), 3)}
        out.write(json.dumps(record) + "\n")
    else:
        out.write(f"frame {stable.frame}: {stable.reading.text.replace(chr(10), ' / ') or '-'}\n")
    out.flush()


def run_live(cfg: LiveConfig, *, reader: Any = None,
             opener: Callable[[], FrameSource] | None = None, ends: bool | None = None,
             out: IO[str] | None = None, stop: threading.Event | None = None,
             on_frame: Callable[[FrameResult], None] | None = None,
             on_serve: Callable[[LiveServer], None] | None = None) -> LiveSummary:
    """Run live reading until the source ends, `max_frames` is reached or `stop` is set.

    Args:
        cfg: the options.
        reader: a DigitReader (default: one built from cfg.model and cfg.min_confidence).
        opener: opens the frame source (default: from cfg.source); tests pass fakes here.
        ends: the source can end (a file); default: cfg.source is a file.
        out: where stable readings are printed (default: stdout).
        stop: set it (or send SIGINT/SIGTERM) to stop cleanly.
        on_frame / on_serve: called per processed frame / once the web server listens.

    Raises:
        DigitEdgeError: the source, model, ROI, recording or port cannot be used.
    """
    out = out or sys.stdout
    stop = stop or threading.Event()
    if opener is None:
        spec = parse_source(cfg.source)
        opener = partial(open_source, spec, cfg.width, cfg.height)
        ends = spec.is_file if ends is None else ends
    ends = bool(ends)
    address = parse_host_port(cfg.serve) if cfg.serve else None
    first = opener()  # a source that cannot be opened at start is an error, not a retry
    if reader is None:
        from digitedge.edge_runtime.read_cli import reader_config
        from digitedge.edge_runtime.reader import DigitReader
        try:
            reader = DigitReader(cfg.model, min_confidence=cfg.min_confidence,
                                 config=reader_config(cfg.work_side))
        except BaseException:
            first.release()
            raise
    # Files are read frame by frame in order unless --realtime asks to behave like a camera.
    sequential = ends and not cfg.realtime
    fps_hint = getattr(first, "fps", 0.0) or 25.0
    grabber = FrameGrabber(opener, sequential=sequential, loop=cfg.loop, ends=ends,
                           pace_fps=fps_hint if ends and cfg.realtime else 0.0,
                           retry_initial=cfg.retry_initial, retry_max=cfg.retry_max, first=first)
    stabilizer = Stabilizer(cfg.stable_frames)
    meter = FpsMeter()
    processed = reported = 0
    latency_ms = read_ms = 0.0
    last_image: np.ndarray | None = None
    last_reading: Reading | None = None
    last_index = -1
    roi: Box | None = None
    roi_shape: tuple[int, ...] = ()
    recorder: Recorder | None = None
    encode = [int(cv2.IMWRITE_JPEG_QUALITY), int(cfg.jpeg_quality)]

    with contextlib.ExitStack() as stack:
        try:
            server = None
            if address is not None:
                server = LiveServer(*address, max_clients=cfg.max_clients).start()
                stack.callback(server.close)
                print(f"digitedge: live view on {server.url}", file=sys.stderr, flush=True)
                if on_serve is not None:
                    on_serve(server)
            display = _want_display(cfg.display)
            if display:
                stack.callback(cv2.destroyAllWindows)
        except BaseException:
            first.release()
            raise
        stack.enter_context(stop_on_signals(stop))
        grabber.start()
        stack.callback(grabber.stop)

        def show(image: np.ndarray | None, reading: Reading | None, processed_frame: bool) -> None:
            nonlocal recorder
            status = grabber.status
            stable = stabilizer.current
            state = {"text": None if stable is None else stable.reading.text,
                     "digits": [] if stable is None else
                     [d.to_json() for d in stable.reading.digits],
                     "frame_text": None if reading is None else reading.text,
                     "fps": round(meter.fps, 2), "frame": last_index,
                     "latency_ms": round(latency_ms, 1), "camera": status.message,
                     "camera_ok": status.state != "lost"}
            # Encode for viewers; else now and then for /snapshot.jpg, and on status changes.
            streaming = server is not None and (server.streaming or processed % 10 == 0
                                                or not processed_frame)
            if image is None or not (display or streaming or cfg.record):
                if server is not None:
                    server.publish(None, state)
                return
            info = OverlayInfo(meter.fps, latency_ms, read_ms, last_index,
                               None if stable is None else stable.reading.text,
                               status.state != "lost", status.message, roi)
            annotated = draw_overlay(image, reading, info)
            if cfg.record is not None and processed_frame:
                if recorder is None:
                    size = (annotated.shape[1], annotated.shape[0])
                    recorder = stack.enter_context(Recorder(cfg.record, fps_hint, size))
                recorder.write(annotated)
            if server is not None:
                jpeg = None
                if streaming:
                    ok, buf = cv2.imencode(".jpg", annotated, encode)
                    jpeg = buf.tobytes() if ok else None
                server.publish(jpeg, state)
            if display:
                cv2.imshow(WINDOW, annotated)
                if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                    stop.set()

        while not stop.is_set():
            frame = grabber.get(timeout=0.25)
            if frame is None:
                if grabber.finished:
                    break
                if grabber.status.state == "lost":
                    stabilizer.reset()
                    show(last_image, last_reading, processed_frame=False)
                continue
            image = frame.image
            if cfg.roi is not None and image.shape[:2] != roi_shape:
                # Clipped per frame size: a reconnected camera may come back at another size.
                roi, roi_shape = clip_roi(cfg.roi, image.shape[1], image.shape[0]), image.shape[:2]
            crop = image if roi is None else image[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w]
            reading = reader.read(crop)
            if roi is not None:
                reading = offset_reading(reading, roi.x, roi.y)
            read_ms = float(reading.timing_ms.get("total", 0.0))
            processed += 1
            last_image, last_reading, last_index = image, reading, frame.index
            changed = stabilizer.update(reading, frame.index)
            if changed is not None:
                reported += 1
                _emit(out, changed, cfg.json_lines)
                log.info("stable reading at frame %d: %r", changed.frame, changed.reading.text)
            meter.tick(time.monotonic())
            # this frame's own latency on its overlay: measured before drawing, which needs it
            latency_ms = (time.monotonic() - frame.captured) * 1000.0
            show(image, reading, processed_frame=True)
            if on_frame is not None:
                done_ms = (time.monotonic() - frame.captured) * 1000.0
                on_frame(FrameResult(processed, frame.index, reading, changed, meter.fps,
                                     done_ms))
            if cfg.max_frames is not None and processed >= cfg.max_frames:
                break
        grabber.stop()
        status = grabber.status
    current = stabilizer.current
    return LiveSummary(processed, grabber.captured, grabber.dropped, reported,
                       status.reconnects, None if current is None else current.reading.text)
