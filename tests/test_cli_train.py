"""`digitedge train` in-process: artifacts and their keys, one-line errors that write nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from digitedge.cli import main
from digitedge.train.data import ENV_VAR, file_sha256

REQUIRED_KEYS = {
    "test_accuracy", "test_loss", "per_class_accuracy", "confusion_matrix", "epochs_run",
    "best_epoch", "seed", "config", "wall_seconds", "train_seconds", "versions", "data",
    "history", "train_size", "val_size",
}
ARTIFACTS = ("model.keras", "train_metrics.json", "training_curves.png", "confusion_matrix.png")
QUICK = ["--epochs", "1", "--hidden", "64", "--augment", "none", "--quiet"]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    # TensorFlow is never imported on these paths, so its start-up logs cannot be in stderr.
    assert len(err) == 1, err
    assert err[0].startswith("digitedge: error: ")
    return err[0]


@pytest.mark.slow
def test_train_writes_all_artifacts(sample_path: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tensorflow", reason="needs the [train] extra")
    junk = tmp_path / "junk.npz"
    junk.write_text("not mnist")
    monkeypatch.setenv(ENV_VAR, str(junk))  # --data must win over the environment
    out = tmp_path / "m"
    code = main(["train", "--data", str(sample_path), "--out", str(out), *QUICK,
                 "--seed", "3", "--batch-size", "64"])
    assert code == 0
    for name in ARTIFACTS:
        assert (out / name).stat().st_size > 1000, name
    assert sorted(p.name for p in out.iterdir()) == sorted(ARTIFACTS)  # no temp files left
    with open(out / "train_metrics.json", encoding="utf-8") as fh:
        record = json.load(fh)
    assert set(record) >= REQUIRED_KEYS
    assert 0.5 <= record["test_accuracy"] <= 1.0
    assert len(record["per_class_accuracy"]) == 10
    assert sum(map(sum, record["confusion_matrix"])) == 1000
    assert record["epochs_run"] == 1 and record["best_epoch"] == 1 and record["seed"] == 3
    assert record["config"]["hidden"] == [64] and record["config"]["batch_size"] == 64
    assert record["config"]["augment"] == "none"
    assert record["data"]["sha256"] == file_sha256(sample_path)
    assert {"tensorflow", "keras", "numpy", "python"} <= set(record["versions"])
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("digitedge train: mlp_64 test accuracy ")

    import keras  # noqa: PLC0415 - after the CLI has loaded it

    model = keras.saving.load_model(out / "model.keras")
    assert tuple(model.input_shape) == (None, 28, 28)


def _bad_inputs(tmp_path: Path, sample_path: Path) -> dict[str, Path]:
    hostname = Path("/etc/hostname")
    if not hostname.is_file():
        hostname = tmp_path / "hostname"
        hostname.write_text("raspberrypi\n")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(sample_path.read_bytes()[:50_000])
    return {"hostname": hostname, "truncated": truncated, "missing": tmp_path / "none.npz"}


@pytest.mark.parametrize("kind", ["hostname", "truncated", "missing"])
def test_bad_data_is_one_line_and_writes_nothing(kind: str, sample_path: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = _bad_inputs(tmp_path, sample_path)[kind]
    out = tmp_path / "out"
    assert main(["train", "--data", str(bad), "--out", str(out), *QUICK]) == 1
    assert str(bad) in _one_line_error(capsys)
    assert not out.exists()


def test_env_var_names_the_data_when_no_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "env.npz"
    junk.write_bytes(b"\x00" * 100)
    monkeypatch.setenv(ENV_VAR, str(junk))
    assert main(["train", "--out", str(tmp_path / "out"), *QUICK]) == 1
    assert str(junk) in _one_line_error(capsys)


def test_without_tensorflow_says_how_to_install(sample_path: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as on a base install
    assert main(["train", "--data", str(sample_path), "--out", str(tmp_path / "o"),
                 *QUICK]) == 1
    assert "pip install 'digitedge[train]'" in _one_line_error(capsys)
    assert not (tmp_path / "o").exists()


def test_out_must_be_a_folder(sample_path: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    assert main(["train", "--data", str(sample_path), "--out", str(afile), *QUICK]) == 1
    assert "not a folder" in _one_line_error(capsys)


@pytest.mark.parametrize("flags", [["--hidden", "12,x"], ["--hidden", "0"], ["--arch", "rnn"],
                                   ["--augment", "tilt"]])
def test_bad_flags_are_usage_errors(flags: list[str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(tmp_path / "o"), *flags])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_bad_values_are_one_line_errors(sample_path: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", str(sample_path), "--out", str(tmp_path / "o"),
                 "--epochs", "0"]) == 1
    assert "--epochs" in _one_line_error(capsys)
