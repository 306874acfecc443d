"""Keras model -> TFLite bytes with the TFLite converter (TensorFlow imported lazily, here only).

int8 is full integer: int8 weights and activations with uint8 input and output tensors. uint8
because the device's pixels already are uint8 0-255: with a calibration set whose pixels span
0-255 the input tensor gets scale 1 and zero point 0, so a camera crop goes in unchanged, and the
uint8 softmax output reads directly as probability * 256.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from digitedge.convert.calibration import representative_dataset
from digitedge.errors import DigitEdgeError, needs_tensorflow

log = logging.getLogger(__name__)

QUANT_MODES = ("int8", "float16", "dynamic", "float32")
QUANT_DESCRIPTIONS = {
    "int8": "full integer: int8 weights and activations, integer input and output tensors",
    "float16": "float16 weights, float32 activations and input/output",
    "dynamic": "int8 weights, activations quantized on the fly, float32 input/output",
    "float32": "no quantization",
}
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Hide what TensorFlow's C++ side and Keras' export print while we import or convert.

    They write straight to file descriptors 1 and 2, so redirecting `sys.stdout` is not
    enough; the captured text is logged at debug level instead of being lost.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    py_out, py_err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with contextlib.redirect_stdout(py_out), contextlib.redirect_stderr(py_err), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            native = sink.read().decode("utf-8", errors="replace")
            text = "\n".join(t.strip() for t in (native, py_out.getvalue(), py_err.getvalue())
                             if t.strip())
            if text:
                log.debug("converter output:\n%s", text[-4000:])


def import_tensorflow() -> Any:
    """tensorflow, imported quietly; DigitEdgeError on a base install without it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with quiet_native_output():
            import tensorflow as tf  # noqa: PLC0415 - workstation-only dependency
    except ImportError:
        raise needs_tensorflow("digitedge convert") from None
    return tf


def check_keras_file(path: str | os.PathLike[str]) -> Path:
    """Refuse a file that cannot be a Keras model before TensorFlow is even imported.

    Raises:
        DigitEdgeError: missing file, wrong suffix, or not the zip (.keras) / HDF5 (.h5)
            container Keras writes.
    """
    path = Path(path)
    if not path.is_file():
        raise DigitEdgeError(f"model not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".keras":
        ok = zipfile.is_zipfile(path)
        if ok:
            with zipfile.ZipFile(path) as zf:
                ok = "config.json" in zf.namelist()
        if not ok:
            raise DigitEdgeError(
                f"{path} is not a Keras model (a .keras file is a zip holding config.json); "
                "pass the model.keras that `digitedge train` wrote")
    elif suffix == ".h5":
        with open(path, "rb") as fh:
            if fh.read(8) != _HDF5_MAGIC:
                raise DigitEdgeError(f"{path} is not an HDF5 Keras model")
    else:
        raise DigitEdgeError(f"{path} is not a Keras model file: expected a .keras (or .h5) file")
    return path


def load_keras_model(path: str | os.PathLike[str]) -> Any:
    """Load a digit classifier and check it takes one 28x28 digit and outputs 10 classes.

    Raises:
        DigitEdgeError: not a Keras model, unreadable, or the wrong input/output shape.
    """
    path = check_keras_file(path)
    import_tensorflow()
    try:
        import keras  # noqa: PLC0415 - workstation-only dependency
        with quiet_native_output():
            model = keras.saving.load_model(path, compile=False)
    except ImportError:
        raise needs_tensorflow("digitedge convert") from None
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise DigitEdgeError(
            f"{path} could not be loaded as a Keras model ({type(exc).__name__}: {reason})"
        ) from None
    shape = model_input_shape(model)
    if int(np.prod(shape)) != 784:
        raise DigitEdgeError(f"{path} takes input of shape {list(shape)}, not one 28x28 digit")
    out = tuple(model.outputs[0].shape)
    if out[-1] != 10:
        raise DigitEdgeError(f"{path} outputs shape {list(out)}, not 10 classes")
    return model


def model_input_shape(model: Any) -> tuple[int, ...]:
    """The per-digit input shape of a Keras model, e.g. (28, 28) or (28, 28, 1)."""
    shape = tuple(model.inputs[0].shape)[1:]
    if any(dim is None for dim in shape):
        raise DigitEdgeError(f"model input shape {list(shape)} is not fixed")
    return tuple(int(dim) for dim in shape)


def keras_predict(model: Any, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Float (N, 10) probabilities of the Keras model on raw uint8 digits."""
    x = np.asarray(images, dtype=np.float32).reshape((-1, *model_input_shape(model)))
    with quiet_native_output():
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def convert_keras(model: Any, quant: str, calib_images: np.ndarray | None = None) -> bytes:
    """Convert a loaded Keras model to TFLite bytes with the TFLite converter.

    Args:
        model: the Keras digit classifier.
        quant: one of QUANT_MODES.
        calib_images: uint8 (n, 28, 28) training digits; required for "int8".

    Raises:
        DigitEdgeError: unknown mode, int8 without calibration digits, or the converter failed.
    """
    if quant not in QUANT_MODES:
        raise DigitEdgeError(f"unknown --quant {quant!r}; choose from {', '.join(QUANT_MODES)}")
    tf = import_tensorflow()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quant == "int8":
        if calib_images is None or len(calib_images) == 0:
            raise DigitEdgeError("int8 conversion needs calibration digits")
        converter.representative_dataset = representative_dataset(
            calib_images, model_input_shape(model))
        # Full integer: refuse to fall back to float kernels for any op.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    try:
        with quiet_native_output():
            return bytes(converter.convert())
    except Exception as exc:  # noqa: BLE001 - the converter raises many internal types
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise DigitEdgeError(
            f"TFLite conversion ({quant}) failed: {type(exc).__name__}: {first}") from None
