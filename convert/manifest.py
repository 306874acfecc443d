"""Build the JSON manifest that travels beside every .tflite, and write the pair safely.

The manifest says what the model is (hash, tensors, preprocessing), how well it did against its
float original, and what built it (source model, data, calibration, versions). The device checks
`model.sha256` (edge_runtime.manifest.verify_model_bytes) before trusting the figures.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from digitedge.atomic import atomic_path
from digitedge.convert.calibration import CalibrationSet
from digitedge.convert.validate import ValidationReport
from digitedge.edge_runtime.manifest import SCHEMA_VERSION, manifest_path
from digitedge.errors import DigitEdgeError
from digitedge.train.data import file_sha256
from digitedge.versions import dist_version

log = logging.getLogger(__name__)

REQUIRED_KEYS = ("schema_version", "model", "quantization", "quantizer", "input", "output",
                 "preprocessing", "labels", "validation", "calibration", "source", "versions",
                 "created_utc")
PREPROCESSING = {
    "digit_size": [28, 28],
    "polarity": "white digit on black background (MNIST style)",
    "pixel_range": [0, 255],
    "pixel_dtype": "uint8",
    "note": "feed raw pixels; the model rescales inside and TFLiteModel quantizes to the input",
}
LABELS = [str(d) for d in range(10)]
_VERSIONED = ("digitedge", "tensorflow", "keras", "numpy", "ai-edge-litert", "litert-quantizer",
              "ai-edge-quantizer")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shaped the model bytes (absent ones are left out)."""
    versions = {"python": platform.python_version()}
    versions.update({d: v for d in _VERSIONED if (v := dist_version(d)) is not None})
    return versions


def train_metrics_beside(model_path: Path) -> dict[str, Any] | None:
    """arch, config and test accuracy from the train_metrics.json `digitedge train` wrote
    beside the model (None when there is none), so the manifest names the training run."""
    path = model_path.parent / "train_metrics.json"
    if not path.is_file():
        return None
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        log.warning("ignoring unreadable %s", path)
        return None
    if not isinstance(metrics, dict):
        return None
    config = metrics.get("config")
    arch = metrics.get("arch") or (config.get("arch") if isinstance(config, dict) else None)
    return {"file": path.name, "sha256": file_sha256(path), "arch": arch, "config": config,
            "keras_test_accuracy": metrics.get("test_accuracy")}


def build_manifest(*, model_bytes: bytes, out_name: str, quant: str, quant_description: str,
                   quantizer: dict[str, Any], input_info: dict[str, Any],
                   output_info: dict[str, Any], report: ValidationReport,
                   calibration: CalibrationSet | None, source: dict[str, Any]
                   ) -> dict[str, Any]:
    """The manifest of one converted model (a JSON-ready dict with REQUIRED_KEYS)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "model": {"file": out_name, "sha256": hashlib.sha256(model_bytes).hexdigest(),
                  "size_bytes": len(model_bytes)},
        "quantization": {"mode": quant, "description": quant_description},
        "quantizer": quantizer,
        "input": input_info,
        "output": output_info,
        "preprocessing": PREPROCESSING,
        "labels": LABELS,
        "validation": report.to_dict(),
        "calibration": None if calibration is None else {
            "n": calibration.n, "seed": calibration.seed, "split": calibration.split,
            "stratified": True},
        "source": source,
        "versions": library_versions(),
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def check_manifest(manifest: dict[str, Any], model_bytes: bytes) -> None:
    """Raise DigitEdgeError unless `manifest` has every required key and matches the bytes."""
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise DigitEdgeError(f"manifest lacks {', '.join(missing)}")
    if manifest["model"].get("sha256") != hashlib.sha256(model_bytes).hexdigest():
        raise DigitEdgeError("manifest sha256 does not match the model bytes")


def write_model_and_manifest(out: Path, model_bytes: bytes, manifest: dict[str, Any]) -> Path:
    """Write FILE.tflite then FILE.json, each via temp + rename; on failure leave neither new.

    Both temporary files are complete before the first rename, so the only window is between
    two renames; if the manifest's rename fails, the model that was there before (kept as a
    hard link) is put back, or the new model is removed when there was none.
    """
    check_manifest(manifest, model_bytes)
    json_path = manifest_path(out)
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    backup = out.with_name(f".{out.name}.previous")
    backup.unlink(missing_ok=True)
    try:
        os.link(out, backup)
    except OSError:  # no previous model, or a file system without hard links
        backup = None
    model_renamed = False
    try:
        with atomic_path(json_path) as tmp_json:
            tmp_json.write_text(text, encoding="utf-8")
            with atomic_path(out) as tmp_model:
                tmp_model.write_bytes(model_bytes)
            model_renamed = True
    except BaseException:
        if model_renamed:
            if backup is not None:
                os.replace(backup, out)
            else:
                out.unlink(missing_ok=True)
        raise
    finally:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return json_path
