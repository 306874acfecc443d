"""Shared fixtures: isolate the environment and give every test the committed MNIST sample."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from digitedge.train.data import ENV_VAR, SAMPLE_PATH, MnistData, load_npz

# Read once at import, before the autouse fixture clears it: CI points this at the full MNIST.
_FULL_MNIST = os.environ.get(ENV_VAR)


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test may read the user's MNIST path or write into the user's home.

    `cli.main` points the root logger at the current stderr, which pytest closes after the
    test; the root handlers are put back so later background threads do not log into it.
    """
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """The committed real-MNIST sample (3,000 train and 1,000 test digits)."""
    return SAMPLE_PATH


@pytest.fixture(scope="session")
def sample() -> MnistData:
    """The committed sample, loaded once."""
    return load_npz(SAMPLE_PATH)


@pytest.fixture(scope="session")
def full_mnist_path() -> Path:
    """The full MNIST file when $DIGITEDGE_MNIST names one (CI does); else the test skips."""
    if not _FULL_MNIST or not Path(_FULL_MNIST).is_file():
        pytest.skip(f"{ENV_VAR} does not name the full MNIST file")
    return Path(_FULL_MNIST)


@pytest.fixture()
def rng() -> np.random.Generator:
    """A fixed-seed generator so tests are repeatable."""
    return np.random.default_rng(1234)
