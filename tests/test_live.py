"""`digitedge live` end to end: a video of MNIST test digits, the web view, a failing camera,
recording, ROI, and clean shutdown on SIGTERM."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from digitedge.benchmarks.soak_live import compose_number, write_number_video
from digitedge.cli import main
from digitedge.edge_runtime import live
from digitedge.edge_runtime.live import LiveConfig, clip_roi, parse_roi, run_live
from digitedge.edge_runtime.reader import DigitReader
from digitedge.edge_runtime.types import Box
from digitedge.errors import DigitEdgeError

NUMBERS = ["42", "7", "", "305", "1968", "20"]
FRAMES_EACH = 6
K = 3


@pytest.fixture(scope="module")
def reader() -> DigitReader:
    return DigitReader()


@pytest.fixture(scope="module")
def pools(reader: DigitReader) -> tuple[np.ndarray, dict[int, list[int]]]:
    """MNIST TEST digits per label that the model alone classifies right with confidence.

    The live tests check the live path (video codec, segmentation, stability, output), not
    the model's accuracy, which belongs to the benchmarks; the bundled model may change.
    """
    from digitedge.train.data import SAMPLE_PATH, load_npz
    data = load_npz(SAMPLE_PATH)
    probs = reader.classify(data.x_test[:300])
    ok = (probs.argmax(1) == data.y_test[:300]) & (probs.max(1) > 0.9)
    result = {label: [int(i) for i in np.flatnonzero(ok & (data.y_test[:300] == label))[:3]]
              for label in range(10)}
    assert all(result.values()), "too few confidently classified test digits in the sample"
    return data.x_test, result


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, pools) -> Path:
    path = tmp_path_factory.mktemp("live") / "numbers.avi"
    write_number_video(path, NUMBERS, FRAMES_EACH, pools[1], pools[0])
    return path


def test_json_lines_from_a_video_of_mnist_test_digits_match_the_truth(
        video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["live", "--source", str(video), "--json-lines", "--no-display",
                 "--stable-frames", str(K)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["text"] for r in records] == NUMBERS
    # Every frame is processed in order, so each reading is reported on the K-th frame of
    # its segment, and the digits listed are the text's digits.
    assert [r["frame"] for r in records] == [i * FRAMES_EACH + K - 1 for i in range(len(NUMBERS))]
    for r in records:
        assert "".join(str(d["label"]) for d in r["digits"]) == r["text"]
        assert all(0.0 <= d["confidence"] <= 1.0 and len(d["box"]) == 4 for d in r["digits"])


def test_plain_output_max_frames_and_recording(video: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "annotated.mp4"
    code = main(["live", "--source", str(video), "--no-display", "--max-frames", "14",
                 "--record", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.splitlines() == ["frame 2: 42", "frame 8: 7"]
    cap = cv2.VideoCapture(str(out))
    frames = 0
    while cap.read()[0]:
        frames += 1
    cap.release()
    assert frames == 14
    assert [p.name for p in tmp_path.iterdir()] == ["annotated.mp4"]  # no temp file left


def test_overlay_shows_this_frames_latency(video: Path, tmp_path: Path, reader: DigitReader,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Each frame's overlay carries its own capture-to-reading latency, not the last one's."""
    pause = 0.08

    class SlowReader:
        def read(self, image: np.ndarray):
            time.sleep(pause)
            return reader.read(image)

    drawn: list[float] = []
    draw = live.draw_overlay

    def spy(image, reading, info):
        drawn.append(info.latency_ms)
        return draw(image, reading, info)

    monkeypatch.setattr(live, "draw_overlay", spy)
    run_live(LiveConfig(source=str(video), display=False, max_frames=3,
                        record=tmp_path / "a.mp4"), reader=SlowReader(), out=io.StringIO())
    assert len(drawn) == 3 and min(drawn) >= pause * 1000


def test_roi_reads_only_the_region_and_reports_full_frame_boxes(
        tmp_path: Path, pools, reader: DigitReader) -> None:
    x, p = pools
    frame = compose_number("305", [x[p[3][0]], x[p[0][0]], x[p[5][0]]])
    path = tmp_path / "still.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for _ in range(4):
        writer.write(frame)
    writer.release()
    full = reader.read(frame)
    assert full.text == "305"
    right = full.digits[2].box  # the "5"
    roi = Box(right.x - 10, right.y - 10, right.w + 20, right.h + 20)
    results = []
    with open(os.devnull, "w") as sink:
        run_live(LiveConfig(source=str(path), roi=roi, display=False, stable_frames=2),
                 reader=reader, out=sink, on_frame=results.append)
    assert [r.reading.text for r in results] == ["5"] * 4
    got = results[-1].reading.digits[0].box
    assert abs(got.x - right.x) <= 3 and abs(got.y - right.y) <= 3


def test_roi_parsing_and_clipping() -> None:
    assert parse_roi("1,2,30,40") == Box(1, 2, 30, 40)
    with pytest.raises(DigitEdgeError, match="x,y,w,h"):
        parse_roi("1,2,3")
    with pytest.raises(DigitEdgeError, match="w and h > 0"):
        parse_roi("1,2,0,4")
    assert clip_roi(Box(300, 200, 100, 100), 320, 240) == Box(300, 200, 20, 40)
    with pytest.raises(DigitEdgeError, match="outside"):
        clip_roi(Box(400, 0, 10, 10), 320, 240)


def test_missing_source_and_bad_record_name_are_one_line_errors(
        tmp_path: Path, video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--source", str(tmp_path / "gone.mp4"), "--no-display"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitedge: error: video source not found") and "\n" not in err
    assert main(["live", "--source", str(video), "--no-display",
                 "--record", str(tmp_path / "out.gif")]) == 1
    assert "use a .mp4 or .avi" in capsys.readouterr().err
    assert not (tmp_path / "out.gif").exists()


def test_work_side_reaches_the_reader_and_a_too_small_one_is_one_line(
        video: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from digitedge.edge_runtime import reader as reader_module

    configs: list[object] = []
    real = reader_module.DigitReader.__init__

    def spy(self, *args, **kwargs) -> None:
        configs.append(kwargs.get("config"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(reader_module.DigitReader, "__init__", spy)
    assert main(["live", "--source", str(video), "--no-display", "--max-frames", "2",
                 "--work-side", "320"]) == 0
    assert main(["live", "--source", str(video), "--no-display", "--max-frames", "2"]) == 0
    assert [getattr(c, "max_side", None) for c in configs] == [320, None]
    capsys.readouterr()
    assert main(["live", "--source", str(video), "--no-display", "--work-side", "10"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitedge: error: --work-side must be at least") and "\n" not in err


def test_display_without_gui_explains_and_suggests_serve(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(live, "gui_available", lambda: False)
    assert live._want_display(True) is False
    err = capsys.readouterr().err
    assert "pip install opencv-python" in err and "--serve" in err
    assert live._want_display(None) is False and capsys.readouterr().err == ""


def test_serve_gives_page_reading_and_stream_then_releases_the_port(
        video: Path, reader: DigitReader) -> None:
    stop = threading.Event()
    started: list = []
    failures: list[BaseException] = []
    ready = threading.Event()

    def on_serve(server) -> None:
        started.append(server)
        ready.set()

    def target() -> None:
        try:
            with open(os.devnull, "w") as sink:
                run_live(LiveConfig(source=str(video), loop=True, realtime=True, display=False,
                                    serve="127.0.0.1:0", stable_frames=K),
                         reader=reader, out=sink, stop=stop, on_serve=on_serve)
        except BaseException as exc:  # re-raised in the test thread below
            failures.append(exc)
            ready.set()

    thread = threading.Thread(target=target)
    thread.start()
    try:
        assert ready.wait(10) and not failures, failures
        base = started[0].url.rstrip("/")
        assert started[0].host == "127.0.0.1"
        with urllib.request.urlopen(base + "/", timeout=5) as resp:
            assert b'<img src="/stream.mjpg"' in resp.read()
        deadline = time.monotonic() + 20
        state: dict = {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(base + "/reading", timeout=5) as resp:
                state = json.loads(resp.read())
            if state["text"] in NUMBERS and state["frame"] >= K:
                break
            time.sleep(0.05)
        assert set(state) >= {"text", "digits", "fps", "frame"}
        assert state["text"] in NUMBERS and state["fps"] > 0 and state["camera_ok"]
        conn = http.client.HTTPConnection("127.0.0.1", started[0].port, timeout=5)
        conn.request("GET", "/stream.mjpg")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.readline().startswith(b"--")
        assert resp.readline() == b"Content-Type: image/jpeg\r\n"
        length = int(resp.readline().split(b":")[1])
        resp.readline()
        jpeg = resp.read(length)
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (240, 320, 3)
        conn.close()
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive() and not failures
    import socket
    with socket.socket() as s:  # the port was released
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", started[0].port))


class _ScriptedCamera:
    """A fake camera: `good` frames showing `image`, then it fails (raises or goes silent)."""

    fps = 0.0

    def __init__(self, image: np.ndarray, good: int, mode: str) -> None:
        self.image, self.good, self.mode, self.n = image, good, mode, 0

    def read(self) -> np.ndarray | None:
        self.n += 1
        if self.n > self.good:
            if self.mode == "raise":
                raise OSError("VIDIOC_DQBUF: No such device")
            return None
        time.sleep(0.02)  # a 50 fps camera: slower than the reader, so no frame is skipped
        return self.image

    def release(self) -> None:
        pass


@pytest.mark.parametrize("mode", ["raise", "none"])
def test_camera_that_fails_mid_run_is_survived_and_recovered(
        mode: str, pools, reader: DigitReader) -> None:
    x, p = pools
    before = compose_number("42", [x[p[4][0]], x[p[2][0]]])
    after = compose_number("7", [x[p[7][0]]])
    opens: list[int] = []
    statuses: list[str] = []

    def opener() -> _ScriptedCamera:
        opens.append(1)
        if len(opens) == 1:
            return _ScriptedCamera(before, good=10, mode=mode)
        if len(opens) in (2, 3):  # unplugged: reopening fails twice
            raise DigitEdgeError("cannot open video source 0")
        return _ScriptedCamera(after, good=10_000, mode=mode)

    results = []
    lines: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    original_show = live.draw_overlay

    def spy_overlay(image, reading, info):
        statuses.append(info.camera_message)
        return original_show(image, reading, info)

    cfg = LiveConfig(source="0", display=False, json_lines=True, stable_frames=2,
                     retry_initial=0.1, retry_max=0.2, max_frames=20,
                     serve="127.0.0.1:0")
    import unittest.mock
    with unittest.mock.patch.object(live, "draw_overlay", spy_overlay):
        summary = run_live(cfg, reader=reader, opener=opener, ends=False, out=Out(),
                           on_frame=results.append)
    texts = [json.loads(line)["text"] for line in lines]
    assert texts == ["42", "7"]
    assert summary.reconnects == 1 and summary.frames == 20
    assert len(opens) == 4
    assert any(s.startswith("camera lost, retrying in") for s in statuses)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_cleanly_and_finalises_the_recording(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec.avi"
    proc = subprocess.Popen(
        [sys.executable, "-m", "digitedge", "live", "--source", str(video), "--loop",
         "--realtime", "--json-lines", "--no-display", "--record", str(out),
         "--serve", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # wait for a first stable reading
        assert json.loads(first)["text"] == NUMBERS[0]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["rec.avi"]
    cap = cv2.VideoCapture(str(out))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (240, 320, 3)


def test_overlay_fps_offset_and_status_drawing() -> None:
    from digitedge.edge_runtime.overlay import FpsMeter, OverlayInfo, draw_overlay, offset_reading
    from digitedge.edge_runtime.types import Digit, Reading

    meter = FpsMeter(window=5)
    assert meter.tick(10.0) == 0.0
    for t in (10.1, 10.2, 10.3, 10.4, 10.5, 10.6):
        fps = meter.tick(t)
    assert fps == pytest.approx(10.0)  # the window keeps the last 5 ticks: 4 gaps of 0.1 s
    reading = Reading("3", (Digit(3, 0.9, Box(1, 2, 10, 12), 0),))
    moved = offset_reading(reading, 100, 50)
    assert moved.digits[0].box == Box(101, 52, 10, 12) and moved.text == "3"
    image = np.full((240, 320, 3), 200, np.uint8)
    ok = OverlayInfo(9.5, 40.0, 12.0, 7, "3", True, "camera ok")
    drawn = draw_overlay(image, moved, ok)
    assert drawn.shape == image.shape and (image == 200).all()  # a copy; input untouched
    lost = draw_overlay(image, None, ok._replace(camera_ok=False,
                                                 camera_message="camera lost, retrying in 2 s"))
    # The status line is red (BGR: high R, low B) only while the camera is lost.
    def red_pixels(img: np.ndarray) -> int:
        return int(((img[:, :, 2] > 180) & (img[:, :, 0] < 90)).sum())
    assert red_pixels(lost) > 50 and red_pixels(drawn) == 0
