"""Peak resident memory of one model, measured in a fresh Python process.

Why a subprocess and the kernel's counters: the interpreter's tensor arena, the model
buffer and XNNPACK's packed weights are allocated by native code, which tracemalloc (Python's
allocator only) never sees. ru_maxrss / VmHWM see every page the process touched, but only as a
high-water mark for the whole process, so each model gets a process of its own: its peak is
then "Python + numpy + the interpreter library + this model", and the baseline taken after
the imports tells how much of that is the model itself.

Run as `python -m digitedge.benchmarks.memory MODEL [--threads N] [--batch N]`; it prints one
JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _status_kb(field: str) -> int | None:
    """A `VmRSS:`/`VmHWM:` line of /proc/self/status in kB (Linux only)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _maxrss_kb() -> int | None:
    try:
        import resource  # noqa: PLC0415 - not available on Windows
    except ImportError:
        return None
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value // 1024 if sys.platform == "darwin" else value  # macOS reports bytes


def measure(model_path: str, threads: int | None, batch: int,
            backend: str | None = None) -> dict[str, Any]:
    """Import, load `model_path`, classify one batch; report memory and the cold-start time."""
    t0 = time.perf_counter()
    import numpy as np  # noqa: PLC0415 - the import cost is part of what is measured

    from digitedge.edge_runtime.backends import load_backend  # noqa: PLC0415
    from digitedge.edge_runtime.model import TFLiteModel  # noqa: PLC0415

    load_backend(backend)
    t1 = time.perf_counter()
    baseline_rss = _status_kb("VmRSS")
    model = TFLiteModel(model_path, threads=threads, backend=backend)
    t2 = time.perf_counter()
    model.predict(np.zeros((batch, 28, 28), dtype=np.uint8))
    peak = _status_kb("VmHWM")
    return {
        "method": "subprocess VmHWM" if peak is not None else "subprocess ru_maxrss",
        "baseline_rss_mb": round(baseline_rss / 1024, 2) if baseline_rss else None,
        "peak_rss_mb": round((peak or _maxrss_kb() or 0) / 1024, 2) or None,
        "model_rss_mb": (round((peak - baseline_rss) / 1024, 2)
                         if peak is not None and baseline_rss is not None else None),
        "import_ms": round((t1 - t0) * 1e3, 2),
        "cold_load_ms": round((t2 - t1) * 1e3, 2),
        "batch": batch,
    }


def measure_in_subprocess(model_path: str | Path, threads: int | None = None,
                          batch: int = 256, timeout: float = 120.0,
                          backend: str | None = None) -> dict[str, Any]:
    """Run `measure` in a fresh interpreter; on failure the dict carries an "error" string."""
    cmd = [sys.executable, "-m", "digitedge.benchmarks.memory", str(model_path),
           "--batch", str(batch)]
    if threads:
        cmd += ["--threads", str(threads)]
    if backend:
        cmd += ["--backend", backend]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"memory subprocess failed: {type(exc).__name__}"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"memory subprocess exited {proc.returncode}: {last}"}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the subprocess."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=str, help="the .tflite model to load")
    parser.add_argument("--threads", type=int, default=None, help="interpreter threads")
    parser.add_argument("--batch", type=int, default=256, help="digits classified at once")
    parser.add_argument("--backend", type=str, default=None, help="interpreter backend")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.model, args.threads, args.batch, args.backend)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
