"""Benchmark the int8 and float32 digit models on this machine: latency (per thread count and
batch size), load time, peak memory, accuracy and agreement on MNIST test digits, reading
accuracy on generated scenes, and whole-frame end-to-end time. Writes benchmark.json,
benchmark.md and PNG plots (when matplotlib is installed) into --out."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

from digitedge.atomic import write_text
from digitedge.benchmarks import envinfo, plots, report
from digitedge.benchmarks.suite import Settings, run_suite
from digitedge.convert.converter import check_keras_file
from digitedge.edge_runtime.backends import BACKENDS
from digitedge.edge_runtime.manifest import DEFAULT_MODELS, resolve_model_path
from digitedge.errors import DigitEdgeError
from digitedge.train.data import ENV_VAR, SAMPLE_PATH, load_npz, resolve_path

# (full, --quick): --quick must finish within a minute on a Pi-class machine.
DEFAULTS = {"runs": (2000, 300), "warmup": (100, 20), "scenes": (100, 20),
            "frames": (200, 30), "load_repeats": (5, 3)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `bench` flags."""
    parser.add_argument("--models", type=str, nargs="+", metavar="FILE", default=None,
                        help=".tflite models or bundled names (int8, float32, mlp-int8, "
                             "mlp-float32), and optionally one .keras float reference, which "
                             "needs TensorFlow; default: the bundled int8 and float32 models")
    parser.add_argument("--data", type=Path, default=None,
                        help=f"MNIST .npz for accuracy; default ${ENV_VAR}, else the bundled "
                             "1,000-digit test sample")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder; default bench-<hostname>-<YYYYmmdd-HHMMSS>")
    parser.add_argument("--quick", action="store_true",
                        help="fewer timed runs, scenes and frames (same report, under a minute)")
    parser.add_argument("--threads", type=int, nargs="+", default=None, metavar="N",
                        help="interpreter thread counts to time; default 1 and all cores")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"timed single-image invokes per model and thread count "
                             f"(default {DEFAULTS['runs'][0]}, --quick {DEFAULTS['runs'][1]})")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed invokes before timing (default 100, --quick 20)")
    parser.add_argument("--scenes", type=int, default=None,
                        help="generated scenes to read for reading accuracy; 0 skips "
                             "(default 100, --quick 20)")
    parser.add_argument("--frames", type=int, default=None,
                        help="640x480 frames decoded and read end to end; 0 skips "
                             "(default 200, --quick 30)")
    parser.add_argument("--load-repeats", type=int, default=None,
                        help="model loads timed per model (default 5, --quick 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated scenes")
    parser.add_argument("--backend", type=str, default=None, choices=list(BACKENDS),
                        help="force an interpreter backend; default: the first installed")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the per-model peak-memory subprocess")


def _resolve(args: argparse.Namespace, name: str) -> int:
    value = getattr(args, name)
    if value is None:
        return DEFAULTS[name][1 if args.quick else 0]
    if value < 0 or (value == 0 and name in ("runs", "load_repeats")):
        raise DigitEdgeError(f"--{name.replace('_', '-')} must be positive, got {value}")
    return int(value)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Validated settings; --quick only changes the defaults of flags not given."""
    cores = envinfo.available_cores()
    threads = sorted(set(args.threads)) if args.threads else sorted({1, cores})
    if any(t < 1 for t in threads):
        raise DigitEdgeError(f"--threads must be positive, got {args.threads}")
    models = ([resolve_model_path(p) for p in args.models] if args.models
              else list(DEFAULT_MODELS.values()))
    for p in models:
        if not p.is_file():
            raise DigitEdgeError(f"model not found: {p}")
        if p.suffix not in (".tflite", ".keras"):
            raise DigitEdgeError(f"{p}: --models takes .tflite files and at most one .keras")
    if sum(p.suffix == ".keras" for p in models) > 1:
        raise DigitEdgeError("--models takes at most one .keras reference model")
    for p in models:
        if p.suffix == ".keras":  # refuse a wrong file before any model is timed
            check_keras_file(p)
    if args.seed < 0:
        raise DigitEdgeError(f"--seed must be >= 0, got {args.seed}")
    return Settings(models=models, threads=threads, runs=_resolve(args, "runs"),
                    warmup=_resolve(args, "warmup"), scenes=_resolve(args, "scenes"),
                    frames=_resolve(args, "frames"),
                    load_repeats=_resolve(args, "load_repeats"), seed=args.seed,
                    backend=args.backend, memory=not args.no_memory, quick=args.quick)


def default_out_dir() -> Path:
    """bench-<hostname>-<YYYYmmdd-HHMMSS> in the current folder: runs never overwrite."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(f"bench-{socket.gethostname()}-{stamp}")


def progress(message: str) -> None:
    """A progress line on stderr (stdout stays for the result paths)."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def write_outputs(doc: dict[str, Any], samples: dict[str, Any], out: Path) -> None:
    """Plots (if possible), then benchmark.json and benchmark.md, all written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    reason = plots.matplotlib_missing()
    if reason is None:
        progress("drawing plots")
        doc["plots"] = plots.write_plots(doc, samples, out)
    else:
        doc["plots"], doc["plots_skipped"] = [], reason
        progress(f"plots skipped: {reason}")
    write_text(out / "benchmark.json", json.dumps(doc, indent=1) + "\n")
    write_text(out / "benchmark.md", report.render(doc))


def run(args: argparse.Namespace) -> int:
    """Run the whole benchmark and write its report."""
    start = time.perf_counter()
    settings = settings_from_args(args)
    data_path = resolve_path(args.data) or SAMPLE_PATH
    data = load_npz(data_path)
    out = args.out or default_out_dir()
    try:  # fail now, not after minutes of measuring
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DigitEdgeError(f"cannot create output folder {out} ({exc.strerror}); "
                             "pass another --out") from None
    progress(f"{len(settings.models)} model(s), {len(data.y_test)} test digits from {data_path}"
             f"{' (--quick)' if settings.quick else ''}; writing {out}")
    doc, samples = run_suite(settings, data, progress)
    doc["data"] = {"source": str(data_path), "sha256": data.sha256,
                   "n_test": int(len(data.y_test)), "sample": data_path == SAMPLE_PATH,
                   "note": ("the bundled 1,000-digit sample of the MNIST test set, not the "
                            "full 10,000" if data_path == SAMPLE_PATH else None)}
    doc["elapsed_s"] = round(time.perf_counter() - start, 1)
    write_outputs(doc, samples, out)
    progress(f"done in {time.perf_counter() - start:.1f} s")
    print(out / "benchmark.md")
    return 0
