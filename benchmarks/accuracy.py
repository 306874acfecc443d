"""Accuracy of a classifier on labelled digits and how far it agrees with a reference model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

NUM_CLASSES = 10
MAX_FLIPS_LISTED = 50  # benchmark.json lists this many flipped digits; the count is complete


def predict_in_batches(predict: Callable[[np.ndarray], np.ndarray], digits: np.ndarray,
                       batch: int = 1000) -> np.ndarray:
    """Top-1 labels of all `digits`, classified `batch` at a time to bound memory."""
    out = [np.argmax(predict(digits[i:i + batch]), axis=1) for i in range(0, len(digits), batch)]
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray,
                     num_classes: int = NUM_CLASSES) -> np.ndarray:
    """counts[true, predicted] as int64."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    flat = np.bincount(labels * num_classes + predicted, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def per_class_accuracy(confusion: np.ndarray) -> list[float | None]:
    """Recall of each class (diagonal over row sums); None for a class with no samples."""
    totals = confusion.sum(axis=1)
    return [float(confusion[c, c] / totals[c]) if totals[c] else None
            for c in range(confusion.shape[0])]


@dataclass(frozen=True)
class Flips:
    """Where a model's top-1 differs from the reference's on the same digits."""

    count: int
    fixed: int  # the reference was wrong, this model is right
    broken: int  # the reference was right, this model is wrong
    both_wrong: int  # both wrong, with different labels
    listed: list[dict[str, int]]  # the first MAX_FLIPS_LISTED: index, label, reference, model


def flips(labels: np.ndarray, reference: np.ndarray, predicted: np.ndarray) -> Flips:
    """Compare top-1 predictions of a model against a reference model's."""
    idx = np.flatnonzero(reference != predicted)
    ref_ok = reference[idx] == labels[idx]
    mod_ok = predicted[idx] == labels[idx]
    listed = [{"index": int(i), "label": int(labels[i]), "reference": int(reference[i]),
               "model": int(predicted[i])} for i in idx[:MAX_FLIPS_LISTED]]
    return Flips(count=int(idx.size), fixed=int((mod_ok & ~ref_ok).sum()),
                 broken=int((ref_ok & ~mod_ok).sum()), both_wrong=int((~ref_ok & ~mod_ok).sum()),
                 listed=listed)


def accuracy_report(labels: np.ndarray, predicted: np.ndarray,
                    reference: np.ndarray | None = None,
                    reference_name: str | None = None) -> dict[str, Any]:
    """The `accuracy` object of one model in benchmark.json."""
    labels = np.asarray(labels, dtype=np.int64)
    confusion = confusion_matrix(labels, predicted)
    report: dict[str, Any] = {
        "n": int(labels.size),
        "accuracy": float(np.mean(predicted == labels)) if labels.size else None,
        "correct": int(np.sum(predicted == labels)),
        "per_class": per_class_accuracy(confusion),
        "confusion": confusion.tolist(),
        "reference": reference_name,
        "agreement": None,
        "flipped": None,
    }
    if reference is not None:
        f = flips(labels, reference, predicted)
        report["agreement"] = float(np.mean(reference == predicted)) if labels.size else None
        report["flipped"] = {"count": f.count, "fixed": f.fixed, "broken": f.broken,
                             "both_wrong": f.both_wrong, "listed": f.listed}
    return report

