"""Training curves and confusion-matrix figures (matplotlib's object API, no global state)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from digitedge.atomic import atomic_path


def _save(figure: object, dest: str | os.PathLike[str]) -> None:
    with atomic_path(dest) as tmp:
        figure.savefig(tmp, dpi=120)  # type: ignore[attr-defined]


def plot_curves(history: Mapping[str, Sequence[float]], best_epoch: int,
                dest: str | os.PathLike[str], title: str = "") -> None:
    """Loss and error rate per epoch, training vs validation, with the kept epoch marked.

    Both axes are logarithmic: near 99 % accuracy the differences that matter are tenths of a
    percent, invisible on a linear 0-1 accuracy axis.

    Args:
        history: Keras history with "loss", "accuracy", "val_loss", "val_accuracy".
        best_epoch: 1-based epoch whose weights were kept.
        dest: PNG file to write (atomically).
    """
    # Figure() without pyplot: no backend or global figure state, works headless (Agg).
    from matplotlib.figure import Figure  # noqa: PLC0415 - optional, workstation only

    figure = Figure(figsize=(10, 4), layout="constrained")
    panels = (("loss", "cross-entropy loss", lambda v: v),
              ("accuracy", "error rate (%)", lambda v: 100.0 * (1.0 - v)))
    for axes, (metric, ylabel, transform) in zip(figure.subplots(1, 2), panels, strict=True):
        for key, label in ((metric, "training (augmented)"), (f"val_{metric}", "validation")):
            values = transform(np.asarray(history.get(key, []), dtype=np.float64))
            axes.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
        axes.axvline(best_epoch, color="grey", linestyle="--", label=f"kept epoch {best_epoch}")
        axes.set_yscale("log")
        axes.set_xlabel("epoch")
        axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3, which="both")
        axes.legend()
    if title:
        figure.suptitle(title)
    _save(figure, dest)


def plot_confusion(matrix: np.ndarray, dest: str | os.PathLike[str], title: str = "") -> None:
    """The 10x10 test confusion matrix with counts; the diagonal is hidden so errors stand out."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    errors = np.asarray(matrix, dtype=np.float64).copy()
    np.fill_diagonal(errors, np.nan)
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(np.where(errors > 0, errors, np.nan), cmap="Reds", vmin=0)
    figure.colorbar(image, ax=axes, label="misclassified digits")
    for true in range(matrix.shape[0]):
        for pred in range(matrix.shape[1]):
            count = int(matrix[true, pred])
            if count or true == pred:
                weight = "bold" if true == pred else "normal"
                axes.text(pred, true, str(count), ha="center", va="center", fontsize=8,
                          fontweight=weight)
    axes.set_xticks(range(matrix.shape[1]))
    axes.set_yticks(range(matrix.shape[0]))
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true digit")
    axes.set_title(title or "test confusion matrix (diagonal: correct, in bold)")
    _save(figure, dest)
