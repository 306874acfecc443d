"""Find a TFLite interpreter: ai_edge_litert, then tflite_runtime, then tensorflow.lite."""

from __future__ import annotations

import importlib
import logging
from typing import Any, NamedTuple

from digitedge.errors import DigitEdgeError
from digitedge.versions import dist_version

log = logging.getLogger(__name__)

# backend name -> (module to import, attribute path to the Interpreter class, distribution)
BACKENDS: dict[str, tuple[str, str, str]] = {
    "ai_edge_litert": ("ai_edge_litert.interpreter", "Interpreter", "ai-edge-litert"),
    "tflite_runtime": ("tflite_runtime.interpreter", "Interpreter", "tflite-runtime"),
    "tensorflow": ("tensorflow", "lite.Interpreter", "tensorflow"),
}


class Backend(NamedTuple):
    """An importable interpreter implementation."""

    name: str
    version: str
    interpreter_class: Any


def load_backend(name: str | None = None) -> Backend:
    """Import the first available backend (or exactly `name`), and log which one loaded.

    Raises:
        DigitEdgeError: `name` is unknown or cannot be imported, or no backend is installed.
    """
    if name is not None and name not in BACKENDS:
        raise DigitEdgeError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
    for candidate in [name] if name else list(BACKENDS):
        module_name, attr, dist = BACKENDS[candidate]
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        for part in attr.split("."):
            obj = getattr(obj, part)
        backend = Backend(candidate, dist_version(dist) or "unknown", obj)
        log.info("interpreter backend: %s %s", backend.name, backend.version)
        return backend
    if name:
        raise DigitEdgeError(f"backend {name!r} is not installed (pip install {BACKENDS[name][2]})")
    raise DigitEdgeError("no TFLite interpreter found: pip install ai-edge-litert")
