"""Read the JSON manifest beside a .tflite model and check the model against it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from digitedge.errors import DigitEdgeError

SCHEMA_VERSION = 1
MODELS_DIR = Path(__file__).resolve().parent / "models"
# The bundled models, by the name `--model` also accepts. The default pair is the small CNN,
# chosen because it reads camera digits best (README, "Choosing the bundled model"); the
# classic 784-512-10 MLP ships beside it.
BUNDLED_MODELS = {"int8": MODELS_DIR / "mnist_int8.tflite",
                  "float32": MODELS_DIR / "mnist_float32.tflite",
                  "mlp-int8": MODELS_DIR / "mnist_mlp_int8.tflite",
                  "mlp-float32": MODELS_DIR / "mnist_mlp_float32.tflite"}
# What `digitedge read` and `digitedge bench` use when no model is given.
DEFAULT_MODELS = {k: BUNDLED_MODELS[k] for k in ("int8", "float32")}
# The reader's default confidence floor. The bundled models were trained with outlier
# exposure: on what is not one digit they answer near 0.1 for every class, and on hard real
# digits (small, blurred) often 0.3-0.5, so the floor sits between (measured on the tuning
# scenes, README "Choosing the bundled model").
MIN_CONFIDENCE = 0.3


def resolve_model_path(model: str | Path | None) -> Path:
    """A model path from a file name, a bundled model's name ("mlp-int8"), or None (default)."""
    if model is None:
        return DEFAULT_MODELS["int8"]
    if isinstance(model, str) and model in BUNDLED_MODELS and not Path(model).exists():
        return BUNDLED_MODELS[model]
    return Path(model)


def manifest_path(model_path: str | Path) -> Path:
    """The manifest lives beside the model with the same stem: model.tflite -> model.json."""
    return Path(model_path).with_suffix(".json")


def load_manifest(model_path: str | Path) -> dict[str, Any] | None:
    """The manifest of `model_path`, or None when there is none.

    Raises:
        DigitEdgeError: a manifest exists but is not valid JSON.
    """
    path = manifest_path(model_path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DigitEdgeError(f"manifest {path} is unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise DigitEdgeError(f"manifest {path} is not a JSON object")
    return data


def verify_model_bytes(model_bytes: bytes, manifest: dict[str, Any],
                       model_path: str | Path) -> None:
    """Refuse a model whose bytes do not match the sha256 its manifest records.

    A mismatch means the model was replaced or damaged after conversion, so the accuracy
    figures in the manifest no longer describe it.
    """
    expected = manifest.get("model", {}).get("sha256")
    if not expected:
        raise DigitEdgeError(f"manifest of {model_path} records no model sha256")
    actual = hashlib.sha256(model_bytes).hexdigest()
    if actual != expected:
        raise DigitEdgeError(
            f"{model_path} does not match its manifest (sha256 {actual[:12]}... != "
            f"{expected[:12]}...); reconvert it or remove the stale "
            f"{manifest_path(model_path).name}"
        )
