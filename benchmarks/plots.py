"""PNG figures of a benchmark run; matplotlib is optional, so it is imported only here, lazily."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from digitedge.atomic import atomic_path


def matplotlib_missing() -> str | None:
    """Why plots cannot be drawn (None when matplotlib is importable)."""
    if importlib.util.find_spec("matplotlib") is None:
        return "matplotlib is not installed (pip install 'digitedge[plots]')"
    return None


def _pyplot() -> Any:
    import matplotlib  # noqa: PLC0415 - optional dependency

    matplotlib.use("Agg")  # files only: never open a window, work without a display
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")


def latency_plot(samples: dict[str, dict[str, np.ndarray]], path: Path) -> None:
    """Box plots of single-image latency: one box per (model, threads)."""
    plt = _pyplot()
    labels, data = [], []
    for model, by_threads in samples.items():
        for threads, ms in by_threads.items():
            labels.append(f"{model}\n{threads} thr" if threads != "default" else model)
            data.append(np.asarray(ms) * 1000.0)  # microseconds read better at this scale
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(data)), 4.5))
    ax.boxplot(data, whis=(1, 99), showfliers=False)
    ax.set_xticks(range(1, len(labels) + 1), labels)
    ax.set_yscale("log")  # one preempted run (a busy machine) must not flatten the boxes
    ax.set_ylabel("single-image latency (µs, log scale); whiskers p1-p99")
    ax.set_title("Single-image latency per model and thread count")
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def per_class_plot(models: list[dict[str, Any]], path: Path) -> None:
    """Grouped bars of per-class accuracy, one colour per model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / max(1, len(models))
    for i, m in enumerate(models):
        acc = [100.0 * v if v is not None else np.nan for v in m["accuracy"]["per_class"]]
        ax.bar(np.arange(10) + i * width - 0.4 + width / 2, acc, width, label=m["name"])
    finite = [100.0 * v for m in models for v in m["accuracy"]["per_class"] if v is not None]
    ax.set_ylim(max(0.0, min(finite, default=0.0) - 2.0), 100.0)
    ax.set_xticks(range(10))
    ax.set_xlabel("digit")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy per digit on the test set")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def confusion_plot(model: dict[str, Any], path: Path) -> None:
    """The confusion matrix with counts, the diagonal dimmed so errors stand out."""
    plt = _pyplot()
    cm = np.asarray(model["accuracy"]["confusion"])
    off = cm.copy()
    np.fill_diagonal(off, 0)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    im = ax.imshow(off, cmap="Reds")
    dark = max(1, int(off.max())) * 0.6  # above this the cell is dark: write in white
    for (r, c), v in np.ndenumerate(cm):
        colour = "grey" if r == c else "white" if v > dark else "black"
        ax.text(c, r, str(v), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix: {model['name']} (colour = errors)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    _save(fig, path)
    plt.close(fig)


def write_plots(doc: dict[str, Any], samples: dict[str, dict[str, np.ndarray]],
                out_dir: Path) -> list[str]:
    """Draw every figure into `out_dir`; returns the file names written (relative)."""
    names = []
    latency_plot(samples, out_dir / "latency.png")
    names.append("latency.png")
    models = [m for m in doc["models"] if m.get("accuracy")]
    if models:
        per_class_plot(models, out_dir / "accuracy_per_class.png")
        names.append("accuracy_per_class.png")
    for m in models:
        name = f"confusion_{_slug(m['name'])}.png"
        confusion_plot(m, out_dir / name)
        names.append(name)
    return names


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
