"""A TFLite digit classifier: loads, checks and runs a model; all (de)quantization is here."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from digitedge.edge_runtime.backends import Backend, load_backend
from digitedge.edge_runtime.manifest import load_manifest, resolve_model_path, verify_model_bytes
from digitedge.errors import DigitEdgeError

log = logging.getLogger(__name__)

MAX_MODEL_BYTES = 256 * 1024 * 1024  # far above any digit model; refuses a wrong huge file
_TFLITE_IDENT = b"TFL3"  # flatbuffer file identifier at bytes 4-8 of every .tflite


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: np.dtype) -> np.ndarray:
    """Map real values to the integer tensor type: round(x / scale) + zero_point, clipped."""
    info = np.iinfo(dtype)
    q = np.round(np.asarray(x, dtype=np.float32) / np.float32(scale)) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Map integer tensor values back to reals, widening before the zero-point subtraction."""
    return (q.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)


@contextlib.contextmanager
def _native_info_filtered() -> Iterator[None]:
    """Hide LiteRT's native "INFO: Created TensorFlow Lite XNNPACK delegate" line.

    The C++ runtime writes it straight to file descriptor 2 when tensors are first allocated,
    which would turn every one-line CLI error into two lines. Anything else it writes there
    (warnings, errors) is passed on to stderr unchanged.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreter): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode(errors="replace").splitlines()
                    if not line.startswith("INFO: Created TensorFlow Lite")]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def _tensor_quant(detail: dict[str, Any]) -> tuple[float, int]:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return float(scale), int(zero_point)


class TFLiteModel:
    """A 28x28 digit classifier running in a LiteRT/TFLite interpreter.

    Feed it raw uint8 digits (white on black, 0-255, MNIST style); it returns ten class
    probabilities per digit whatever the model's tensor types (float32, uint8 or int8).
    """

    def __init__(self, path: str | Path | None = None, *, backend: str | None = None,
                 threads: int | None = None, verify: bool = True) -> None:
        """Load `path` (default: the bundled int8 model) and check it can classify digits.

        Args:
            path: a .tflite file (a manifest beside it, same stem + .json, is checked), or
                a bundled model's name ("int8", "float32", "mlp-int8", "mlp-float32").
            backend: force one backend ("ai_edge_litert", "tflite_runtime", "tensorflow").
            threads: interpreter threads; None lets the backend decide.
            verify: check the sha256 recorded in the manifest, when there is one.

        Raises:
            DigitEdgeError: missing file, not a TFLite model, manifest mismatch, or a model
                whose input is not one 28x28 image or whose output is not 10 classes.
        """
        self.path = resolve_model_path(path)
        model_bytes = self._read_model_bytes(self.path)
        self.manifest = load_manifest(self.path)
        if verify and self.manifest is not None:
            verify_model_bytes(model_bytes, self.manifest, self.path)
        self.backend: Backend = load_backend(backend)
        self.threads = threads
        try:
            with _native_info_filtered():
                self.interpreter = self.backend.interpreter_class(
                    model_content=model_bytes, num_threads=threads)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DigitEdgeError(f"{self.path} could not be loaded as a TFLite model ({first})") \
                from None
        self.size_bytes = len(model_bytes)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self._check_signature()
        self._batch = 1

    @staticmethod
    def _read_model_bytes(path: Path) -> bytes:
        if not path.is_file():
            raise DigitEdgeError(f"model not found: {path}")
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise DigitEdgeError(f"{path} is {size} bytes, too large to be a digit model")
        data = path.read_bytes()
        if len(data) < 8 or data[4:8] != _TFLITE_IDENT:
            raise DigitEdgeError(f"{path} is not a TFLite model (no TFL3 identifier)")
        return data

    def _check_signature(self) -> None:
        shape = tuple(int(v) for v in self._input["shape"])
        if len(self.interpreter.get_input_details()) != 1 or shape[1:] not in (
                (28, 28), (28, 28, 1), (784,)):
            raise DigitEdgeError(
                f"{self.path} takes input of shape {list(shape)}; digitedge needs one 28x28 "
                "digit per batch row ([N, 28, 28], [N, 28, 28, 1] or [N, 784])")
        out_shape = tuple(int(v) for v in self._output["shape"])
        if out_shape[-1] != 10:
            raise DigitEdgeError(f"{self.path} outputs shape {list(out_shape)}, not 10 classes")
        self._input_shape = shape[1:]

    @property
    def input_dtype(self) -> np.dtype:
        """The dtype of the model's input tensor (float32, uint8 or int8)."""
        return np.dtype(self._input["dtype"])

    @property
    def output_dtype(self) -> np.dtype:
        """The dtype of the model's output tensor."""
        return np.dtype(self._output["dtype"])

    @property
    def input_quantization(self) -> tuple[float, int]:
        """(scale, zero_point) of the input tensor; (0.0, 0) for a float input."""
        return _tensor_quant(self._input)

    @property
    def output_quantization(self) -> tuple[float, int]:
        """(scale, zero_point) of the output tensor; (0.0, 0) for a float output."""
        return _tensor_quant(self._output)

    def prepare_input(self, digits: np.ndarray) -> np.ndarray:
        """Turn uint8 (N, 28, 28) pixels into the model's input tensor (type and shape)."""
        digits = np.asarray(digits)
        if digits.ndim == 2:
            digits = digits[None]
        if digits.shape[1:] != (28, 28):
            raise ValueError(f"expected digits of shape (N, 28, 28), got {digits.shape}")
        x = digits.reshape((digits.shape[0], *self._input_shape))
        if np.issubdtype(self.input_dtype, np.integer):
            scale, zero_point = self.input_quantization
            return quantize(x, scale, zero_point, self.input_dtype)
        return x.astype(self.input_dtype)

    def _ensure_batch(self, n: int) -> None:
        if n != self._batch:
            self.interpreter.resize_tensor_input(self._input["index"], [n, *self._input_shape])
            self.interpreter.allocate_tensors()
            self._batch = n

    def invoke(self, tensor: np.ndarray) -> np.ndarray:
        """Run one prepared input tensor; returns the raw output tensor (a copy)."""
        self._ensure_batch(tensor.shape[0])
        self.interpreter.set_tensor(self._input["index"], tensor)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output["index"]).copy()

    def output_to_probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Dequantize a raw output tensor into (N, 10) float32 probabilities."""
        raw = raw.reshape(raw.shape[0], 10)
        if np.issubdtype(self.output_dtype, np.integer):
            scale, zero_point = self.output_quantization
            return dequantize(raw, scale, zero_point)
        return raw.astype(np.float32)

    def predict(self, digits: np.ndarray) -> np.ndarray:
        """Classify uint8 digits of shape (N, 28, 28) in one batched invoke -> (N, 10) floats."""
        digits = np.asarray(digits)
        if digits.ndim == 3 and digits.shape[0] == 0:
            return np.zeros((0, 10), dtype=np.float32)
        return self.output_to_probabilities(self.invoke(self.prepare_input(digits)))
