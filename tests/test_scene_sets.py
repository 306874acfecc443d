"""The named tuning/check scene sets: parsing, pooling, pairing two runs, and a tiny real run."""

import json

import pytest

from digitedge.benchmarks import scene_sets as ss
from digitedge.errors import DigitEdgeError


def test_parse_sets_names_and_specs():
    assert ss.parse_sets("check") == list(ss.SETS["check"])
    assert ss.parse_sets("tune, wild:12:30") == [*ss.SETS["tune"], ("wild", 12, 30)]
    for bad in ("", "nope", "wild:1", "photo:1:3", "wild:-1:3", "wild:1:0", "wild:1:3:4"):
        with pytest.raises(DigitEdgeError):
            ss.parse_sets(bad)


def test_sign_test_values():
    assert ss.sign_test(0, 0) == 1.0
    assert ss.sign_test(5, 0) == pytest.approx(2 / 32)
    assert ss.sign_test(3, 3) == 1.0
    assert ss.sign_test(50, 32) == pytest.approx(0.0598, abs=5e-4)


def _result(truths, reads):
    return {"readings": [{"truth": t, "read": r} for t, r in zip(truths, reads, strict=True)]}


def test_paired_counts_scenes_only_one_run_read_right():
    new = {"wild 1": _result(["1", "2", "3", "4"], ["1", "2", "8", "4"])}
    old = {"wild 1": _result(["1", "2", "3", "4"], ["7", "2", "3", "9"]),
           "wild 7": _result(["5"], ["5"])}  # a set only one run read is left out
    wins, losses, p = ss.paired(new, old)
    assert (wins, losses) == (2, 1)
    assert p == pytest.approx(1.0)
    with pytest.raises(DigitEdgeError):
        ss.paired(new, {"wild 1": _result(["9", "2", "3", "4"], ["9", "2", "3", "4"])})


def test_total_pools_the_sets():
    a = {"n": 100, "exact_match": 0.9, "truth_digits": 400, "correct_digits": 390,
         "images_with_false_digits": 0.02, "substituted_digits": 6, "missed_digits": 4,
         "false_digits": 2}
    b = {"n": 300, "exact_match": 0.8, "truth_digits": 600, "correct_digits": 570,
         "images_with_false_digits": 0.0, "substituted_digits": 20, "missed_digits": 10,
         "false_digits": 0}
    t = ss.total({"a": a, "b": b})
    assert t["exact_match"] == pytest.approx(0.825)
    assert t["per_digit_accuracy"] == pytest.approx(0.96)
    assert t["images_with_false_digits"] == pytest.approx(0.005)
    assert (t["substituted_digits"], t["missed_digits"], t["false_digits"]) == (26, 14, 2)


def test_main_reads_a_tiny_set_and_compares_with_itself(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert ss.main(["--sets", "basic:1:2", "--workers", "1", "--json-out", str(out)]) == 0
    doc = json.loads(out.read_text())
    result = doc["results"]["basic 1"]
    assert result["n"] == 2 and len(result["readings"]) == 2
    assert "| basic 1 (2) |" in capsys.readouterr().out
    assert ss.main(["--sets", "basic:1:2", "--workers", "1", "--compare", str(out)]) == 0
    assert "0 scenes right only now, 0 only before" in capsys.readouterr().out


def test_main_refuses_bad_input_in_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert ss.main(["--sets", "basic:1:1", "--compare", str(junk)]) == 1
    assert ss.main(["--sets", "basic:1:1", "--model", str(tmp_path / "none.tflite")]) == 1
    assert ss.main(["--sets", "nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("scene_sets: error:") for line in err)
