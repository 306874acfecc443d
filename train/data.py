"""Load and validate MNIST in the layout of Keras' cache file, without importing TensorFlow.

The device-side benchmarks use this loader too, so nothing here may import TensorFlow at
module level; only the last-resort download goes through Keras.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitedge.errors import DigitEdgeError

ENV_VAR = "DIGITEDGE_MNIST"
_ZIP_MAGIC = b"PK\x03\x04"  # every .npz is a zip archive starting with a local file header
KEYS = ("x_train", "y_train", "x_test", "y_test")
# The small real-MNIST sample shipped with the package (first 3,000 training and first
# 1,000 test digits); tests and `bench --quick` use it when no full data set is at hand.
SAMPLE_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "mnist_sample.npz"


@dataclass(frozen=True)
class MnistData:
    """MNIST arrays plus where they came from, so every artifact can record its data."""

    x_train: np.ndarray  # uint8 (N, 28, 28), white digit on black, 0-255
    y_train: np.ndarray  # uint8 (N,), labels 0-9
    x_test: np.ndarray  # uint8 (M, 28, 28)
    y_test: np.ndarray  # uint8 (M,)
    source: str  # the file read, or "keras.datasets.mnist"
    sha256: str | None  # of the file read; None when Keras supplied the arrays


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file, read in chunks so large files do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_arrays(arrays: dict[str, np.ndarray], where: str) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise DigitEdgeError(
                f"{where}: x_{split} must be uint8 of shape (N, 28, 28), "
                f"got {x.dtype} {x.shape}"
            )
        if y.ndim != 1 or y.shape[0] != x.shape[0] or not np.issubdtype(y.dtype, np.integer):
            raise DigitEdgeError(
                f"{where}: y_{split} must be integer labels of shape ({x.shape[0]},), "
                f"got {y.dtype} {y.shape}"
            )
        if y.size == 0 or y.min() < 0 or y.max() > 9:
            raise DigitEdgeError(f"{where}: y_{split} labels must lie in 0-9")


def load_npz(path: str | os.PathLike[str]) -> MnistData:
    """Read an MNIST .npz (Keras cache layout), refusing pickles and malformed files.

    Raises:
        DigitEdgeError: the file is missing, not an npz, truncated, or not MNIST-shaped.
    """
    path = Path(path)
    if not path.is_file():
        raise DigitEdgeError(f"MNIST data file not found: {path}")
    try:
        # Check the zip signature first: for any other file numpy falls back to unpickling
        # and reports "pickled data", which misleads a user who passed a text or .npy file.
        with open(path, "rb") as fh:
            if fh.read(4) != _ZIP_MAGIC:
                raise DigitEdgeError(
                    f"{path} is not an npz (zip) file: pass an mnist.npz in Keras' layout "
                    f"with {', '.join(KEYS)}"
                )
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise DigitEdgeError(
                    f"{path} is not an MNIST npz: missing {', '.join(missing)} "
                    f"(expected keys {', '.join(KEYS)})"
                )
            arrays = {k: npz[k] for k in KEYS}
    except DigitEdgeError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, zlib.error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DigitEdgeError(
            f"{path} is not a readable MNIST npz file ({reason}); it may be truncated or "
            "corrupt: download it again"
        ) from None
    _check_arrays(arrays, str(path))
    return MnistData(
        x_train=arrays["x_train"], y_train=arrays["y_train"].astype(np.uint8),
        x_test=arrays["x_test"], y_test=arrays["y_test"].astype(np.uint8),
        source=str(path), sha256=file_sha256(path),
    )


def _load_from_keras() -> MnistData:
    try:
        import keras  # noqa: PLC0415 - last resort, workstation only
    except ImportError:
        raise DigitEdgeError(
            f"no MNIST data given: pass --data PATH (an mnist.npz) or set {ENV_VAR}"
        ) from None
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # noqa: BLE001 - any download failure means the same to a user
        raise DigitEdgeError(
            f"could not download MNIST through Keras ({type(exc).__name__}); "
            f"pass --data PATH or set {ENV_VAR}"
        ) from None
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    _check_arrays(arrays, "keras.datasets.mnist")
    return MnistData(x_train, y_train.astype(np.uint8), x_test, y_test.astype(np.uint8),
                     "keras.datasets.mnist", None)


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The MNIST file to read: the explicit path, else $DIGITEDGE_MNIST, else None."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


def load_mnist(path: str | os.PathLike[str] | None = None) -> MnistData:
    """Load MNIST from `path`, else $DIGITEDGE_MNIST, else Keras' own download/cache."""
    resolved = resolve_path(path)
    return load_npz(resolved) if resolved is not None else _load_from_keras()


def stratified_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` indices drawn evenly across the ten classes (seeded), for calibration sets."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in range(10)]
    base, extra = divmod(n, 10)
    picks = [idx[: base + (1 if c < extra else 0)] for c, idx in enumerate(per_class)]
    out = np.concatenate(picks)
    rng.shuffle(out)
    return out
