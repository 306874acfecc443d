"""Pure statistics for benchmark samples: percentiles, a latency summary and throughput."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

# The percentiles every latency summary reports; p99 needs >= 100 samples to mean much,
# which is why the default run counts are in the thousands.
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class Summary:
    """Distribution of one timed quantity, in milliseconds (n = samples kept)."""

    n: int
    min: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    mean: float
    std: float

    def to_json(self, digits: int = 6) -> dict[str, float | int]:
        """Rounded to the nanosecond for benchmark.json (finer is timer noise)."""
        return {k: (v if k == "n" else round(float(v), digits)) for k, v in asdict(self).items()}


def percentiles(samples: Sequence[float] | np.ndarray,
                qs: Sequence[float] = PERCENTILES) -> dict[str, float]:
    """{"p50": ..., ...} by numpy's default linear interpolation between order statistics.

    Raises:
        ValueError: `samples` is empty (a percentile of nothing would be a made-up figure).
    """
    arr = np.asarray(samples, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("no samples to take percentiles of")
    values = np.percentile(arr, list(qs))
    return {f"p{q:g}": float(v) for q, v in zip(qs, values, strict=True)}


def summarize(samples: Sequence[float] | np.ndarray) -> Summary:
    """Summary of samples already in the unit to report (milliseconds by convention)."""
    arr = np.asarray(samples, dtype=np.float64)
    pct = percentiles(arr)
    return Summary(n=int(arr.size), min=float(arr.min()), p50=pct["p50"], p90=pct["p90"],
                   p95=pct["p95"], p99=pct["p99"], max=float(arr.max()),
                   mean=float(arr.mean()), std=float(arr.std()))


def summarize_ns(samples_ns: Sequence[int] | np.ndarray) -> Summary:
    """Summary in milliseconds of perf_counter_ns() differences."""
    return summarize(np.asarray(samples_ns, dtype=np.float64) / 1e6)


def throughput(batch_size: int, seconds_per_batch: float) -> float:
    """Images per second when one batch of `batch_size` takes `seconds_per_batch`."""
    if seconds_per_batch <= 0:
        raise ValueError("seconds_per_batch must be positive")
    return batch_size / seconds_per_batch


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference, or None when either is missing or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return float(value) / float(reference)
