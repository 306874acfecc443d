"""Soak `digitedge live`: many frames from a looping video, checking that memory stays flat.

    python -m digitedge.benchmarks.soak_live --frames 10000

Writes a short video of handwritten MNIST TEST digits (numbers changing every few frames),
plays it in a loop through the full live path (reader, stability, overlay, JPEG for a
connected MJPEG viewer, JSON lines) and samples resident memory. Passes when memory grows by
less than --max-growth-mb between frame --warmup and the last frame. The video helpers here
are also what the live tests and the screenshot script use.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from digitedge.train.data import SAMPLE_PATH, load_npz

NUMBERS = ("42", "7", "305", "", "1968", "20")  # "" = blank paper between numbers


def compose_number(text: str, digits: Sequence[np.ndarray], size: tuple[int, int] = (320, 240),
                   scale: int = 3, gap: int = 12) -> np.ndarray:
    """A BGR frame: the MNIST `digits` (28x28, white on black) as dark ink on light paper.

    `text` is only used for its length check; the digits are placed left to right, centred.
    """
    if len(text) != len(digits):
        raise ValueError(f"{text!r} needs {len(text)} digits, got {len(digits)}")
    w, h = size
    paper = np.full((h, w), 232, np.uint8)
    n = max(1, len(digits))
    side = min(28 * scale, (w - 16 - (n - 1) * gap) // n, h - 16)  # fit the frame
    x0 = (w - len(digits) * side - max(0, len(digits) - 1) * gap) // 2
    y0 = (h - side) // 2
    for k, digit in enumerate(digits):
        big = cv2.resize(digit, (side, side), interpolation=cv2.INTER_LINEAR)
        x = x0 + k * (side + gap)
        region = paper[y0:y0 + side, x:x + side]
        np.minimum(region, 255 - big, out=region)
    return cv2.cvtColor(paper, cv2.COLOR_GRAY2BGR)


def write_number_video(path: Path, numbers: Sequence[str], frames_each: int,
                       pools: dict[int, Sequence[int]], x_digits: np.ndarray,
                       size: tuple[int, int] = (320, 240), fps: float = 10.0) -> list[str]:
    """Write `numbers` one after another, each for `frames_each` frames; returns the truth.

    Args:
        pools: for each label, indexes into `x_digits` to draw that label from (taken in
            turn, so a repeated digit is written by a different hand).
        size: frame (width, height); the codec comes from the suffix (.avi MJPG, .mp4 mp4v).
    """
    fourcc = "MJPG" if path.suffix.lower() == ".avi" else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} with {fourcc}")
    used = dict.fromkeys(range(10), 0)
    try:
        for text in numbers:
            digits = []
            for ch in text:
                label = int(ch)
                digits.append(x_digits[pools[label][used[label] % len(pools[label])]])
                used[label] += 1
            frame = compose_number(text, digits, size)
            for _ in range(frames_each):
                writer.write(frame)
    finally:
        writer.release()
    return list(numbers)


def mnist_test_pools(per_label: int = 5) -> tuple[np.ndarray, dict[int, list[int]]]:
    """The committed sample's TEST digits and, per label, the first `per_label` indexes."""
    data = load_npz(SAMPLE_PATH)
    pools = {label: [int(i) for i in np.flatnonzero(data.y_test == label)[:per_label]]
             for label in range(10)}
    return data.x_test, pools


def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _viewer(port: int, stop: threading.Event, parts: list[int]) -> None:
    """An MJPEG viewer that reads the stream until `stop`, counting parts."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/stream.mjpg")
        resp = conn.getresponse()
        while not stop.is_set():
            line = resp.readline()
            if not line:
                return
            if line.lower().startswith(b"content-length:"):
                resp.readline()
                resp.read(int(line.split(b":")[1]))
                parts[0] += 1
        conn.close()
    except OSError:
        return


def main(argv: list[str] | None = None) -> int:
    from digitedge.edge_runtime.live import LiveConfig, run_live

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--frames", type=int, default=10_000, help="frames to process")
    parser.add_argument("--warmup", type=int, default=1_000,
                        help="frame whose memory is the baseline")
    parser.add_argument("--frames-each", type=int, default=20, help="frames per number")
    parser.add_argument("--max-growth-mb", type=float, default=10.0,
                        help="fail when memory grows more than this after the warm-up")
    parser.add_argument("--no-viewer", action="store_true",
                        help="do not serve and stream the annotated frames")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)

    samples: dict[int, int] = {}
    checkpoints = {1, args.warmup, args.frames} | set(range(0, args.frames + 1, 1000))
    lines = []
    stop_viewer = threading.Event()
    parts = [0]
    viewers: list[threading.Thread] = []

    class Sink:
        def write(self, text: str) -> None:
            if len(lines) < 1000:  # keep a bounded record: the soak must not grow memory
                lines.append(text)

        def flush(self) -> None:
            pass

    def on_frame(result) -> None:
        if result.processed in checkpoints:
            samples[result.processed] = rss_bytes()

    def on_serve(server) -> None:
        t = threading.Thread(target=_viewer, args=(server.port, stop_viewer, parts), daemon=True)
        t.start()
        viewers.append(t)

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "numbers.avi"
        x, pools = mnist_test_pools()
        write_number_video(video, NUMBERS, args.frames_each, pools, x)
        cfg = LiveConfig(source=str(video), loop=True, max_frames=args.frames, json_lines=True,
                         serve=None if args.no_viewer else "127.0.0.1:0", display=False)
        start = time.perf_counter()
        summary = run_live(cfg, out=Sink(), on_frame=on_frame,  # type: ignore[arg-type]
                           on_serve=on_serve)
        elapsed = time.perf_counter() - start
        stop_viewer.set()
        for t in viewers:
            t.join(5)
    base, last = samples.get(args.warmup, 0), samples.get(args.frames, 0)
    growth_mb = (last - base) / 2**20
    result = {
        "frames": summary.frames, "reported": summary.reported, "elapsed_s": round(elapsed, 1),
        "fps": round(summary.frames / elapsed, 1), "mjpeg_parts_streamed": parts[0],
        "rss_mb": {str(k): round(v / 2**20, 2) for k, v in sorted(samples.items())},
        "growth_mb_after_warmup": round(growth_mb, 2), "max_growth_mb": args.max_growth_mb,
        "passed": bool(summary.frames == args.frames and base and growth_mb < args.max_growth_mb),
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        from digitedge.atomic import write_text
        write_text(args.json, json.dumps(result, indent=2) + "\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
