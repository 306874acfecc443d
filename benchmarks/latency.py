"""Time one model: load + allocate, single-image invoke latency per thread count, throughput
per batch size, and what TFLiteModel.predict's Python work adds over the bare invoke()."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digitedge.benchmarks.stats import Summary, summarize_ns, throughput
from digitedge.edge_runtime.model import TFLiteModel

BATCH_SIZES = (1, 32, 256)


@dataclass
class LatencyResult:
    """Timings of one model; every latency is in milliseconds."""

    load: Summary | None  # TFLiteModel(...) = read + verify + interpreter + allocate_tensors
    single: dict[str, Summary]  # threads ("1", "4"; "default" for Keras) -> batch-1 latency
    throughput: dict[int, float]  # batch size -> images per second (at `throughput_threads`)
    throughput_threads: int | None
    predict: Summary | None = None  # TFLiteModel.predict of one 28x28 digit (1 thread)
    samples_ms: dict[str, np.ndarray] = field(default_factory=dict)  # raw, for plots only

    @property
    def predict_overhead_ms(self) -> float | None:
        """Median predict() minus median bare invoke(), both at 1 thread."""
        if self.predict is None or "1" not in self.single:
            return None
        return self.predict.p50 - self.single["1"].p50

    def to_json(self) -> dict[str, Any]:
        """The `latency` object of a model in benchmark.json."""
        overhead = self.predict_overhead_ms
        return {
            "load_ms": self.load.to_json() if self.load else None,
            "single_image_ms": {t: s.to_json() for t, s in self.single.items()},
            "throughput_images_per_s": {str(b): round(v, 1) for b, v in self.throughput.items()},
            "throughput_threads": self.throughput_threads,
            "predict_1_image_ms": self.predict.to_json() if self.predict else None,
            "predict_overhead_ms": round(overhead, 4) if overhead is not None else None,
        }


def time_calls(fn: Callable[[], object], runs: int, warmup: int) -> np.ndarray:
    """perf_counter_ns() around each of `runs` calls of `fn`, after `warmup` untimed calls.

    The garbage collector is paused while timing (as timeit does) so a collection that
    Python happens to start does not land in one sample.
    """
    for _ in range(warmup):
        fn()
    samples = np.empty(runs, dtype=np.int64)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            start = time.perf_counter_ns()
            fn()
            samples[i] = time.perf_counter_ns() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def batch_of(digits: np.ndarray, n: int) -> np.ndarray:
    """The first `n` digits, repeated when there are fewer than `n`."""
    reps = -(-n // len(digits))
    return np.concatenate([digits] * reps)[:n] if reps > 1 else digits[:n]


def time_invoke(model: TFLiteModel, digits: np.ndarray, runs: int, warmup: int) -> np.ndarray:
    """Bare interpreter.invoke() samples (ns) with `digits` already in the input tensor."""
    model.invoke(model.prepare_input(digits))  # resizes, allocates and sets the input once
    return time_calls(model.interpreter.invoke, runs, warmup)


def runs_for_batch(runs: int, batch: int) -> int:
    """Fewer repeats for bigger batches, so each batch size costs a similar time."""
    return max(10, runs // max(1, batch // 8)) if batch > 1 else runs


def measure_tflite(path: str | Path, digits: np.ndarray, *, threads: Sequence[int], runs: int,
                   warmup: int, load_repeats: int = 5, backend: str | None = None,
                   batch_sizes: Sequence[int] = BATCH_SIZES, name: str | None = None,
                   progress: Callable[[str], None] = lambda _m: None) -> LatencyResult:
    """All timings of one .tflite model.

    Args:
        path: the model file.
        digits: real uint8 (N, 28, 28) digits to feed (the values do not change the time of
            these dense models, but real inputs keep it honest for any model).
        threads: interpreter thread counts for the single-image latency; throughput uses
            the largest.
        runs, warmup: timed and untimed invokes at batch 1 (fewer at larger batches).
        load_repeats: how many times the model is loaded to time load + allocate.
        name, progress: progress lines ("<name>: ...") go to `progress`.
    """
    name = name or Path(path).name
    load_ns = np.array([_time_load(path, backend) for _ in range(max(1, load_repeats))])
    single: dict[str, Summary] = {}
    samples: dict[str, np.ndarray] = {}
    for t in threads:
        progress(f"{name}: {runs} single-image invokes at {t} thread(s)")
        model = TFLiteModel(path, backend=backend, threads=t)
        ns = time_invoke(model, digits[:1], runs, warmup)
        single[str(t)], samples[str(t)] = summarize_ns(ns), ns / 1e6
    model = TFLiteModel(path, backend=backend, threads=1)
    one = digits[:1]
    predict = summarize_ns(time_calls(lambda: model.predict(one), runs, warmup))
    top = max(threads)
    model = TFLiteModel(path, backend=backend, threads=top)
    rates: dict[int, float] = {}
    for b in batch_sizes:
        n = runs_for_batch(runs, b)
        progress(f"{name}: {n} invokes of batch {b} at {top} thread(s)")
        ns = time_invoke(model, batch_of(digits, b), n, max(2, warmup // 10))
        rates[b] = throughput(b, float(np.median(ns)) / 1e9)
    return LatencyResult(load=summarize_ns(load_ns), single=single, throughput=rates,
                         throughput_threads=top, predict=predict, samples_ms=samples)


def _time_load(path: str | Path, backend: str | None) -> int:
    start = time.perf_counter_ns()
    TFLiteModel(path, backend=backend)
    return time.perf_counter_ns() - start


def measure_callable(predict: Callable[[np.ndarray], np.ndarray], digits: np.ndarray, *,
                     runs: int, warmup: int,
                     batch_sizes: Sequence[int] = BATCH_SIZES) -> LatencyResult:
    """Timings of a model that is only a predict function (the Keras reference).

    Its single-image figure is the whole call, Python included, at the framework's default
    thread count, so it compares with `predict`, not with the bare invoke of a TFLite row.
    """
    one = digits[:1]
    ns = time_calls(lambda: predict(one), runs, warmup)
    rates = {}
    for b in batch_sizes:
        x = batch_of(digits, b)
        batch_ns = time_calls(lambda x=x: predict(x), runs_for_batch(runs, b), max(2, warmup // 10))
        rates[b] = throughput(b, float(np.median(batch_ns)) / 1e9)
    return LatencyResult(load=None, single={"default": summarize_ns(ns)}, throughput=rates,
                         throughput_threads=None, samples_ms={"default": ns / 1e6})
