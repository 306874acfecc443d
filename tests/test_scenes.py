"""The scene generator, its scorer, `digitedge scenes` and the scene benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from digitedge.benchmarks import scene_bench
from digitedge.benchmarks.scene_score import TextScore, score_readings, score_scenes, score_text
from digitedge.benchmarks.scenes import generate_scene, generate_scenes
from digitedge.cli import main as cli_main
from digitedge.errors import DigitEdgeError


@pytest.fixture(scope="module")
def digits():
    """200 real MNIST test digits from the committed sample (test split only)."""
    from digitedge.train.data import SAMPLE_PATH, load_npz

    data = load_npz(SAMPLE_PATH)
    return data.x_test[:200], data.y_test[:200]


@pytest.fixture(scope="module")
def wild(digits):
    return generate_scenes(16, 11, *digits, profile="wild")


@pytest.fixture(scope="module")
def basic(digits):
    return generate_scenes(10, 12, *digits, profile="basic")


# --- generator -----------------------------------------------------------------------------

def test_same_seed_same_bytes_and_scene_i_independent_of_n(digits):
    a = generate_scenes(3, 5, *digits, profile="wild")
    b = generate_scenes(5, 5, *digits, profile="wild")
    for sa, sb in zip(a, b[:3], strict=True):
        assert sa.image.tobytes() == sb.image.tobytes()
        assert (sa.text, sa.boxes, sa.conditions, sa.jpeg) == (sb.text, sb.boxes,
                                                               sb.conditions, sb.jpeg)
    c = generate_scenes(3, 6, *digits, profile="wild")
    assert all(sa.image.tobytes() != sc.image.tobytes() for sa, sc in zip(a, c, strict=True))


@pytest.mark.parametrize("profile", ["basic", "wild"])
def test_truth_matches_boxes_and_frame(profile, wild, basic, digits):
    x, y = digits
    for scene in wild if profile == "wild" else basic:
        h, w = scene.image.shape[:2]
        assert scene.image.dtype == np.uint8 and scene.image.shape == (480, 640, 3)
        flat = scene.text.replace("\n", "")
        assert flat.isdigit() and len(flat) == len(scene.boxes) == len(scene.indices)
        assert flat == "".join(str(int(y[i])) for i in scene.indices)
        assert scene.conditions["n_lines"] == scene.text.count("\n") + 1
        for b in scene.boxes:
            assert b.w > 0 and b.h > 0 and b.x >= 0 and b.y >= 0
            assert b.x + b.w <= w and b.y + b.h <= h
        assert all(isinstance(v, str | int | bool) for v in scene.conditions.values())
        if scene.jpeg is not None:
            decoded = cv2.imdecode(np.frombuffer(scene.jpeg, np.uint8), cv2.IMREAD_COLOR)
            assert decoded.tobytes() == scene.image.tobytes()


def test_basic_profile_is_the_simple_set(basic):
    for scene in basic:
        c = scene.conditions
        assert (c["blur"], c["jpeg"], c["perspective"], c["paper_edge"]) == ("none", "none",
                                                                              False, False)
        assert (c["dots"], c["smudges"], c["underline"], c["ruling"]) == (False, False, False,
                                                                         "none")
        assert not (c["shadow"] or c["glare"] or c["finger"] or c["sharpened"])
        assert c["layout"] == "single" or c["layout"] == "lines" and c["n_lines"] == 2 or (
            c["layout"] == "number" and 4 <= len(scene.text) <= 6)


def test_boxes_cover_the_ink(basic):
    """In basic scenes (no distractors) every clearly inked pixel lies in some digit box."""
    checked = 0
    for scene in basic:
        gray = cv2.GaussianBlur(cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY), (0, 0), 1.5)
        gray = gray.astype(np.float32)
        if scene.conditions["polarity"] == "light_on_dark":
            gray = 255.0 - gray
        # The local surface level is the brightest value near each pixel (strokes are narrower).
        paper = cv2.dilate(gray, np.ones((61, 61), np.uint8))
        ink = paper - gray > 30
        inside = np.zeros_like(ink)
        for b in scene.boxes:
            inside[max(0, b.y - 3):b.y + b.h + 3, max(0, b.x - 3):b.x + b.w + 3] = True
        assert (ink & ~inside).sum() <= 0.002 * ink.size, scene.conditions
        for b in scene.boxes:
            assert ink[b.y:b.y + b.h, b.x:b.x + b.w].sum() > 0.03 * b.w * b.h, scene.conditions
        checked += 1
    assert checked == len(basic)


def test_wild_profile_varies_conditions():
    data_x = np.zeros((10, 28, 28), np.uint8)
    data_x[:, 4:24, 12:16] = 255  # a plain bar: any "digit" will do for this check
    scenes = generate_scenes(40, 3, data_x, np.arange(10), profile="wild", width=320,
                             height=240)
    seen = {k: {s.conditions[k] for s in scenes} for k in scenes[0].conditions}
    for key in ("blur", "jpeg", "polarity", "ink", "layout", "perspective", "paper_edge"):
        assert len(seen[key]) >= 2, f"{key} never varied in 40 wild scenes: {seen[key]}"


def test_bad_inputs_raise_one_line_errors(digits):
    rng = np.random.default_rng(0)
    with pytest.raises(DigitEdgeError, match="profile"):
        generate_scene(rng, *digits, profile="studio")
    with pytest.raises(DigitEdgeError, match="too small"):
        generate_scene(rng, *digits, width=20, height=20)
    with pytest.raises(DigitEdgeError, match="blank"):
        generate_scene(rng, np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.uint8))


# --- scorer --------------------------------------------------------------------------------

@pytest.mark.parametrize(("truth", "read", "expected"), [
    ("123", "123", TextScore(3, 0, 0, 0, True)),
    ("123", "193", TextScore(2, 1, 0, 0, True)),  # substitution
    ("123", "1273", TextScore(3, 0, 0, 1, True)),  # insertion = a false digit
    ("123", "13", TextScore(2, 0, 1, 0, True)),  # deletion = a missed digit
    ("12\n34", "1234", TextScore(4, 0, 0, 0, False)),  # lines merged
    ("12\n34", "1\n234", TextScore(4, 0, 0, 0, False)),  # break in the wrong place
    ("12\n34", "12\n4", TextScore(3, 0, 1, 0, True)),  # a miss is not a line error
    ("7", "", TextScore(0, 0, 1, 0, True)),
    ("", "55", TextScore(0, 0, 0, 2, True)),
    ("1111", "111", TextScore(3, 0, 1, 0, True)),
])
def test_score_text(truth, read, expected):
    assert score_text(truth, read) == expected
    assert score_text(truth, read).truth_digits == len(truth.replace("\n", ""))


def test_score_scenes_with_fake_readers(wild):
    truth_of = {s.image.tobytes(): s.text for s in wild}
    perfect = score_scenes(lambda img: truth_of[img.tobytes()], wild)
    assert perfect["exact_match"] == perfect["per_digit_accuracy"] == 1.0
    assert perfect["missed_digits"] == perfect["false_digits"] == 0
    digits = sum(len(s.boxes) for s in wild)
    assert perfect["truth_digits"] == digits

    dropping = score_scenes(lambda img: truth_of[img.tobytes()][:-1], wild)
    assert dropping["missed_digits"] == len(wild)
    assert dropping["per_digit_accuracy"] == pytest.approx((digits - len(wild)) / digits)
    assert dropping["exact_match"] == 0.0 and dropping["images_with_false_digits"] == 0.0

    adding = score_scenes(lambda img: truth_of[img.tobytes()] + "1", wild)
    assert adding["false_digits"] == len(wild) and adding["images_with_false_digits"] == 1.0
    for values in adding["by_condition"].values():
        assert sum(v["n"] for v in values.values()) == len(wild)
        assert sum(v["false_digits"] for v in values.values()) == len(wild)


def test_score_readings_breakdown_skips_many_valued_conditions():
    conds = [{"blur": "none", "sigma": float(i)} for i in range(20)]
    res = score_readings(["1"] * 20, ["1"] * 19 + ["2"], conds)
    assert res["by_condition"]["blur"]["none"]["n"] == 20
    assert res["not_broken_down"] == ["sigma"]
    assert res["exact_match"] == pytest.approx(0.95)


# --- CLI and benchmark ---------------------------------------------------------------------

def _fake_mnist(path: Path, sample) -> None:
    """Training digits are all 8s, test digits all 3s: any 8 in a scene means a leak."""
    eights = sample.x_train[sample.y_train == 8][:50]
    threes = sample.x_test[sample.y_test == 3][:50]
    np.savez(path, x_train=eights, y_train=np.full(len(eights), 8, np.uint8),
             x_test=threes, y_test=np.full(len(threes), 3, np.uint8))


def test_cli_writes_images_and_truth_from_test_digits_only(tmp_path, sample, capsys):
    npz = tmp_path / "fake.npz"
    _fake_mnist(npz, sample)
    out = tmp_path / "scenes"
    assert cli_main(["scenes", "--out", str(out), "--n", "6", "--seed", "2",
                     "--data", str(npz), "--width", "320", "--height", "240"]) == 0
    assert "wrote 6 wild scenes" in capsys.readouterr().out
    rows = [json.loads(line) for line in (out / "truth.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    expected = generate_scenes(6, 2, np.load(npz)["x_test"], np.load(npz)["y_test"],
                               width=320, height=240)
    for row, scene in zip(rows, expected, strict=True):
        assert set(row["text"]) <= {"3", "\n"}
        assert row["text"] == scene.text and len(row["boxes"]) == len(scene.boxes)
        img = cv2.imread(str(out / row["file"]), cv2.IMREAD_COLOR)
        assert img.tobytes() == scene.image.tobytes()  # PNG lossless; JPEG bytes kept as made
    meta = json.loads((out / "meta.json").read_text())
    assert meta["n"] == 6 and meta["seed"] == 2 and meta["size"] == [320, 240]
    assert len(list(out.glob("scene_*"))) == 6
    assert not list(out.glob(".*"))  # no temporary files left behind
    # A smaller rerun into the same folder leaves exactly its own images.
    assert cli_main(["scenes", "--out", str(out), "--n", "2", "--seed", "2", "--data", str(npz),
                     "--profile", "basic", "--width", "320", "--height", "240"]) == 0
    assert len(list(out.glob("scene_*"))) == 2
    assert len((out / "truth.jsonl").read_text().splitlines()) == 2


def test_cli_rejects_bad_flags(tmp_path, capsys):
    assert cli_main(["scenes", "--out", str(tmp_path / "o"), "--n", "0"]) == 1
    assert "--n must be at least 1" in capsys.readouterr().err
    assert cli_main(["scenes", "--out", str(tmp_path / "o"), "--data",
                     str(tmp_path / "missing.npz")]) == 1
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_evaluate_and_markdown_with_fake_readers(basic):
    truth_of = {s.image.tobytes(): s.text for s in basic}
    readers = {"perfect": lambda img: truth_of[img.tobytes()], "blind": lambda img: ""}
    results = scene_bench.evaluate(readers, basic)
    assert results["perfect"]["exact_match"] == 1.0
    assert results["blind"]["missed_digits"] == sum(len(s.boxes) for s in basic)
    assert scene_bench.agreement(results["perfect"], results["blind"]) == 0.0
    table = scene_bench.markdown(results)
    assert "| perfect | 10 | 100.0% | 100.0% |" in table
    assert "blind vs perfect: same reading on 0.0% of scenes" in table


def test_scene_bench_runs_the_bundled_model(tmp_path, capsys):
    out, fails = tmp_path / "bench.json", tmp_path / "fails"
    assert scene_bench.main(["--n", "4", "--seed", "1", "--profile", "wild",
                             "--json-out", str(out), "--save-failures", str(fails)]) == 0
    assert "| condition | value | scenes |" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    (result,) = doc["results"].values()
    assert result["n"] == 4 and len(result["readings"]) == 4
    (model,) = doc["models"].values()
    assert len(model["sha256"]) == 64
    det = result["detection"]
    assert det["truth_digits"] == result["truth_digits"] and 0 <= det["found_rate"] <= 1
    misread = sum(r["truth"] != r["read"] for r in result["readings"])
    assert len(list(fails.glob("scene_*.png"))) == misread


def test_scene_bench_reports_a_one_line_error(tmp_path, capsys):
    assert scene_bench.main(["--n", "2", "--model", str(tmp_path / "none.tflite")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("scene_bench: error:") and len(err.strip().splitlines()) == 1


def test_basic_photograph_is_straight_on_and_wild_can_move_the_sheet():
    from digitedge.benchmarks.scene_camera import photograph

    sheet = np.full((120, 160, 3), 200.0, np.float32)
    boxes = [(60, 40, 30, 40)]
    shot = photograph(np.random.default_rng(0), sheet.copy(), boxes, wild=False)
    assert np.array_equal(shot.hmat, np.eye(3)) and shot.jpeg is None
    assert not shot.conditions["perspective"] and not shot.conditions["paper_edge"]
    moved = photograph(np.random.default_rng(0), sheet.copy(), boxes, wild=True,
                       sheet_scale=0.7, tilt=0.04, rotation=8.0)
    assert moved.conditions["paper_edge"] and moved.conditions["perspective"]
    corners = cv2.perspectiveTransform(np.float32([[[60, 40], [90, 80]]]), moved.hmat)[0]
    assert (corners >= 0).all() and (corners[:, 0] <= 160).all() and (corners[:, 1] <= 120).all()


def test_thinning_and_digit_patch_sizes(digits):
    from digitedge.benchmarks.scene_effects import digit_patch, thin

    bar = np.zeros((20, 40), bool)
    bar[6:14, 5:35] = True
    line = thin(bar)
    assert line.any() and line.sum(axis=0).max() == 1  # one pixel thick
    assert (line & ~bar).sum() == 0  # inside the original shape
    x, _ = digits
    for stroke in ("thin", "medium", "thick"):
        patch = digit_patch(x[0], 60.0, stroke, rotation=0.0, slant=0.0)
        assert abs(patch.shape[0] - 60) <= 8, (stroke, patch.shape)
        assert np.issubdtype(patch.dtype, np.floating)
        assert patch.min() >= 0.0 and patch.max() <= 1.0
    ink = {s: float(digit_patch(x[0], 60.0, s, 0.0, 0.0).sum()) for s in ("thin", "medium",
                                                                           "thick")}
    assert ink["thin"] < ink["medium"] < ink["thick"]


def test_score_boxes_splits_segmentation_from_classification():
    from digitedge.benchmarks.scene_score import BoxScore, score_boxes
    from digitedge.edge_runtime.types import Box, Digit, Reading

    truth = [Box(0, 0, 10, 20), Box(20, 0, 10, 20), Box(40, 0, 10, 20)]
    reading = Reading("17", (Digit(1, 0.9, Box(1, 0, 10, 20), 0),  # found, right
                             Digit(7, 0.8, Box(20, 1, 10, 19), 0),  # found, wrong label
                             Digit(5, 0.9, Box(90, 90, 8, 8), 0)),  # a distractor
                      rejected=(Digit(4, 0.3, Box(40, 0, 11, 20), -1),))  # seen, not trusted
    assert score_boxes(truth, "124", reading) == BoxScore(3, 2, 1, 1, 1)
    assert score_boxes(truth, "124", Reading("", ())) == BoxScore(3, 0, 0, 0, 0)
    with pytest.raises(ValueError):
        score_boxes(truth, "12", reading)
