"""Quantize a float32 .tflite with Google's AI Edge Quantizer (the converter's successor).

LiteRT marks the converter's post-training quantization as deprecated in favour of the AI Edge
Quantizer, which works on an already converted float32 model. The project was renamed LiteRT
Quantizer (`litert-quantizer`, same API, import `litert_quantizer`); the old `ai-edge-quantizer`
still installs and is used when the new one is absent. Its static int8 recipe (static_wi8_ai8)
quantizes weights and activations and gives the model int8 input and output tensors (scale and
zero point from calibration), so the device wrapper runs it like the converter's model.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

import numpy as np

from digitedge.convert.calibration import as_model_inputs
from digitedge.convert.converter import quiet_native_output
from digitedge.errors import DigitEdgeError

# (import name, distribution) in order of preference: the renamed package first.
PACKAGES = (("litert_quantizer", "litert-quantizer"), ("ai_edge_quantizer", "ai-edge-quantizer"))
# --quant mode -> the quantizer's recipe function that implements it
RECIPES = {"int8": "static_wi8_ai8", "dynamic": "dynamic_wi8_afp32"}


def require() -> tuple[Any, Any, str]:
    """(quantizer module, recipe module, distribution name) of the installed quantizer.

    Raises:
        DigitEdgeError: neither package is installed (one line naming what to install).
    """
    for module_name, dist in PACKAGES:
        try:
            quantizer = importlib.import_module(f"{module_name}.quantizer")
            recipe = importlib.import_module(f"{module_name}.recipe")
        except ImportError:
            continue
        return quantizer, recipe, dist
    raise DigitEdgeError(
        f"--quantizer ai-edge needs the AI Edge Quantizer: pip install {PACKAGES[0][1]} "
        f"(or the older {PACKAGES[1][1]})")


def version() -> tuple[str, str] | None:
    """(distribution, version) of the quantizer `require` would use, or None if absent."""
    for _, dist in PACKAGES:
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def _signature_input(float_model: bytes) -> tuple[str, str, tuple[int, ...]]:
    """(signature key, input name, per-digit input shape) of a one-input float model."""
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 - AEQ depends on it

    interpreter = Interpreter(model_content=float_model)
    signatures = interpreter.get_signature_list()
    if len(signatures) != 1:
        raise DigitEdgeError(f"expected one model signature, found {len(signatures)}")
    key, io = next(iter(signatures.items()))
    runner = interpreter.get_signature_runner(key)
    name = io["inputs"][0]
    shape = tuple(int(v) for v in runner.get_input_details()[name]["shape"][1:])
    return key, name, shape


def quantize(float_model: bytes, quant: str, calib_images: np.ndarray | None) -> bytes:
    """Quantize float32 TFLite bytes with the AI Edge Quantizer recipe for `quant`.

    Args:
        float_model: a float32 .tflite (from `convert_keras(model, "float32")`).
        quant: "int8" (static, needs `calib_images`) or "dynamic".
        calib_images: uint8 (n, 28, 28) training digits for the static recipe.

    Raises:
        DigitEdgeError: the package is missing, the mode has no recipe, or quantization failed.
    """
    if quant not in RECIPES:
        raise DigitEdgeError(
            f"--quantizer ai-edge supports --quant {' or '.join(RECIPES)}, not {quant}")
    quantizer, recipe, _ = require()
    qt = quantizer.Quantizer(float_model, getattr(recipe, RECIPES[quant])())
    try:
        calibration = None
        if qt.need_calibration:
            if calib_images is None or len(calib_images) == 0:
                raise DigitEdgeError("int8 quantization needs calibration digits")
            key, name, shape = _signature_input(float_model)
            batch = as_model_inputs(calib_images, shape)
            samples = [{name: batch[i:i + 1]} for i in range(batch.shape[0])]
            with quiet_native_output():
                calibration = qt.calibrate({key: samples}, num_threads=2)
        with quiet_native_output():
            result = qt.quantize(calibration, enable_progress_report=False)
    except DigitEdgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the quantizer raises many internal types
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise DigitEdgeError(
            f"AI Edge Quantizer ({RECIPES[quant]}) failed: {type(exc).__name__}: {first}"
        ) from None
    return bytes(result.quantized_model)
