"""`digitedge report` and the Markdown of one run, on benchmark documents with known figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitedge.benchmarks import compare, report, suite
from digitedge.cli import main


def _model(name: str, quant: str, p50_ms: float, size: int, acc: float,
           thr256: float) -> dict[str, Any]:
    single = {"n": 100, "min": p50_ms, "p50": p50_ms, "p90": p50_ms, "p95": p50_ms,
              "p99": 2 * p50_ms, "max": 3 * p50_ms, "mean": p50_ms, "std": 0.0}
    per_class = [acc] * 10
    return {
        "name": name, "kind": "tflite", "quantization": quant, "size_bytes": size,
        "latency": {"load_ms": {**single, "p50": 1.0}, "single_image_ms": {"1": single,
                                                                            "4": single},
                    "throughput_images_per_s": {"1": 1000.0, "32": 2000.0, "256": thr256},
                    "throughput_threads": 4, "predict_1_image_ms": single,
                    "predict_overhead_ms": 0.01},
        "memory": {"peak_rss_mb": 50.0, "model_rss_mb": 5.0},
        "accuracy": {"n": 1000, "accuracy": acc, "per_class": per_class,
                     "confusion": np.diag([100] * 10).tolist(), "reference": "float32",
                     "agreement": 0.99 if quant == "int8" else None,
                     "flipped": {"count": 10, "fixed": 4, "broken": 6, "both_wrong": 0,
                                 "listed": []} if quant == "int8" else None},
    }


def _doc(host: str, int8_p50: float, float_p50: float, int8_size: int = 400_000) -> dict:
    models = [_model("int8", "int8", int8_p50, int8_size, 0.97, 40_000.0),
              _model("float32", "float32", float_p50, 1_600_000, 0.98, 20_000.0)]
    preds = {"int8": np.array([1, 2, 3, 4]), "float32": np.array([1, 2, 3, 5])}
    return {
        "schema_version": report.SCHEMA_VERSION, "kind": report.KIND, "quick": False,
        "settings": {"threads": [1, 4], "warmup": 10, "seed": 0, "scenes": 0},
        "environment": {"hostname": host, "time_utc": "2026-01-01T00:00:00+00:00",
                        "cores_available": 4, "cpu_count": 4},
        "data": {"source": "x.npz", "n_test": 1000, "sha256": "ab" * 32},
        "reference": "float32", "models": models, "warnings": [],
        "scenes_skipped": "--scenes 0", "e2e_skipped": "--frames 0",
        "int8_vs_float": suite.int8_vs_float(models, preds, "4"),
        "plots": [], "plots_skipped": "test", "elapsed_s": 1.0,
    }


def _write(tmp_path: Path, name: str, doc: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_report_puts_runs_side_by_side_with_ratios(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    a = _write(tmp_path, "a.json", _doc("pi5", int8_p50=0.010, float_p50=0.020))
    b = _write(tmp_path, "b.json", _doc("pi4", int8_p50=0.025, float_p50=0.030,
                                        int8_size=200_000))
    out = tmp_path / "compare.md"
    assert main(["report", str(a), str(b), "--out", str(out)]) == 0
    md = out.read_text(encoding="utf-8")
    runs = compare.load_runs([a, b])
    rows = {r["metric"].key: r for r in compare.metric_rows(runs, "int8")}
    assert rows["p50_1t_us"]["values"] == pytest.approx([10.0, 25.0])
    assert rows["p50_1t_us"]["ratios"] == pytest.approx([1.0, 2.5])
    assert rows["size_kb"]["ratios"] == pytest.approx([1.0, 0.5])
    assert rows["accuracy"]["ratios"] == pytest.approx([1.0, 1.0])
    # What a reader sees: the int8 p50 row of the second run carries its ratio.
    assert "| p50 1 thr µs (lower better) | 10.0 | 25.0 (×2.50) |" in md
    assert "## int8" in md and "## float32" in md and "pi5 2026-01-01T00:00" in md
    assert "| pi5 2026-01-01T00:00 | -1.00 | 75.00 | 0.500 |" in md


def test_report_without_out_prints_markdown(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    a = _write(tmp_path, "a.json", _doc("one", 0.01, 0.02))
    assert main(["report", str(a)]) == 0
    assert "# digitedge benchmark comparison" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ('{"a": 1}', "is not a digitedge benchmark.json"),
    ("[1, 2]", "is not a digitedge benchmark.json"),
    ("not json", "is not readable JSON"),
    ('{"kind": "digitedge-benchmark", "schema_version": 99, "models": []}',
     "schema_version 99"),
])
def test_report_refuses_a_file_that_is_not_a_benchmark(
        tmp_path: Path, capsys: pytest.CaptureFixture, content: str, message: str) -> None:
    good = _write(tmp_path, "good.json", _doc("one", 0.01, 0.02))
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    out = tmp_path / "compare.md"
    assert main(["report", str(good), str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert message in err and str(bad) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_missing_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", str(tmp_path / "nope.json")]) == 1
    assert "benchmark file not found" in capsys.readouterr().err


def test_int8_slower_than_float_is_flagged() -> None:
    doc = _doc("slowbox", int8_p50=0.030, float_p50=0.020)
    c = doc["int8_vs_float"]
    assert c["int8_slower"] and c["p50_ratio_1t"] == pytest.approx(1.5)
    assert "single-image p50 at 1 thread" in c["slower_on"]
    assert c["agreement"] == pytest.approx(0.75) and c["flipped"] == 1
    assert c["accuracy_diff_pp"] == pytest.approx(-1.0)
    assert "int8 is slower than float32 on this machine" in report.render(doc)
    fast = _doc("fastbox", int8_p50=0.010, float_p50=0.020)["int8_vs_float"]
    assert not fast["int8_slower"] and fast["slower_on"] == []


def test_render_has_the_summary_table_row_per_model() -> None:
    md = report.render(_doc("box", 0.01, 0.02))
    header = next(line for line in md.splitlines() if line.startswith("| model | size KiB"))
    assert "p50 4 thr µs" in header
    int8_row = next(line for line in md.splitlines() if line.startswith("| int8 (tflite)"))
    assert "| 390.6 |" in int8_row and "| 10.0 |" in int8_row and "| 97.00 |" in int8_row
    assert "Plots skipped: test." in md
