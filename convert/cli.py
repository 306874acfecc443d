"""Convert a trained .keras digit model to TFLite (full-integer int8 by default), check it
against the float model on the whole test set, and write FILE.tflite plus its FILE.json manifest.

A converted model that loses more than --max-drop percentage points of test accuracy is refused
and nothing is written.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from digitedge.convert import aeq
from digitedge.convert.calibration import SOURCE_SPLIT
from digitedge.convert.converter import (
    QUANT_DESCRIPTIONS,
    QUANT_MODES,
    check_keras_file,
    keras_predict,
    load_keras_model,
)
from digitedge.convert.manifest import (
    build_manifest,
    train_metrics_beside,
    write_model_and_manifest,
)
from digitedge.convert.pipeline import (
    DEFAULT_CALIB_SAMPLES,
    QUANTIZERS,
    ConvertOptions,
    convert_and_validate,
)
from digitedge.convert.validate import check_drop
from digitedge.errors import DigitEdgeError
from digitedge.train.data import file_sha256, load_mnist

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `digitedge convert` flags."""
    parser.add_argument("model", type=Path, metavar="MODEL.keras",
                        help="the trained Keras model (digitedge train's model.keras)")
    parser.add_argument("--data", type=Path, default=None, metavar="PATH",
                        help="MNIST .npz: calibration digits come from its training split, "
                             "validation uses its whole test split (default: $DIGITEDGE_MNIST, "
                             "else Keras' download)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.tflite",
                        help="the model to write; its manifest goes to FILE.json beside it")
    parser.add_argument("--quant", type=str, choices=QUANT_MODES, default="int8",
                        help="int8 = full integer (uint8 input/output); float16 / dynamic = "
                             "smaller weights, float input; float32 = no quantization")
    parser.add_argument("--calib-samples", type=int, default=DEFAULT_CALIB_SAMPLES, metavar="N",
                        help="training digits (stratified by class) that set the int8 ranges")
    parser.add_argument("--max-drop", type=float, default=0.5, metavar="PP",
                        help="refuse (write nothing) if test accuracy falls more than this many "
                             "percentage points below the float model's")
    parser.add_argument("--seed", type=int, default=0, help="seed of the calibration draw")
    parser.add_argument("--quantizer", type=str, choices=QUANTIZERS, default="converter",
                        help="converter = tf.lite.TFLiteConverter; ai-edge = AI Edge Quantizer "
                             "on the float32 model (pip install 'digitedge[aeq]': "
                             "litert-quantizer)")


def _check_args(args: argparse.Namespace) -> ConvertOptions:
    if args.out.suffix != ".tflite":
        raise DigitEdgeError(f"--out must name a .tflite file, got {args.out}")
    if args.out.is_dir():
        raise DigitEdgeError(f"--out {args.out} is a directory; name a .tflite file")
    if args.max_drop != args.max_drop:  # NaN would pass every comparison
        raise DigitEdgeError("--max-drop must be a number")
    options = ConvertOptions(args.quant, args.quantizer, args.calib_samples, args.seed)
    options.check()
    if args.quantizer == "ai-edge":
        aeq.require()  # fail before minutes of work when the package is missing
    return options


def run(args: argparse.Namespace) -> int:
    """Convert, validate, gate, then write the model and its manifest."""
    options = _check_args(args)
    model_path = check_keras_file(args.model)  # before TensorFlow: a wrong file fails fast
    data = load_mnist(args.data)
    model = load_keras_model(model_path)
    log.info("float model on %d test digits", len(data.y_test))
    float_probs = keras_predict(model, data.x_test)
    log.info("converting (%s, %s)", options.quant, options.quantizer)
    conv = convert_and_validate(model, data, options, float_probs)
    report = conv.report
    check_drop(report, args.max_drop, f"the {options.quant} model",
               "try more --calib-samples or --quant float16" if options.quant == "int8"
               else "check the model, or raise --max-drop")
    source = {
        "keras_model": {"file": model_path.name, "sha256": file_sha256(model_path)},
        "data": {"file": Path(data.source).name if data.sha256 else data.source,
                 "sha256": data.sha256, "n_train": int(len(data.y_train)),
                 "n_test": int(len(data.y_test)), "validation_split": "test",
                 "calibration_split": SOURCE_SPLIT},
        "train_metrics": train_metrics_beside(model_path),
        "max_drop_pp": args.max_drop,
    }
    manifest = build_manifest(
        model_bytes=conv.model_bytes, out_name=args.out.name, quant=options.quant,
        quant_description=QUANT_DESCRIPTIONS[options.quant], quantizer=conv.quantizer,
        input_info=conv.input_info, output_info=conv.output_info, report=report,
        calibration=conv.calibration, source=source)
    json_path = write_model_and_manifest(args.out, conv.model_bytes, manifest)
    print(f"wrote {args.out} ({len(conv.model_bytes):,} bytes, {options.quant} via "
          f"{conv.quantizer['name']}) and {json_path.name}")
    print(f"test accuracy: converted {report.converted_accuracy:.2%}, float "
          f"{report.float_accuracy:.2%} ({report.drop_pp:+.2f} pp drop), agreement "
          f"{report.agreement:.2%}, {report.flipped} of {report.n_test} digits flipped")
    return 0
