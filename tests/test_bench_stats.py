"""Pure benchmark maths on data whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from digitedge.benchmarks import accuracy, envinfo, stats
from digitedge.benchmarks.latency import batch_of, runs_for_batch, time_calls


def test_percentiles_of_1_to_100_interpolate_linearly() -> None:
    # numpy's linear rule on 1..100: the q-th percentile is 1 + 0.99 q.
    p = stats.percentiles(np.arange(1, 101), (0, 50, 90, 99, 100))
    assert p == pytest.approx({"p0": 1.0, "p50": 50.5, "p90": 90.1, "p99": 99.01,
                               "p100": 100.0})


def test_summary_of_known_samples() -> None:
    s = stats.summarize([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert (s.n, s.min, s.max, s.mean, s.p50) == (8, 2.0, 9.0, 5.0, 4.5)
    assert s.std == pytest.approx(2.0)  # the textbook population-std example
    assert s.p90 == pytest.approx(7.6)  # between the 7th (7.0) and 8th (9.0) values


def test_summarize_ns_reports_milliseconds_and_rounds_json() -> None:
    s = stats.summarize_ns([1_000_000, 3_000_000])
    assert (s.min, s.p50, s.max) == (1.0, 2.0, 3.0)
    js = stats.summarize_ns([1_234_567]).to_json()
    assert js["p50"] == 1.234567 and js["n"] == 1
    assert stats.summarize([0.12345678]).to_json()["p50"] == 0.123457


def test_percentiles_refuse_empty_samples() -> None:
    with pytest.raises(ValueError, match="no samples"):
        stats.summarize([])


def test_throughput_and_ratio() -> None:
    assert stats.throughput(256, 0.5) == 512.0
    with pytest.raises(ValueError):
        stats.throughput(1, 0.0)
    assert stats.ratio(3.0, 2.0) == 1.5
    assert stats.ratio(None, 2.0) is None and stats.ratio(1.0, 0.0) is None


def test_time_calls_counts_only_timed_runs() -> None:
    calls = []
    samples = time_calls(lambda: calls.append(1), runs=7, warmup=3)
    assert len(calls) == 10 and samples.shape == (7,) and (samples >= 0).all()


def test_batch_helpers() -> None:
    digits = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    assert batch_of(digits, 7).shape == (7, 28, 28)
    assert np.array_equal(batch_of(digits, 7)[3], digits[0])
    assert runs_for_batch(2000, 1) == 2000 and runs_for_batch(2000, 256) == 62
    assert runs_for_batch(50, 256) == 10  # never fewer than 10 repeats


def test_confusion_matrix_and_per_class() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 2])
    cm = accuracy.confusion_matrix(labels, pred)
    assert cm.shape == (10, 10) and cm.sum() == 6
    assert cm[0, 0] == 1 and cm[0, 1] == 1 and cm[2, 0] == 1 and cm[1, 1] == 2
    per = accuracy.per_class_accuracy(cm)
    assert per[:3] == [0.5, 1.0, 0.5] and per[3] is None


def test_flips_split_into_fixed_broken_and_both_wrong() -> None:
    labels = np.array([1, 2, 3, 4, 5])
    reference = np.array([1, 9, 3, 7, 5])
    model = np.array([1, 2, 8, 6, 5])
    f = accuracy.flips(labels, reference, model)
    assert (f.count, f.fixed, f.broken, f.both_wrong) == (3, 1, 1, 1)
    assert f.listed[0] == {"index": 1, "label": 2, "reference": 9, "model": 2}
    rep = accuracy.accuracy_report(labels, model, reference, "ref")
    assert rep["accuracy"] == pytest.approx(0.6) and rep["agreement"] == pytest.approx(0.4)
    assert rep["flipped"]["count"] == 3 and rep["reference"] == "ref"
    assert accuracy.accuracy_report(labels, model)["agreement"] is None


def test_predict_in_batches_matches_one_call() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (25, 28, 28), dtype=np.uint8)

    def predict(b: np.ndarray) -> np.ndarray:
        return np.eye(10)[b[:, 0, 0] % 10]

    expected = x[:, 0, 0] % 10
    assert np.array_equal(accuracy.predict_in_batches(predict, x, batch=4), expected)


def test_cpu_model_from_x86_and_raspberry_pi_cpuinfo() -> None:
    x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    pi = ("processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd0b\n\n"
          "Revision\t: d04170\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n")
    assert envinfo.cpu_model(x86) == "AMD EPYC 7B13"
    assert envinfo.cpu_model(pi) == "Raspberry Pi 5 Model B Rev 1.0"
    assert envinfo.cpu_model("CPU part\t: 0xd08\n") == "Arm CPU part 0xd08"


def test_run_frames_splits_stages_and_counts_exact_reads() -> None:
    from digitedge.benchmarks.e2e import encode_frames, run_frames
    from digitedge.edge_runtime.types import Reading

    frames = encode_frames([np.full((48, 64, 3), v, np.uint8) for v in (0, 255)], ".png")
    timing = {"preprocess": 3.0, "inference": 1.0, "total": 4.0}

    def good(image: np.ndarray) -> Reading:
        return Reading("7" if image.mean() < 128 else "1\n2", (), (), timing)

    def bad(image: np.ndarray) -> Reading:
        return Reading("0", (), (), timing)

    out = run_frames({"good": good, "bad": bad}, frames, ["7", "1\n2"], frames=5, warmup=1)
    g = out["good"].to_json()
    assert (g["frames"], g["width"], g["height"], g["digits_per_frame"]) == (5, 64, 48, 1.5)
    assert g["exact_reads"] == 5 and out["bad"].exact_reads == 0
    assert g["shares_of_read"] == {"preprocess": 0.75, "inference": 0.25}
    assert g["stages_ms"]["total"]["p50"] == 4.0 and g["stages_ms"]["decode"]["n"] == 5
    assert out["good"].fps > 0
