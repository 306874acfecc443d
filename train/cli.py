"""Train the Keras MLP (the classic ANN) or a small CNN on MNIST and write the model and its report.

Writes OUT/model.keras, OUT/train_metrics.json (test accuracy, per-class accuracy, confusion
matrix, best epoch, config, data sha256, library versions, wall time), OUT/training_curves.png
and OUT/confusion_matrix.png. Data: --data, else $DIGITEDGE_MNIST, else Keras' own download.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

from digitedge.atomic import atomic_path, write_text
from digitedge.errors import DigitEdgeError, needs_tensorflow
from digitedge.train.augment import PRESETS
from digitedge.train.config import ARCH_DEFAULTS, ARCHS, TrainConfig
from digitedge.train.data import ENV_VAR, load_mnist

_DEFAULTS = TrainConfig()


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse "512" or "256,128" into MLP layer widths (argparse `type=`)."""
    try:
        widths = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        widths = ()
    if not widths or any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive widths, got {text!r}")
    return widths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `digitedge train` flags; unset ones take TrainConfig's (per-architecture) defaults."""
    parser.add_argument("--data", type=Path, default=None,
                        help=f"MNIST .npz (Keras layout); default: ${ENV_VAR}, else download")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder for model.keras, train_metrics.json and the plots")
    parser.add_argument("--arch", type=str, choices=ARCHS, default=_DEFAULTS.arch,
                        help="mlp: the classic dense ANN; cnn: a small conv net; "
                        "cnn-deep: the bundled CNN, two convolutions a block")
    # Per-architecture defaults are applied in config_from_args; SUPPRESS keeps argparse from
    # printing a misleading single default.
    parser.add_argument("--epochs", type=int, default=argparse.SUPPRESS,
                        help=f"training epochs (default: {_DEFAULTS.epochs} for mlp, "
                        f"{ARCH_DEFAULTS['cnn']['epochs']} for the CNNs)")
    parser.add_argument("--hidden", type=parse_hidden, default=_DEFAULTS.hidden,
                        help="MLP hidden layer widths, e.g. 512 or 256,128")
    parser.add_argument("--dropout", type=float, default=argparse.SUPPRESS,
                        help=f"dropout rate after hidden dense layers (default: "
                        f"{_DEFAULTS.dropout} for mlp, "
                        f"{ARCH_DEFAULTS['cnn']['dropout']} for the CNNs)")
    parser.add_argument("--augment", type=str, choices=tuple(PRESETS),
                        default=_DEFAULTS.augment,
                        help="training augmentation preset; camera adds stroke width, blur and "
                        "elastic distortion for digits cropped from camera frames; reader is "
                        "shift-rotate plus, for half the digits, a simulated photo + threshold "
                        "+ mnistify round trip: the binary crops the device reader produces; "
                        "reader-slant adds slant (shear) to reader")
    parser.add_argument("--outliers", type=float, default=_DEFAULTS.outliers,
                        metavar="FRACTION",
                        help="outlier exposure: add this fraction of a batch of non-digit crops "
                        "(touching pairs, fragments, clutter) with uniform targets, so the "
                        "model is unsure, not wrong, on what is no single digit; 0 turns it off")
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size,
                        help="digits per gradient step")
    parser.add_argument("--learning-rate", type=float, default=_DEFAULTS.learning_rate,
                        help="initial Adam learning rate (cosine-decayed over the run)")
    parser.add_argument("--val-size", type=int, default=_DEFAULTS.validation_size,
                        help="training digits held out to choose the best epoch "
                        "(at most a tenth of the training set)")
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed,
                        help="seed for the split, weights, shuffling and augmentation")
    parser.add_argument("--quiet", action="store_true",
                        help="no per-epoch progress, only the summary line")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig from parsed flags: explicit flags > architecture defaults > field defaults."""
    values = dict(ARCH_DEFAULTS[args.arch])
    for name in ("epochs", "dropout"):
        if hasattr(args, name):
            values[name] = getattr(args, name)
    return dataclasses.replace(
        _DEFAULTS, arch=args.arch, hidden=args.hidden, augment=args.augment,
        outliers=args.outliers,
        batch_size=args.batch_size, learning_rate=args.learning_rate,
        validation_size=args.val_size, seed=args.seed, **values,
    )


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise DigitEdgeError(f"--out {out} exists and is not a folder: choose another path")


def run(args: argparse.Namespace) -> int:
    """Validate flags and data, train, then write the four artifacts (each atomically)."""
    started = time.perf_counter()
    config = config_from_args(args)
    _check_out(args.out)
    if any(importlib.util.find_spec(name) is None for name in ("tensorflow", "keras")):
        raise needs_tensorflow("digitedge train")
    # Read and validate the data before TensorFlow loads, so a bad file fails in a second.
    data = load_mnist(args.data)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from digitedge.train import plots, trainer  # noqa: PLC0415 - heavy, workstation only
    except ImportError:
        raise needs_tensorflow("digitedge train") from None

    verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)
    result = trainer.train(data, config, verbose=verbose)

    out: Path = args.out
    with atomic_path(out / "model.keras") as tmp:
        result.model.save(tmp)
    title = f"{result.model.name}, augment={config.augment}, seed={config.seed}"
    plots.plot_curves(result.history, result.best_epoch, out / "training_curves.png", title)
    plots.plot_confusion(
        result.test.confusion, out / "confusion_matrix.png",
        f"{result.model.name}: test accuracy {result.test.accuracy:.2%}",
    )
    record = trainer.metrics_record(result, config, data, time.perf_counter() - started)
    write_text(out / "train_metrics.json", json.dumps(record, indent=2) + "\n")
    print(
        f"digitedge train: {result.model.name} test accuracy {result.test.accuracy:.4f} "
        f"(loss {result.test.loss:.4f}), best epoch {result.best_epoch}/{result.epochs_run}, "
        f"{record['wall_seconds']:.0f} s -> {out}"
    )
    return 0
