"""The one typed configuration of a training run; train_metrics.json records it verbatim."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from digitedge.errors import DigitEdgeError
from digitedge.train.augment import PRESETS

ARCHS = ("mlp", "cnn", "cnn-deep")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run produces (with the data file and seed)."""

    arch: str = "mlp"  # "mlp": the classic ANN; "cnn": a small conv net; "cnn-deep": 2 convs/block
    hidden: tuple[int, ...] = (512,)  # MLP hidden layer widths, input to output (CNNs ignore it)
    dropout: float = 0.2  # dropout after each hidden dense layer (mlp and cnn); 0 turns it off
    epochs: int = 40  # passes over the training split; the best epoch's weights are kept
    batch_size: int = 256  # digits per gradient step (larger: fewer, cheaper steps per epoch)
    learning_rate: float = 2e-3  # Adam's initial rate, cosine-decayed to 1% by the last epoch
    augment: str = "shift-rotate"  # preset name from train/augment.py PRESETS
    outliers: float = 0.0  # non-digit crops added to each batch, as a fraction of the batch
    validation_size: int = 5000  # digits held out of the training set to pick the best epoch
    seed: int = 0  # fixes the split, initial weights, shuffling and augmentation

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise DigitEdgeError(
                f"unknown architecture {self.arch!r}: choose one of {', '.join(ARCHS)}"
            )
        if self.augment not in PRESETS:
            raise DigitEdgeError(
                f"unknown augmentation {self.augment!r}: choose one of {', '.join(PRESETS)}"
            )
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise DigitEdgeError("--hidden needs one or more positive layer widths, e.g. 512")
        if self.epochs < 1 or self.batch_size < 1 or self.validation_size < 1:
            raise DigitEdgeError("--epochs, --batch-size and --val-size must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise DigitEdgeError(f"--dropout must lie in [0, 1), got {self.dropout}")
        if not 0.0 <= self.outliers <= 1.0:
            raise DigitEdgeError(f"--outliers must lie in [0, 1], got {self.outliers}")
        if not self.learning_rate > 0:
            raise DigitEdgeError(f"--learning-rate must be positive, got {self.learning_rate}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the hidden tuple becomes a list)."""
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out


# Per-architecture defaults that differ from the dataclass's (the CLI applies them when the
# user leaves a flag out). The CNN learns faster per epoch but each epoch costs ~10x more.
ARCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {},
    "cnn": {"epochs": 15, "dropout": 0.3},
}
ARCH_DEFAULTS["cnn-deep"] = ARCH_DEFAULTS["cnn"]  # the same recipe, one conv more a block

