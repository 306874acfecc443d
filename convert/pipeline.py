"""One conversion: calibrate, quantize with the chosen tool, validate through the device wrapper.

Shared by `digitedge convert` (which then gates and writes) and the calibration sweep (which
only tabulates), so both measure exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from digitedge.convert import aeq
from digitedge.convert.calibration import CalibrationSet, draw_calibration_set
from digitedge.convert.converter import QUANT_MODES, convert_keras
from digitedge.convert.validate import ValidationReport, compare, run_tflite
from digitedge.errors import DigitEdgeError
from digitedge.train.data import MnistData
from digitedge.versions import dist_version

QUANTIZERS = ("converter", "ai-edge")
# From the calibration sweep on the full-MNIST MLP (10k test digits, 3 seeds): every N from 10
# to 2000 stayed within 0.03 pp of float; N=500 had the best mean and no spread across seeds
# (99.02% each) at under a second, and leaves margin for bigger models and the AEQ recipe,
# whose moving-average ranges need more than 10 digits.
DEFAULT_CALIB_SAMPLES = 500


@dataclass(frozen=True)
class ConvertOptions:
    """What to build; every field is recorded in the manifest."""

    quant: str = "int8"  # one of converter.QUANT_MODES
    quantizer: str = "converter"  # "converter" (tf.lite.TFLiteConverter) or "ai-edge" (AEQ)
    calib_samples: int = DEFAULT_CALIB_SAMPLES  # stratified training digits for int8 ranges
    seed: int = 0  # seeds the calibration draw

    def check(self) -> None:
        """Raise DigitEdgeError for a combination no tool implements."""
        if self.quant not in QUANT_MODES:
            raise DigitEdgeError(f"unknown --quant {self.quant!r}; choose from "
                                 f"{', '.join(QUANT_MODES)}")
        if self.quantizer not in QUANTIZERS:
            raise DigitEdgeError(f"unknown --quantizer {self.quantizer!r}; choose from "
                                 f"{', '.join(QUANTIZERS)}")
        if self.quantizer == "ai-edge" and self.quant not in aeq.RECIPES:
            raise DigitEdgeError(f"--quantizer ai-edge supports --quant "
                                 f"{' or '.join(aeq.RECIPES)}, not {self.quant}")


class Conversion(NamedTuple):
    """A converted, validated (not yet written) model."""

    model_bytes: bytes
    quantizer: dict[str, Any]  # which tool and recipe, for the manifest
    calibration: CalibrationSet | None
    input_info: dict[str, Any]  # dtype, shape, scale, zero_point
    output_info: dict[str, Any]
    report: ValidationReport


def quantize(model: Any, data: MnistData, options: ConvertOptions
             ) -> tuple[bytes, dict[str, Any], CalibrationSet | None]:
    """TFLite bytes of `model` as `options` ask, the tool used, and the calibration set drawn."""
    options.check()
    calibration = None
    if options.quant == "int8":
        calibration = draw_calibration_set(data, options.calib_samples, options.seed)
    images = calibration.images if calibration is not None else None
    if options.quantizer == "ai-edge":
        float_bytes = convert_keras(model, "float32")
        model_bytes = aeq.quantize(float_bytes, options.quant, images)
        _, _, dist = aeq.require()
        info = {"name": dist, "version": dist_version(dist), "recipe": aeq.RECIPES[options.quant],
                "float_model_from": "tf.lite.TFLiteConverter"}
    else:
        model_bytes = convert_keras(model, options.quant, images)
        info = {"name": "tflite-converter", "version": dist_version("tensorflow"),
                "api": "tf.lite.TFLiteConverter.from_keras_model"}
    return model_bytes, info, calibration


def convert_and_validate(model: Any, data: MnistData, options: ConvertOptions,
                         float_probs: np.ndarray) -> Conversion:
    """Quantize `model`, then compare it with `float_probs` (the Keras model on data.x_test)."""
    model_bytes, info, calibration = quantize(model, data, options)
    probs, input_info, output_info = run_tflite(model_bytes, data.x_test)
    report = compare(data.y_test, float_probs, probs)
    return Conversion(model_bytes, info, calibration, input_info, output_info, report)
