"""Frame sources and the capture thread: parsing, newest-frame handover, order, recovery."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from digitedge.edge_runtime.camera import (
    FrameGrabber,
    SourceSpec,
    open_source,
    parse_source,
)
from digitedge.errors import DigitEdgeError


class CountingSource:
    """Frames whose pixel value is their number (mod 256); optional end after `n` frames."""

    fps = 0.0

    def __init__(self, n: int | None = None, start: int = 0, delay: float = 0.0) -> None:
        self.n, self.i, self.delay, self.released = n, start, delay, False

    def read(self) -> np.ndarray | None:
        if self.n is not None and self.i >= self.n:
            return None
        if self.delay:
            time.sleep(self.delay)
        frame = np.full((4, 4, 3), self.i % 256, dtype=np.uint8)
        self.i += 1
        return frame

    def release(self) -> None:
        self.released = True


class FlakySource:
    """Delivers `good` frames, then fails (raises or returns None) until reopened."""

    fps = 0.0

    def __init__(self, good: int, mode: str) -> None:
        self.good, self.mode, self.i = good, mode, 0

    def read(self) -> np.ndarray | None:
        self.i += 1
        if self.i > self.good:
            if self.mode == "raise":
                raise OSError("device unplugged")
            return None
        return np.zeros((4, 4, 3), np.uint8)

    def release(self) -> None:
        pass


def test_parse_source_kinds(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    video.write_bytes(b"x")
    assert parse_source("0") == SourceSpec("index", 0)
    assert parse_source("2") == SourceSpec("index", 2)
    assert parse_source("/dev/video1") == SourceSpec("device", "/dev/video1")
    assert parse_source("picamera") == SourceSpec("picamera", "picamera")
    assert parse_source("rtsp://cam.local/stream") == SourceSpec("url", "rtsp://cam.local/stream")
    assert parse_source(str(video)) == SourceSpec("file", str(video))


def test_missing_file_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DigitEdgeError, match="video source not found") as info:
        parse_source(str(tmp_path / "nope.mp4"))
    assert "\n" not in str(info.value)


def test_unopenable_file_and_picamera_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video at all")
    with pytest.raises(DigitEdgeError, match="cannot open video source"):
        open_source(parse_source(str(junk)))
    try:
        import picamera2  # noqa: F401
    except ImportError:
        with pytest.raises(DigitEdgeError, match="python3-picamera2"):
            open_source(parse_source("picamera"))


def test_latest_mode_drops_stale_frames_and_hands_over_the_newest() -> None:
    source = CountingSource(delay=0.001)
    grabber = FrameGrabber(lambda: source, first=source).start()
    try:
        first = grabber.get(timeout=2.0)
        assert first is not None
        time.sleep(0.2)  # a slow consumer: the producer keeps capturing meanwhile
        captured_before = grabber.captured
        frame = grabber.get(timeout=2.0)
        assert frame is not None
        # The frame handed over is (nearly) the newest captured, not the one after `first`.
        assert frame.index >= captured_before - 2
        assert frame.index > first.index + 5
        assert grabber.dropped > 0
    finally:
        grabber.stop()
    assert source.released


def test_sequential_mode_delivers_every_frame_in_order_then_ends() -> None:
    source = CountingSource(n=50)
    grabber = FrameGrabber(lambda: source, sequential=True, ends=True, first=source).start()
    got = []
    while not grabber.finished:
        frame = grabber.get(timeout=2.0)
        if frame is not None:
            got.append(int(frame.image[0, 0, 0]))
            time.sleep(0.001)  # slower than the producer: it must wait, not drop
    grabber.stop()
    assert got == list(range(50))
    assert grabber.dropped == 0
    assert grabber.status.state == "ended"


def test_loop_reopens_a_file_that_ended() -> None:
    opened = []

    def opener() -> CountingSource:
        opened.append(CountingSource(n=5))
        return opened[-1]

    grabber = FrameGrabber(opener, sequential=True, ends=True, loop=True).start()
    got = [grabber.get(timeout=2.0) for _ in range(12)]
    grabber.stop()
    assert [int(f.image[0, 0, 0]) for f in got] == [0, 1, 2, 3, 4] * 2 + [0, 1]
    assert len(opened) >= 3


@pytest.mark.parametrize("mode", ["raise", "none"])
def test_camera_failing_mid_run_is_retried_with_backoff_and_recovers(mode: str) -> None:
    attempts = []
    lock = threading.Lock()

    def opener() -> FlakySource:
        with lock:
            attempts.append(time.monotonic())
            n = len(attempts)
        if n in (2, 3):  # the device is gone: the first two reopen attempts fail
            raise DigitEdgeError("cannot open video source 0")
        return FlakySource(good=3, mode=mode)

    grabber = FrameGrabber(opener, retry_initial=0.02, retry_max=0.05,
                           first=opener()).start()
    seen_lost = False
    frames = after_loss = 0
    deadline = time.monotonic() + 10
    while grabber.status.reconnects < 2 and time.monotonic() < deadline:
        if grabber.get(timeout=0.05) is not None:
            frames += 1
            after_loss += seen_lost
        if grabber.status.state == "lost":
            seen_lost = True
            assert "retrying in" in grabber.status.message
    grabber.stop()
    assert seen_lost
    assert grabber.status.reconnects >= 2, "the source never came back"
    assert frames >= 2 and after_loss >= 1  # frames flow again after the loss
    # Backoff doubles from 0.02 s and is capped at 0.05 s: the waits between the failed
    # reopen attempts are at least 0.04 s, then 0.05 s (a wait never ends early).
    gaps = np.diff(attempts[1:4])
    assert gaps[0] >= 0.039 and gaps[1] >= 0.049, gaps


@pytest.mark.parametrize(("name", "fourcc"), [("clip.avi", "MJPG"), ("clip.mp4", "mp4v")])
def test_video_file_roundtrip_with_opencv(tmp_path: Path, name: str, fourcc: str) -> None:
    """The codecs live tests and --record rely on can be written and read back here."""
    path = tmp_path / name
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (32, 24))
    assert writer.isOpened()
    for k in range(7):
        writer.write(np.full((24, 32, 3), 30 * k, np.uint8))
    writer.release()
    source = open_source(parse_source(str(path)))
    means = []
    while (frame := source.read()) is not None:
        means.append(float(frame.mean()))
    source.release()
    assert len(means) == 7
    assert np.allclose(means, [30 * k for k in range(7)], atol=4)
