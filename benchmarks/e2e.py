"""End to end on whole frames: decode an encoded image, then DigitReader.read (threshold,
find, crop, classify), timed per stage from the reader's own timing_ms."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from digitedge.benchmarks.stats import Summary, summarize

# Stages the reader reports that the summary calls out; any other keys it adds are kept too.
PREPROCESS, INFERENCE, TOTAL = "preprocess", "inference", "total"


def encode_frames(images: Sequence[np.ndarray], fmt: str = ".jpg",
                  quality: int = 90) -> list[bytes]:
    """Each BGR image encoded as a camera or a file would deliver it (JPEG by default)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if fmt in (".jpg", ".jpeg") else []
    out = []
    for img in images:
        ok, buf = cv2.imencode(fmt, img, params)
        if not ok:
            raise RuntimeError(f"OpenCV could not encode a frame as {fmt}")
        out.append(buf.tobytes())
    return out


def time_decode(encoded: Sequence[bytes], runs: int) -> Summary:
    """cv2.imdecode time alone (ms) over `runs` decodes cycling through `encoded`."""
    samples = []
    for i in range(runs):
        buf = np.frombuffer(encoded[i % len(encoded)], dtype=np.uint8)
        t0 = time.perf_counter_ns()
        cv2.imdecode(buf, cv2.IMREAD_COLOR)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return summarize(samples)


@dataclass
class E2EResult:
    """Per-stage timings (ms) over `frames` decoded-and-read frames."""

    fmt: str
    frames: int
    width: int
    height: int
    digits_per_frame: float
    stages: dict[str, Summary]  # "decode", the reader's stages, and "frame" = decode + read
    shares: dict[str, float]  # each reader stage's share of the reader's total time
    exact_reads: int  # frames whose text equals the truth (a sanity check, not the metric)

    @property
    def fps(self) -> float:
        """Frames per second at the median whole-frame time."""
        return 1000.0 / self.stages["frame"].p50 if self.stages["frame"].p50 > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The `e2e` object of a model in benchmark.json."""
        read = self.stages.get(TOTAL)
        return {
            "format": self.fmt, "frames": self.frames, "width": self.width,
            "height": self.height, "digits_per_frame": round(self.digits_per_frame, 2),
            "stages_ms": {k: s.to_json() for k, s in self.stages.items()},
            "fps_p50": round(self.fps, 2),
            "read_p50_ms": round(read.p50, 4) if read else None,
            "shares_of_read": {k: round(v, 4) for k, v in self.shares.items()},
            "exact_reads": self.exact_reads,
        }


def run_frames(reads: dict[str, Callable[[np.ndarray], Any]], encoded: Sequence[bytes],
               truths: Sequence[str], frames: int, warmup: int = 3,
               fmt: str = ".jpg") -> dict[str, E2EResult]:
    """Decode and read `frames` frames (cycling through `encoded`) with every reader.

    The readers take turns frame by frame, so a burst of load from other processes hits
    all models alike instead of the one that happened to be running.

    Args:
        reads: model name -> DigitReader.read (anything returning a Reading with timing_ms).
        encoded: encoded frames; `truths` their texts, to count exact reads.
        warmup: untimed frames per reader first.
    """
    if not encoded:
        raise ValueError("no frames to read")
    stage_ms: dict[str, dict[str, list[float]]] = {n: {"decode": [], "frame": []} for n in reads}
    exact = dict.fromkeys(reads, 0)
    shape: tuple[int, ...] = (0, 0)
    gc_was_enabled = gc.isenabled()
    try:
        for i in range(warmup + frames):
            if i == warmup:
                gc.disable()  # as in latency.time_calls: no collection inside a timed frame
            buf = np.frombuffer(encoded[i % len(encoded)], dtype=np.uint8)
            for name, read in reads.items():
                t0 = time.perf_counter_ns()
                image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
                t1 = time.perf_counter_ns()
                reading = read(image)
                t2 = time.perf_counter_ns()
                if i < warmup:
                    continue
                shape = image.shape[:2]
                ms = stage_ms[name]
                ms["decode"].append((t1 - t0) / 1e6)
                ms["frame"].append((t2 - t0) / 1e6)
                for key, value in dict(reading.timing_ms).items():
                    ms.setdefault(key, []).append(float(value))
                exact[name] += int(reading.text == truths[i % len(truths)])
    finally:
        if gc_was_enabled:
            gc.enable()
    digits = float(np.mean([len(t.replace("\n", "")) for t in truths]))
    return {name: _result(ms, fmt, frames, shape, digits, exact[name])
            for name, ms in stage_ms.items()}


def _result(stage_ms: dict[str, list[float]], fmt: str, frames: int, shape: tuple[int, ...],
            digits: float, exact: int) -> E2EResult:
    stages = {k: summarize(v) for k, v in stage_ms.items() if v}
    total = sum(stage_ms.get(TOTAL, [])) or sum(stage_ms["frame"]) - sum(stage_ms["decode"])
    shares = {k: sum(v) / total for k, v in stage_ms.items()
              if k not in ("decode", "frame", TOTAL) and total > 0}
    return E2EResult(fmt=fmt, frames=frames, width=int(shape[1]), height=int(shape[0]),
                     digits_per_frame=digits, stages=stages, shares=shares, exact_reads=exact)
