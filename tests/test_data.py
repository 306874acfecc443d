"""The MNIST loader: good files load, bad ones fail with one line, paths resolve in order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitedge.errors import DigitEdgeError
from digitedge.train.data import (
    ENV_VAR,
    KEYS,
    MnistData,
    file_sha256,
    load_mnist,
    load_npz,
    resolve_path,
    stratified_indices,
)


def _arrays(sample: MnistData) -> dict[str, np.ndarray]:
    return {k: getattr(sample, k) for k in KEYS}


def _write(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def _assert_one_line(exc: pytest.ExceptionInfo[DigitEdgeError], *needles: str) -> None:
    message = str(exc.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, message


def test_sample_loads_with_shapes_dtypes_and_hash(sample_path: Path) -> None:
    data = load_npz(sample_path)
    assert data.x_train.shape == (3000, 28, 28) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (1000, 28, 28) and data.x_test.dtype == np.uint8
    assert data.y_train.dtype == np.uint8 and data.y_test.shape == (1000,)
    assert set(np.unique(data.y_train)) == set(range(10))
    assert data.sha256 == file_sha256(sample_path)
    assert data.source == str(sample_path)
    # First test labels of real MNIST (documented in shared/README.md).
    assert data.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_integer_labels_of_any_width_are_accepted(sample: MnistData, tmp_path: Path) -> None:
    arrays = _arrays(sample)
    arrays["y_train"] = arrays["y_train"].astype(np.int64)
    data = load_npz(_write(tmp_path / "int64.npz", **arrays))
    assert data.y_train.dtype == np.uint8
    np.testing.assert_array_equal(data.y_train, sample.y_train)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(tmp_path / "nope.npz")
    _assert_one_line(exc, "not found", "nope.npz")


def test_text_file_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "hostname"
    junk.write_text("raspberrypi\n")
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(junk)
    _assert_one_line(exc, "is not an npz (zip) file", str(junk))
    assert "pickle" not in str(exc.value)  # numpy's own message would blame pickling


def test_npy_file_is_refused(sample: MnistData, tmp_path: Path) -> None:
    npy = tmp_path / "x.npy"
    np.save(npy, sample.x_train)
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(npy)
    _assert_one_line(exc, "is not an npz (zip) file")


def test_corrupt_compressed_member_is_refused(sample: MnistData, tmp_path: Path) -> None:
    path = tmp_path / "corrupt.npz"
    np.savez_compressed(path, **_arrays(sample))
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 3
    raw[middle:middle + 2000] = bytes(2000)  # zeroed block inside the deflate stream
    path.write_bytes(bytes(raw))
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(path)
    _assert_one_line(exc, "not a readable MNIST npz", "corrupt")


@pytest.mark.skipif(not Path("/etc/hostname").is_file(), reason="no /etc/hostname here")
def test_etc_hostname_is_refused() -> None:
    with pytest.raises(DigitEdgeError) as exc:
        load_npz("/etc/hostname")
    _assert_one_line(exc, "/etc/hostname", "is not an npz (zip) file")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.95])
def test_truncated_npz_is_refused(sample_path: Path, tmp_path: Path, fraction: float) -> None:
    raw = sample_path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(raw[: int(len(raw) * fraction)])
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(cut)
    _assert_one_line(exc, str(cut))


def test_missing_keys_are_named(sample: MnistData, tmp_path: Path) -> None:
    arrays = _arrays(sample)
    del arrays["y_test"]
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(_write(tmp_path / "partial.npz", **arrays))
    _assert_one_line(exc, "missing y_test")


@pytest.mark.parametrize(
    ("key", "make", "needle"),
    [
        ("x_train", lambda a: a[:, :, :27], "x_train must be uint8 of shape (N, 28, 28)"),
        ("x_test", lambda a: a.astype(np.float32), "x_test must be uint8"),
        ("x_train", lambda a: a.reshape(len(a), -1), "x_train must be uint8"),
        ("y_train", lambda a: a[:-1], "y_train must be integer labels"),
        ("y_test", lambda a: a.astype(np.float32), "y_test must be integer labels"),
        ("y_train", lambda a: np.where(a == 3, 10, a), "labels must lie in 0-9"),
        ("y_test", lambda a: a.astype(np.int16) - 1, "labels must lie in 0-9"),
    ],
)
def test_wrong_shapes_dtypes_and_labels(sample: MnistData, tmp_path: Path, key: str,
                                        make, needle: str) -> None:
    arrays = _arrays(sample)
    arrays[key] = make(arrays[key])
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(_write(tmp_path / "bad.npz", **arrays))
    _assert_one_line(exc, needle)


def test_empty_split_is_refused(tmp_path: Path) -> None:
    empty_x, empty_y = np.zeros((0, 28, 28), np.uint8), np.zeros((0,), np.uint8)
    path = _write(tmp_path / "empty.npz", x_train=empty_x, y_train=empty_y,
                  x_test=empty_x, y_test=empty_y)
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(path)
    _assert_one_line(exc, "labels must lie in 0-9")


def test_pickled_object_arrays_are_refused(sample: MnistData, tmp_path: Path) -> None:
    arrays = _arrays(sample)
    # An object array is stored as a pickle; loading it could run arbitrary code.
    arrays["y_train"] = np.array([{"label": int(v)} for v in arrays["y_train"]], dtype=object)
    with pytest.raises(DigitEdgeError) as exc:
        load_npz(_write(tmp_path / "pickled.npz", **arrays))
    _assert_one_line(exc, "not a readable MNIST npz")


def test_resolve_path_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_path(None) is None
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from_env.npz"))
    assert resolve_path(None) == tmp_path / "from_env.npz"
    assert resolve_path(tmp_path / "explicit.npz") == tmp_path / "explicit.npz"
    monkeypatch.setenv(ENV_VAR, "")
    assert resolve_path(None) is None


def test_load_mnist_reads_env_var(monkeypatch: pytest.MonkeyPatch, sample_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(sample_path))
    assert load_mnist().sha256 == file_sha256(sample_path)


def test_explicit_path_beats_env_var(monkeypatch: pytest.MonkeyPatch, sample_path: Path,
                                     tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an npz")
    monkeypatch.setenv(ENV_VAR, str(junk))
    assert load_mnist(sample_path).source == str(sample_path)
    with pytest.raises(DigitEdgeError) as exc:
        load_mnist()
    _assert_one_line(exc, str(junk))


def test_no_path_and_no_keras_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keras", None)  # as on a base install: import fails
    with pytest.raises(DigitEdgeError) as exc:
        load_mnist()
    _assert_one_line(exc, "--data", ENV_VAR)


def test_stratified_indices_are_balanced_and_seeded(sample: MnistData) -> None:
    picks = stratified_indices(sample.y_train, 105, seed=7)
    assert len(picks) == len(set(picks.tolist())) == 105
    counts = np.bincount(sample.y_train[picks], minlength=10)
    assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(picks, stratified_indices(sample.y_train, 105, seed=7))
    assert not np.array_equal(picks, stratified_indices(sample.y_train, 105, seed=8))


def test_loader_does_not_import_tensorflow() -> None:
    code = ("import sys, digitedge.train.data as d; d.load_npz(d.SAMPLE_PATH); "
            "sys.exit(int(any(m in sys.modules for m in ('tensorflow', 'keras'))))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
