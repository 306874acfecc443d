"""Train one model on MNIST with Keras: seeded split, augmented batches, best epoch kept, tested.

Workstation only (imports Keras). The test set is touched once, after training, to report
accuracy; the best epoch is chosen on a validation split carved from the training digits.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any, NamedTuple  # noqa: E402

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from digitedge.benchmarks.accuracy import confusion_matrix  # noqa: E402
from digitedge.train.augment import AugmentParams, augment_batch, get_params  # noqa: E402
from digitedge.train.config import TrainConfig  # noqa: E402
from digitedge.train.data import MnistData  # noqa: E402
from digitedge.train.models import build_model  # noqa: E402
from digitedge.train.outliers import make_outliers  # noqa: E402


class Split(NamedTuple):
    """Indices into the training arrays: what the model fits, and what picks the best epoch."""

    train: np.ndarray
    val: np.ndarray


class TestMetrics(NamedTuple):
    """How a model did on the held-out test digits."""

    accuracy: float  # fraction correct, 0-1
    loss: float  # mean sparse categorical cross-entropy
    per_class_accuracy: list[float]  # recall of each digit 0-9
    confusion: np.ndarray  # int (10, 10): rows are true digits, columns predictions


class TrainResult(NamedTuple):
    """A trained model (best epoch's weights) and everything measured while making it."""

    model: keras.Model
    history: dict[str, list[float]]  # per epoch: loss, accuracy, val_loss, val_accuracy
    best_epoch: int  # 1-based epoch whose weights the model holds
    epochs_run: int
    split: Split
    test: TestMetrics
    train_seconds: float  # wall time of fitting alone


def split_validation(n: int, size: int, seed: int) -> Split:
    """Shuffle 0..n-1 with `seed`; the last `size` (at most n // 10) indices validate.

    The cap keeps small files (the 3,000-digit sample) mostly for training.
    """
    size = max(1, min(size, n // 10))
    order = np.random.default_rng(seed).permutation(n)
    return Split(train=np.sort(order[:-size]), val=np.sort(order[-size:]))


def score_probabilities(probs: np.ndarray, labels: np.ndarray) -> TestMetrics:
    """Accuracy, cross-entropy, per-class accuracy and confusion from softmax outputs."""
    labels = labels.astype(np.int64)
    predictions = probs.argmax(axis=1)
    matrix = confusion_matrix(labels, predictions)
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    picked = probs[np.arange(len(labels)), labels].astype(np.float64)
    loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())
    return TestMetrics(
        accuracy=float((predictions == labels).mean()), loss=loss,
        per_class_accuracy=[float(a) for a in per_class], confusion=matrix,
    )


OUTLIER_POOL = 30_000
"""Non-digit crops drawn once per run for outlier exposure (at most one per training digit);
each batch samples its share from them and augments them like the digits."""


def one_hot(labels: np.ndarray) -> np.ndarray:
    """float32 (N, 10) targets: the training loss is categorical so that non-digits can have
    the uniform distribution as theirs."""
    return np.eye(10, dtype=np.float32)[labels]


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled training batches, freshly augmented every epoch: float32 raw pixels and
    one-hot targets, plus `per_batch` crops of the outlier `pool` with uniform targets.

    The randomness of batch `i` in epoch `e` comes from (seed, e, i) alone, so a run repeats
    exactly for a given seed.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int,
                 params: AugmentParams | None, seed: int, pool: np.ndarray | None = None,
                 per_batch: int = 0) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.x, self.y = x, y
        self.batch_size, self.params, self.seed = batch_size, params, seed
        self.pool = pool if pool is not None and len(pool) and per_batch > 0 else None
        self.per_batch = per_batch if self.pool is not None else 0
        self.epoch = 0
        self._order = self._shuffled()

    def _shuffled(self) -> np.ndarray:
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        picks = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        images, targets = self.x[picks], one_hot(self.y[picks])
        if self.pool is not None:
            extra = self.pool[rng.integers(len(self.pool), size=self.per_batch)]
            images = np.concatenate([images, extra])
            targets = np.concatenate([targets, np.full((len(extra), 10), 0.1, np.float32)])
        return augment_batch(images, rng, self.params).astype(np.float32), targets

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._shuffled()


def train(data: MnistData, config: TrainConfig, verbose: int | str = "auto") -> TrainResult:
    """Fit `config`'s model on `data`'s training digits, keep the best epoch, score the test set.

    Args:
        data: MNIST arrays (uint8 images, integer labels).
        config: architecture, schedule, augmentation and seed.
        verbose: Keras' fit verbosity (1 progress bar, 2 one line per epoch, 0 silent).
    """
    keras.utils.set_random_seed(config.seed)
    split = split_validation(len(data.x_train), config.validation_size, config.seed)
    x_train = data.x_train[split.train]
    pool = None
    if config.outliers > 0:
        pool = make_outliers(x_train, np.random.default_rng([config.seed, 1]),
                             min(OUTLIER_POOL, len(x_train)))
    batches = AugmentedBatches(
        x_train, data.y_train[split.train], config.batch_size, get_params(config.augment),
        config.seed, pool, round(config.outliers * config.batch_size),
    )
    x_val = data.x_train[split.val].astype(np.float32)
    y_val = one_hot(data.y_train[split.val])

    model = build_model(config)
    # Cosine decay to 1% of the initial rate over the whole run: the last epochs settle into a
    # minimum, which matters more for the final accuracy than any one learning rate.
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=config.epochs * len(batches), alpha=0.01,
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="categorical_crossentropy",
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    # Never stops early (patience = all epochs); it only restores the best epoch's weights.
    best = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                         patience=config.epochs, restore_best_weights=True)
    started = time.perf_counter()
    fitted = model.fit(batches, validation_data=(x_val, y_val), epochs=config.epochs,
                       callbacks=[best], verbose=verbose)
    train_seconds = time.perf_counter() - started

    probs = model.predict(data.x_test.astype(np.float32), batch_size=1024, verbose=0)
    history = {k: [float(v) for v in vals] for k, vals in fitted.history.items()}
    return TrainResult(
        model=model, history=history, best_epoch=int(best.best_epoch) + 1,
        epochs_run=len(history.get("loss", [])), split=split,
        test=score_probabilities(probs, data.y_test), train_seconds=train_seconds,
    )


def library_versions() -> dict[str, str]:
    """Versions that decide what a run produces, for the metrics file."""
    import tensorflow as tf  # noqa: PLC0415 - already loaded by Keras; only for its version

    return {
        "python": sys.version.split()[0], "tensorflow": tf.__version__,
        "keras": keras.__version__, "numpy": np.__version__, "opencv": cv2.__version__,
        "platform": platform.platform(), "machine": platform.machine(),
    }


def metrics_record(result: TrainResult, config: TrainConfig, data: MnistData,
                   wall_seconds: float) -> dict[str, Any]:
    """Everything train_metrics.json holds: test figures, the run, the config and provenance."""
    params = get_params(config.augment)
    best = result.best_epoch - 1
    return {
        "test_accuracy": result.test.accuracy,
        "test_loss": result.test.loss,
        "test_size": int(len(data.y_test)),
        "per_class_accuracy": result.test.per_class_accuracy,
        "confusion_matrix": result.test.confusion.tolist(),
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "best_val_accuracy": result.history["val_accuracy"][best],
        "best_val_loss": result.history["val_loss"][best],
        "history": result.history,
        "train_size": int(len(result.split.train)),
        "val_size": int(len(result.split.val)),
        "seed": config.seed,
        "config": config.to_dict(),
        "augment_params": params.to_dict() if params else None,
        "model_name": result.model.name,
        "model_params": int(result.model.count_params()),
        "train_seconds": round(result.train_seconds, 2),
        "wall_seconds": round(wall_seconds, 2),
        "data": {"source": data.source, "sha256": data.sha256},
        "versions": library_versions(),
    }
