"""`digitedge bench` end to end on the committed sample, tiny settings (seconds, not minutes)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from digitedge.benchmarks import report
from digitedge.cli import main
from digitedge.edge_runtime.manifest import DEFAULT_MODELS
from digitedge.train.data import ENV_VAR

TINY = ["--quick", "--runs", "20", "--warmup", "2", "--load-repeats", "1"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    """One real in-process run shared by the schema tests: 2 scenes, 2 end-to-end frames."""
    out = tmp_path_factory.mktemp("bench") / "run"
    stderr = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(stderr):
        mp.delenv(ENV_VAR, raising=False)  # the committed sample, whatever CI points at
        mp.setenv("MPLBACKEND", "Agg")
        rc = main(["bench", *TINY, "--scenes", "2", "--frames", "2", "--threads", "1", "2",
                   "--out", str(out)])
    assert rc == 0, stderr.getvalue()
    return out, json.loads((out / "benchmark.json").read_text()), stderr.getvalue()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != ENV_VAR}


def test_tiny_run_writes_a_complete_benchmark_json(tiny_run: tuple[Path, dict, str]) -> None:
    out, doc, _ = tiny_run
    assert doc["schema_version"] == report.SCHEMA_VERSION and doc["kind"] == report.KIND
    assert doc["data"]["n_test"] == 1000 and doc["data"]["sample"] is True
    assert doc["settings"]["runs"] == 20 and doc["settings"]["threads"] == [1, 2]
    assert [m["name"] for m in doc["models"]] == ["int8", "float32"]
    assert [m["quantization"] for m in doc["models"]] == ["int8", "float32"]
    assert doc["reference"] == "float32"
    env = doc["environment"]
    for key in ("hostname", "time_utc", "cpu_model", "cpu_count", "architecture", "os",
                "python", "backend", "backend_version", "numpy", "opencv", "threads"):
        assert key in env, key
    for m in doc["models"]:
        lat = m["latency"]
        assert set(lat["single_image_ms"]) == {"1", "2"}
        s = lat["single_image_ms"]["1"]
        assert s["n"] == 20 and s["min"] <= s["p50"] <= s["p90"] <= s["p99"] <= s["max"]
        assert set(lat["throughput_images_per_s"]) == {"1", "32", "256"}
        assert all(v > 0 for v in lat["throughput_images_per_s"].values())
        assert lat["predict_overhead_ms"] is not None
        assert m["memory"]["peak_rss_mb"] > m["memory"]["baseline_rss_mb"] > 0
        acc = m["accuracy"]
        assert acc["n"] == 1000 and len(acc["per_class"]) == 10
        assert sum(map(sum, acc["confusion"])) == 1000
        assert acc["correct"] == sum(acc["confusion"][c][c] for c in range(10))
        assert m["scenes"]["n"] == 2 and "exact_match" in m["scenes"]
        e2e = m["e2e"]
        assert (e2e["width"], e2e["height"], e2e["frames"]) == (640, 480, 2)
        assert e2e["digits_per_frame"] == 4
        assert {"decode", "preprocess", "inference", "total", "frame"} <= set(e2e["stages_ms"])
    int8 = doc["models"][0]["accuracy"]
    assert int8["agreement"] is not None and int8["reference"] == "float32"
    c = doc["int8_vs_float"]
    assert c["int8"] == "int8" and c["float"] == "float32" and 0 < c["size_ratio"] < 1
    assert isinstance(c["int8_slower"], bool)


def test_tiny_run_writes_markdown_plots_and_progress(tiny_run: tuple[Path, dict, str]) -> None:
    out, doc, stderr = tiny_run
    md = (out / "benchmark.md").read_text(encoding="utf-8")
    assert "| model | size KiB | load ms |" in md
    assert "| int8 (tflite) |" in md and "| float32 (tflite) |" in md
    assert "1,000-digit sample" in md
    assert doc["plots"] and all((out / p).is_file() for p in doc["plots"])
    assert "bench: " in stderr and "done in" in stderr
    assert not list(out.glob(".*")), "a temporary file was left behind"


def test_bench_needs_no_tensorflow(tmp_path: Path) -> None:
    """The device path: imports of tensorflow and keras fail, the bench still runs."""
    # The blocker records every attempt, so a fallback that swallows ImportError still fails.
    code = ("import sys\n"
            "class Block:\n"
            "    tried = []\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'):\n"
            "            Block.tried.append(name)\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from digitedge.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "assert not Block.tried, f'tried to import {Block.tried}'\n"
            "sys.exit(rc)")
    proc = subprocess.run(
        [sys.executable, "-c", code, "bench", *TINY, "--scenes", "0", "--frames", "0",
         "--no-memory", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=300, check=False, env=_clean_env())
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "benchmark.json").is_file()


@pytest.mark.parametrize("argv, message", [
    (["--models", "nope.tflite"], "model not found"),
    (["--runs", "0"], "--runs must be positive"),
    (["--threads", "0"], "--threads must be positive"),
])
def test_bad_flags_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture,
                                       argv: list[str], message: str) -> None:
    assert main(["bench", *argv, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_an_out_path_that_is_a_file_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert main(["bench", *TINY, "--out", str(taken)]) == 1
    assert "cannot create output folder" in capsys.readouterr().err


def test_a_non_model_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert main(["bench", "--models", str(bad), str(DEFAULT_MODELS["int8"])]) == 1
    assert ".tflite files" in capsys.readouterr().err


def test_without_matplotlib_json_and_markdown_are_still_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from digitedge.benchmarks import plots

    monkeypatch.setattr(plots, "matplotlib_missing", lambda: "matplotlib is not installed")
    out = tmp_path / "o"
    assert main(["bench", *TINY, "--scenes", "0", "--frames", "0", "--no-memory",
                 "--threads", "1", "--out", str(out)]) == 0
    doc = json.loads((out / "benchmark.json").read_text())
    assert doc["plots"] == [] and doc["plots_skipped"] == "matplotlib is not installed"
    assert "Plots skipped: matplotlib is not installed." in (out / "benchmark.md").read_text()
    assert not list(out.glob("*.png"))
    assert "plots skipped" in capsys.readouterr().err
    assert doc["scenes_skipped"] == "--scenes 0" and doc["e2e_skipped"] == "--frames 0"


def test_default_out_dir_is_named_by_machine_and_time() -> None:
    import re
    import socket

    from digitedge.benchmarks.cli import default_out_dir

    name = default_out_dir().name
    assert name.startswith(f"bench-{socket.gethostname()}-")
    assert re.fullmatch(r"\d{8}-\d{6}", name.rsplit("-", 2)[-2] + "-" + name.rsplit("-", 1)[-1])


@pytest.mark.slow
def test_a_keras_model_joins_as_the_reference_row(tmp_path: Path) -> None:
    """With TensorFlow installed, a .keras file is the float reference (own process, so
    TensorFlow never lands in this test session's sys.modules)."""
    import importlib.util

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed")
    code = (
        "import sys, keras\n"
        "m = keras.Sequential([keras.Input((28, 28)), keras.layers.Rescaling(1 / 255),\n"
        "    keras.layers.Flatten(), keras.layers.Dense(10, activation='softmax')])\n"
        "m.save(sys.argv[1])\n"
        "from digitedge.cli import main\n"
        "sys.exit(main(sys.argv[2:]))\n")
    keras_path = tmp_path / "tiny.keras"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(keras_path), "bench", *TINY, "--scenes", "0",
         "--frames", "0", "--no-memory", "--threads", "1", "--models",
         str(DEFAULT_MODELS["int8"]), str(DEFAULT_MODELS["float32"]), str(keras_path),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=300, check=False, env=_clean_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "o" / "benchmark.json").read_text())
    assert [m["kind"] for m in doc["models"]] == ["tflite", "tflite", "keras"]
    assert doc["reference"] == "tiny"
    keras_row = doc["models"][2]
    assert keras_row["accuracy"]["agreement"] is None  # the reference itself
    assert set(keras_row["latency"]["single_image_ms"]) == {"default"}
    assert doc["models"][0]["accuracy"]["reference"] == "tiny"
    assert "| tiny (keras) |" in (tmp_path / "o" / "benchmark.md").read_text()


def test_int8_is_compared_with_its_own_float_model() -> None:
    """With two architectures in one run, agreement pairs models converted from one .keras."""
    from digitedge.benchmarks.suite import _float_sibling

    def entry(name: str, quant: str, sha: str | None) -> dict:
        return {"name": name, "quantization": quant,
                "manifest": {"keras_model": {"sha256": sha}} if sha else None}

    cnn8, cnn32 = entry("cnn8", "int8", "a"), entry("cnn32", "float32", "a")
    mlp8, mlp32 = entry("mlp8", "int8", "b"), entry("mlp32", "float32", "b")
    bare = entry("bare", "int8", None)
    models = [cnn8, cnn32, mlp8, mlp32, bare]
    assert _float_sibling(mlp8, models) is mlp32
    assert _float_sibling(cnn8, models) is cnn32
    assert _float_sibling(cnn32, models) is None  # a float model is its own reference
    assert _float_sibling(bare, models) is None  # no manifest: falls back to the run's float
