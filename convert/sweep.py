"""Calibration sweep: int8 test accuracy against the number of calibration digits and the seed.

    python -m digitedge.convert.sweep --model M.keras --data mnist.npz --out sweep.md

For each available quantizer, N calibration digits (stratified, training split) and seed it
converts the model, runs it through the device wrapper on the whole test set and tabulates
accuracy, agreement with the float model and flips; then one row per other --quant mode for
size and accuracy. Nothing is written but the report. Timings are wall-clock and noisy.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from digitedge.atomic import write_text
from digitedge.convert import aeq
from digitedge.convert.converter import check_keras_file, keras_predict, load_keras_model
from digitedge.convert.pipeline import QUANTIZERS, ConvertOptions, convert_and_validate
from digitedge.convert.validate import compare
from digitedge.errors import DigitEdgeError
from digitedge.train.data import file_sha256, load_mnist

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m digitedge.convert.sweep", description=__doc__.strip().splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="the .keras model")
    parser.add_argument("--data", type=Path, default=None, help="MNIST .npz")
    parser.add_argument("--samples", type=int, nargs="+", default=[10, 50, 100, 500, 2000],
                        help="calibration set sizes N")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="calibration draw seeds")
    parser.add_argument("--quantizers", type=str, nargs="+", choices=QUANTIZERS, default=None,
                        help="quantizers to sweep (default: every installed one)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the Markdown report here (default: print it)")
    return parser


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _quantizer_names(quantizers: Sequence[str]) -> str:
    names = []
    for quantizer in quantizers:
        if quantizer == "ai-edge":
            dist, version = aeq.version() or ("not installed", "")
            names.append(f"ai-edge = {dist} {version}".rstrip())
        else:
            names.append(f"converter = tf.lite.TFLiteConverter (tensorflow "
                         f"{metadata.version('tensorflow')})")
    return "; ".join(names)


def sweep(model_path: Path, data_path: Path | None, samples: Sequence[int],
          seeds: Sequence[int], quantizers: Sequence[str], command: str) -> str:
    """Run the sweep and return the Markdown report."""
    data = load_mnist(data_path)
    model = load_keras_model(check_keras_file(model_path))
    float_probs = keras_predict(model, data.x_test)
    float_acc = compare(data.y_test, float_probs, float_probs).float_accuracy
    n_test = len(data.y_test)
    lines = [
        "## int8 calibration sweep", "",
        f"Command: `{command}`", "",
        f"Model `{model_path.name}` (sha256 {file_sha256(model_path)[:12]}...), data "
        f"`{Path(data.source).name}` (sha256 {(data.sha256 or 'n/a')[:12]}...), "
        f"{n_test:,} test digits. Float (Keras) test accuracy: **{float_acc:.2%}**. "
        "Calibration digits: stratified by class from the training split. Quantizers: "
        f"{_quantizer_names(quantizers)}. Seconds are wall-clock on a shared 2-core machine "
        "(noisy).", "",
        _row(["quantizer", "N", *[f"seed {s}" for s in seeds], "mean", "min",
              "mean drop (pp)", "mean agreement", "mean flipped", "seconds/conversion"]),
        _row(["---"] * (8 + len(seeds))),
    ]
    for quantizer in quantizers:
        for n in samples:
            accs, agrees, flips, secs = [], [], [], []
            for seed in seeds:
                start = time.perf_counter()
                conv = convert_and_validate(model, data, ConvertOptions(
                    "int8", quantizer, n, seed), float_probs)
                secs.append(time.perf_counter() - start)
                r = conv.report
                accs.append(r.converted_accuracy)
                agrees.append(r.agreement)
                flips.append(r.flipped)
                log.info("%s N=%d seed=%d: %.4f", quantizer, n, seed, r.converted_accuracy)
            lines.append(_row([
                quantizer, n, *[f"{a:.2%}" for a in accs], f"{np.mean(accs):.2%}",
                f"{min(accs):.2%}", f"{100 * (float_acc - np.mean(accs)):+.3f}",
                f"{np.mean(agrees):.2%}", f"{np.mean(flips):.1f}", f"{np.median(secs):.1f}"]))
    lines += ["", "### Other --quant modes (converter, for size and accuracy)", "",
              _row(["quant", "size (bytes)", "size / float32", "test accuracy", "agreement",
                    "flipped"]),
              _row(["---"] * 6)]
    sizes: dict[str, int] = {}
    for quant in ("float32", "float16", "dynamic", "int8"):
        conv = convert_and_validate(model, data, ConvertOptions(quant, "converter"),
                                    float_probs)
        sizes[quant] = len(conv.model_bytes)
        r = conv.report
        lines.append(_row([quant if quant != "int8" else "int8 (default N, seed 0)",
                           f"{sizes[quant]:,}", f"{sizes[quant] / sizes['float32']:.3f}",
                           f"{r.converted_accuracy:.2%}", f"{r.agreement:.2%}", r.flipped]))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, run the sweep, print or write the report."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="sweep: %(message)s", stream=sys.stderr)
    logging.getLogger("digitedge.edge_runtime").setLevel(logging.WARNING)  # one line per model
    quantizers = args.quantizers or [q for q in QUANTIZERS
                                     if q == "converter" or aeq.version() is not None]
    command = "python -m digitedge.convert.sweep " + " ".join(
        sys.argv[1:] if argv is None else argv)
    try:
        report = sweep(args.model, args.data, args.samples, args.seeds, quantizers, command)
    except DigitEdgeError as exc:
        print(f"sweep: error: {exc}", file=sys.stderr)
        return 1
    if args.out:
        write_text(args.out, report)
        print(f"wrote {args.out}")
    else:
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
