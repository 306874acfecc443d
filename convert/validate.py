"""Check a converted model against its float original, through the device's own wrapper.

The converted bytes run in `edge_runtime.model.TFLiteModel`, the class `digitedge read` uses on
the Pi, so the figures include its (de)quantization and not just the interpreter's.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitedge.edge_runtime.model import TFLiteModel
from digitedge.errors import DigitEdgeError

EVAL_BATCH = 1000  # digits per invoke: keeps a CNN's activations small on a 10k test set


@dataclass(frozen=True)
class ValidationReport:
    """How the converted model compares with the float model on one labelled test set."""

    n_test: int
    float_correct: int
    converted_correct: int
    float_accuracy: float
    converted_accuracy: float
    drop_pp: float  # float minus converted accuracy, in percentage points (negative = gain)
    agreement: float  # fraction of digits where both models give the same top-1 label
    flipped: int  # digits whose top-1 label differs between the two models
    broken: int  # flipped digits the float model got right and the converted one wrong
    fixed: int  # flipped digits the float model got wrong and the converted one right
    per_class: dict[str, dict[str, float | int]]  # "0".."9" -> count, float, converted

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values for the manifest."""
        return asdict(self)


def compare(labels: np.ndarray, float_probs: np.ndarray, converted_probs: np.ndarray
            ) -> ValidationReport:
    """Accuracy, agreement and flips of two (N, 10) probability arrays against `labels`."""
    labels = np.asarray(labels).astype(np.int64)
    if float_probs.shape != converted_probs.shape or float_probs.shape != (labels.size, 10):
        raise ValueError(f"shape mismatch: labels {labels.shape}, float {float_probs.shape}, "
                         f"converted {converted_probs.shape}")
    n = int(labels.size)
    f_pred = float_probs.argmax(axis=1)
    c_pred = converted_probs.argmax(axis=1)
    f_ok, c_ok = f_pred == labels, c_pred == labels
    flips = f_pred != c_pred
    per_class = {}
    for c in range(10):
        mask = labels == c
        count = int(mask.sum())
        per_class[str(c)] = {
            "count": count,
            "float": float(f_ok[mask].mean()) if count else 0.0,
            "converted": float(c_ok[mask].mean()) if count else 0.0,
        }
    f_correct, c_correct = int(f_ok.sum()), int(c_ok.sum())
    return ValidationReport(
        n_test=n, float_correct=f_correct, converted_correct=c_correct,
        float_accuracy=f_correct / n, converted_accuracy=c_correct / n,
        drop_pp=100.0 * (f_correct - c_correct) / n,
        agreement=float((~flips).mean()), flipped=int(flips.sum()),
        broken=int((flips & f_ok & ~c_ok).sum()), fixed=int((flips & ~f_ok & c_ok).sum()),
        per_class=per_class,
    )


def check_drop(report: ValidationReport, max_drop: float, label: str,
               hint: str = "try more --calib-samples or --quant float16") -> None:
    """Refuse a converted model that loses more than `max_drop` percentage points.

    Raises:
        DigitEdgeError: the drop exceeds `max_drop` (nothing has been written yet).
    """
    # The drop comes from integer counts; the epsilon keeps 0.0 > 0.0 from flipping on rounding.
    if report.drop_pp > max_drop + 1e-9:
        raise DigitEdgeError(
            f"{label} reaches {report.converted_accuracy:.2%} test accuracy vs float "
            f"{report.float_accuracy:.2%} ({report.drop_pp:+.2f} pp drop > --max-drop "
            f"{max_drop:g}); nothing written: {hint}")


def _tensor_info(detail: dict[str, Any]) -> dict[str, Any]:
    """dtype, shape, scale and zero point of one tensor, JSON-ready for the manifest."""
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return {"dtype": np.dtype(detail["dtype"]).name, "shape": [int(v) for v in detail["shape"]],
            "scale": float(scale), "zero_point": int(zero_point)}


def run_tflite(model_bytes: bytes, images: np.ndarray
               ) -> tuple[np.ndarray, dict[str, Any], dict[str, Any]]:
    """Run TFLite bytes on uint8 digits through TFLiteModel.

    Returns:
        (N, 10) float32 probabilities, and the input and output tensor descriptions.

    Raises:
        DigitEdgeError: the wrapper refuses the model (e.g. wrong input or output shape).
    """
    with tempfile.TemporaryDirectory(prefix="digitedge-convert-") as tmp:
        path = Path(tmp) / "candidate.tflite"
        path.write_bytes(model_bytes)
        model = TFLiteModel(path, verify=False)
        # Read before predicting: batched invokes resize the tensors.
        inputs = _tensor_info(model.interpreter.get_input_details()[0])
        outputs = _tensor_info(model.interpreter.get_output_details()[0])
        probs = [model.predict(images[i:i + EVAL_BATCH])
                 for i in range(0, len(images), EVAL_BATCH)]
    if not probs:
        raise DigitEdgeError("no test digits to validate the converted model on")
    return np.concatenate(probs), inputs, outputs
