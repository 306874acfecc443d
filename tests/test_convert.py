"""`digitedge convert`: int8 round trip, manifest, accuracy gate, atomic writes, bad inputs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitedge.cli import main
from digitedge.convert import aeq, pipeline, sweep
from digitedge.convert.calibration import draw_calibration_set
from digitedge.convert.manifest import (
    REQUIRED_KEYS,
    train_metrics_beside,
    write_model_and_manifest,
)
from digitedge.convert.validate import compare
from digitedge.edge_runtime.manifest import BUNDLED_MODELS, DEFAULT_MODELS, load_manifest
from digitedge.edge_runtime.model import TFLiteModel
from digitedge.errors import DigitEdgeError
from digitedge.train.data import SAMPLE_PATH, MnistData, file_sha256

AGREEMENT_FLOOR = 0.95  # int8 vs float top-1 agreement on the sample's 1,000 test digits
FULL_MNIST_FLOOR = 0.985  # the bundled int8 model on the full 10,000 test digits


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, sample: MnistData) -> Path:
    """A small MLP in the project's input convention, trained briefly once per session."""
    pytest.importorskip("tensorflow")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Rescaling(1.0 / 255),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(sample.x_train.astype(np.float32), sample.y_train, epochs=3, batch_size=64,
              verbose=0)
    path = tmp_path_factory.mktemp("tiny") / "model.keras"
    model.save(path)
    return path


def _convert(model: Path, out: Path, *extra: str) -> int:
    return main(["convert", str(model), "--data", str(SAMPLE_PATH), "--out", str(out),
                 "--calib-samples", "100", *extra])


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines()
           if line.startswith("digitedge: error:")]
    assert len(err) == 1, f"expected one error line, got {err}"
    return err[0]


@pytest.fixture(scope="module")
def int8_pair(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("int8") / "digits.tflite"
    assert _convert(tiny_model, out) == 0
    return out


def test_int8_round_trip_agrees_with_float(int8_pair: Path, sample: MnistData) -> None:
    manifest = json.loads(int8_pair.with_suffix(".json").read_text())
    report = manifest["validation"]
    assert report["n_test"] == len(sample.y_test)
    assert report["agreement"] >= AGREEMENT_FLOOR, report
    assert report["converted_accuracy"] >= 0.85, report
    # Re-measure through the device wrapper, independently of the manifest's own figures.
    model = TFLiteModel(int8_pair)
    acc = float((model.predict(sample.x_test).argmax(1) == sample.y_test).mean())
    assert abs(acc - report["converted_accuracy"]) <= 0.002


def test_manifest_schema_and_hashes(int8_pair: Path, tiny_model: Path) -> None:
    manifest = load_manifest(int8_pair)
    assert manifest is not None
    assert [k for k in REQUIRED_KEYS if k not in manifest] == []
    data = int8_pair.read_bytes()
    assert manifest["model"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["model"]["size_bytes"] == len(data)
    assert manifest["model"]["file"] == int8_pair.name
    assert manifest["quantization"]["mode"] == "int8"
    assert manifest["quantizer"]["name"] == "tflite-converter"
    # uint8 input with scale 1 / zero point 0: raw pixels go in unchanged.
    assert manifest["input"] == {"dtype": "uint8", "shape": [1, 28, 28], "scale": 1.0,
                                 "zero_point": 0}
    assert manifest["output"]["dtype"] == "uint8"
    assert manifest["output"]["scale"] == pytest.approx(1 / 256)
    assert manifest["calibration"] == {"n": 100, "seed": 0, "split": "train", "stratified": True}
    assert manifest["source"]["keras_model"]["sha256"] == file_sha256(tiny_model)
    assert manifest["source"]["data"]["sha256"] == file_sha256(SAMPLE_PATH)
    assert set(manifest["validation"]["per_class"]) == {str(d) for d in range(10)}
    assert "tensorflow" in manifest["versions"]
    model = TFLiteModel(int8_pair)  # the runtime's own sha256 check passes
    assert model.input_dtype == np.uint8 and model.input_quantization == (1.0, 0)


def test_runtime_refuses_a_model_changed_after_conversion(int8_pair: Path,
                                                          tmp_path: Path) -> None:
    copy = tmp_path / int8_pair.name
    data = bytearray(int8_pair.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    copy.with_suffix(".json").write_text(int8_pair.with_suffix(".json").read_text())
    with pytest.raises(DigitEdgeError, match="does not match its manifest"):
        TFLiteModel(copy)


def test_float32_mode_matches_keras(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "f32.tflite"
    assert _convert(tiny_model, out, "--quant", "float32", "--max-drop", "0") == 0
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["input"]["dtype"] == "float32"
    assert manifest["calibration"] is None
    assert manifest["validation"]["agreement"] >= 0.999


def test_gate_negative_max_drop_writes_nothing(tiny_model: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.tflite"
    assert _convert(tiny_model, out, "--max-drop", "-1") == 1
    assert "nothing written" in _one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_gate_forced_drop_keeps_existing_files(tiny_model: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A real drop (one correct digit made wrong) with --max-drop 0 is refused atomically."""
    real_run = pipeline.run_tflite

    def one_worse(model_bytes, images):
        probs, inputs, outputs = real_run(model_bytes, images)
        sample_labels = np.load(SAMPLE_PATH)["y_test"]
        first_right = int(np.flatnonzero(probs.argmax(1) == sample_labels)[0])
        probs[first_right] = np.roll(probs[first_right], 1)
        return probs, inputs, outputs

    monkeypatch.setattr(pipeline, "run_tflite", one_worse)
    out = tmp_path / "m.tflite"
    out.write_bytes(b"old model")
    out.with_suffix(".json").write_text("old manifest")
    assert _convert(tiny_model, out, "--max-drop", "0") == 1
    assert "drop > --max-drop 0" in _one_line_error(capsys)
    assert out.read_bytes() == b"old model"
    assert out.with_suffix(".json").read_text() == "old manifest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.tflite"]


def _minimal_manifest(model_bytes: bytes) -> dict:
    """Every required key, and the sha256 of `model_bytes`: enough to pass check_manifest."""
    manifest: dict = {key: {} for key in REQUIRED_KEYS}
    manifest["model"] = {"sha256": hashlib.sha256(model_bytes).hexdigest()}
    return manifest


def _refuse_json_renames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the manifest's final rename fail as a full disk would."""
    real_replace = os.replace

    def refuse_json(src, dst):
        if str(dst).endswith(".json"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr("digitedge.atomic.os.replace", refuse_json)


def test_failed_manifest_rename_leaves_neither(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    model_bytes = b"not really a model"
    manifest = _minimal_manifest(model_bytes)
    _refuse_json_renames(monkeypatch)
    with pytest.raises(DigitEdgeError, match="disk full"):
        write_model_and_manifest(tmp_path / "m.tflite", model_bytes, manifest)
    assert list(tmp_path.iterdir()) == []


def test_failed_manifest_rename_puts_the_previous_model_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replacing a model whose manifest then cannot be written must not lose the old model."""
    old_model, old_manifest = b"old model", b'{"old": true}'
    (tmp_path / "m.tflite").write_bytes(old_model)
    (tmp_path / "m.json").write_bytes(old_manifest)
    model_bytes = b"new model"
    manifest = _minimal_manifest(model_bytes)
    _refuse_json_renames(monkeypatch)
    with pytest.raises(DigitEdgeError, match="disk full"):
        write_model_and_manifest(tmp_path / "m.tflite", model_bytes, manifest)
    assert (tmp_path / "m.tflite").read_bytes() == old_model
    assert (tmp_path / "m.json").read_bytes() == old_manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.tflite"]


@pytest.mark.parametrize("kind", ["text", "zip", "bad-config", "suffix"])
def test_non_keras_input_is_a_one_line_error(kind: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / ("model.txt" if kind == "suffix" else "model.keras")
    if kind in ("text", "suffix"):
        path.write_text("localhost\n")
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("config.json" if kind == "bad-config" else "other.txt", "{not json")
    if kind == "bad-config":
        pytest.importorskip("tensorflow")
    out = tmp_path / "out.tflite"
    assert _convert(path, out) == 1
    assert "model" in _one_line_error(capsys).lower()
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_without_tensorflow_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model.keras"
    with zipfile.ZipFile(model, "w") as zf:
        zf.writestr("config.json", "{}")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    assert _convert(model, tmp_path / "o.tflite") == 1
    assert "pip install 'digitedge[train]'" in _one_line_error(capsys)


@pytest.mark.skipif(aeq.version() is not None, reason="an AI Edge Quantizer is installed")
def test_ai_edge_quantizer_missing_is_a_one_line_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model.keras"
    model.write_text("never read: the missing package is reported first")
    assert _convert(model, tmp_path / "o.tflite", "--quantizer", "ai-edge") == 1
    assert "pip install litert-quantizer" in _one_line_error(capsys)


@pytest.mark.skipif(aeq.version() is None, reason="no AI Edge Quantizer installed")
def test_ai_edge_quantizer_round_trip(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "aeq.tflite"
    # AEQ averages activation ranges over the calibration digits, so allow a looser gate here.
    assert _convert(tiny_model, out, "--quantizer", "ai-edge", "--max-drop", "5") == 0
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["quantizer"]["recipe"] == "static_wi8_ai8"
    assert manifest["quantizer"]["name"] == aeq.version()[0]
    assert manifest["input"]["dtype"] == "int8" and manifest["output"]["dtype"] == "int8"
    assert manifest["validation"]["agreement"] >= AGREEMENT_FLOOR


def test_sweep_writes_a_table(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep.md"
    assert sweep.main(["--model", str(tiny_model), "--data", str(SAMPLE_PATH), "--samples",
                       "10", "20", "--seeds", "0", "--quantizers", "converter",
                       "--out", str(out)]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| converter |")]
    assert [row.split(" | ")[1] for row in rows] == ["10", "20"]
    assert "| float32 | " in out.read_text()


def test_calibration_set_is_stratified_seeded_and_from_training(sample: MnistData) -> None:
    a = draw_calibration_set(sample, 50, seed=3)
    b = draw_calibration_set(sample, 50, seed=3)
    c = draw_calibration_set(sample, 50, seed=4)
    assert a.split == "train" and a.n == 50
    assert np.array_equal(a.indices, b.indices) and not np.array_equal(a.indices, c.indices)
    assert np.array_equal(a.images, sample.x_train[a.indices])
    assert np.bincount(sample.y_train[a.indices], minlength=10).tolist() == [5] * 10
    with pytest.raises(DigitEdgeError, match="--calib-samples"):
        draw_calibration_set(sample, 0, seed=0)


def test_compare_counts_flips_and_per_class() -> None:
    labels = np.array([0, 1, 2, 3])
    eye = np.eye(10, dtype=np.float32)
    float_probs = eye[[0, 1, 2, 4]]  # 3 of 4 right
    conv_probs = eye[[0, 7, 2, 3]]  # breaks digit 1, fixes digit 3
    r = compare(labels, float_probs, conv_probs)
    assert (r.float_correct, r.converted_correct, r.flipped, r.broken, r.fixed) == (3, 3, 2, 1, 1)
    assert r.agreement == 0.5 and r.drop_pp == 0.0
    assert r.per_class["1"] == {"count": 1, "float": 1.0, "converted": 0.0}


def test_train_metrics_beside_the_model_are_recorded(tmp_path: Path) -> None:
    model = tmp_path / "model.keras"
    assert train_metrics_beside(model) is None
    metrics = {"test_accuracy": 0.98, "config": {"arch": "mlp", "hidden": [128]}}
    (tmp_path / "train_metrics.json").write_text(json.dumps(metrics))
    got = train_metrics_beside(model)
    assert got is not None
    assert (got["arch"], got["config"], got["keras_test_accuracy"]) == (
        "mlp", metrics["config"], 0.98)
    assert got["sha256"] == file_sha256(tmp_path / "train_metrics.json")


def test_bundled_models_have_matching_manifests() -> None:
    sizes = {}
    for name, path in BUNDLED_MODELS.items():
        manifest = load_manifest(path)
        assert manifest is not None, f"{path.name} has no manifest"
        assert manifest["model"]["sha256"] == file_sha256(path), f"{path.name} is stale"
        assert manifest["quantization"]["mode"] == name.split("-")[-1]
        sizes[name] = path.stat().st_size
    assert sizes["int8"] <= 0.27 * sizes["float32"], sizes
    assert sizes["mlp-int8"] <= 0.27 * sizes["mlp-float32"], sizes


def test_bundled_int8_on_full_mnist_without_tensorflow(full_mnist_path: Path) -> None:
    """The device path: no TensorFlow importable, full test set, figures match the manifest."""
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
        "from digitedge.edge_runtime.model import TFLiteModel\n"
        "from digitedge.train.data import load_npz\n"
        f"d = load_npz({str(full_mnist_path)!r})\n"
        "m = TFLiteModel()\n"
        "print((m.predict(d.x_test).argmax(1) == d.y_test).mean(), d.sha256)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    acc_text, data_sha = proc.stdout.split()
    acc = float(acc_text)
    assert acc >= FULL_MNIST_FLOOR
    manifest = load_manifest(DEFAULT_MODELS["int8"])
    assert manifest is not None
    assert manifest["source"]["data"]["sha256"] == data_sha
    assert abs(manifest["validation"]["converted_accuracy"] - acc) <= 0.001
