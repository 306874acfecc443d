"""`digitedge read` in-process: outputs, JSON schema, files written, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from digitedge.cli import main

DATA = Path(__file__).resolve().parent / "data"
NUMBER = DATA / "number_dark.png"
CHALK = DATA / "chalk_two_lines.png"


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got {lines}"
    assert lines[0].startswith("digitedge: error: ") and "Traceback" not in err
    return lines[0]


def test_plain_output_is_the_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(NUMBER)]) == 0
    assert capsys.readouterr().out == "4071\n"


def test_several_images_are_prefixed_with_their_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(NUMBER), str(CHALK)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{NUMBER}: 4071", f"{CHALK}: 358 6290"]


def test_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(CHALK), str(NUMBER), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["image"] for r in records] == [str(CHALK), str(NUMBER)]
    assert records[0]["text"] == "358\n6290"
    for record in records:
        assert set(record) >= {"image", "text", "digits", "timing_ms"}
        assert set(record["timing_ms"]) >= {"preprocess", "inference", "total"}
        for d in record["digits"]:
            assert set(d) == {"label", "confidence", "box", "line"}
            assert 0 <= d["label"] <= 9 and 0 <= d["confidence"] <= 1 and len(d["box"]) == 4
    assert [d["line"] for d in records[0]["digits"]] == [0, 0, 0, 1, 1, 1, 1]


def test_annotate_and_debug_crops_are_written(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out, crops = tmp_path / "out.png", tmp_path / "crops.png"
    assert main(["read", str(NUMBER), "--annotate", str(out), "--debug-crops", str(crops)]) == 0
    annotated = cv2.imread(str(out))
    assert annotated.shape == cv2.imread(str(NUMBER)).shape
    assert cv2.imread(str(crops)).shape[1] >= 4 * 28
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crops.png", "out.png"]  # no temps


def test_annotate_with_several_images_names_one_file_per_image(tmp_path: Path) -> None:
    out = tmp_path / "ann.png"
    assert main(["read", str(NUMBER), str(CHALK), "--annotate", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ann-chalk_two_lines.png", "ann-number_dark.png"]


def bad_inputs(tmp: Path) -> dict[str, Path]:
    """Every kind of bad image file the reader must refuse with one line."""
    png, jpg = NUMBER.read_bytes(), (DATA / "single_digit.jpg").read_bytes()
    files = {
        "missing": tmp / "missing.png",
        "empty": tmp / "empty.png",
        "not_image": tmp / "notes.png",
        "truncated_png": tmp / "cut.png",
        "truncated_jpeg": tmp / "cut.jpg",
        "enormous": tmp / "huge.png",
        "directory": tmp / "folder.png",
    }
    files["empty"].write_bytes(b"")
    files["not_image"].write_text("this is not an image\n")
    files["truncated_png"].write_bytes(png[: len(png) // 2])
    files["truncated_jpeg"].write_bytes(jpg[: len(jpg) * 2 // 3])
    # a valid PNG header claiming 100,000 x 100,000 pixels: refused before decoding
    header = bytearray(png[:33])
    header[16:24] = (100_000).to_bytes(4, "big") * 2
    files["enormous"].write_bytes(bytes(header) + png[33:])
    files["directory"].mkdir()
    return files


@pytest.mark.parametrize("kind", ["missing", "empty", "not_image", "truncated_png",
                                  "truncated_jpeg", "enormous", "directory"])
def test_each_bad_image_gives_one_line_and_nonzero(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bad_inputs(tmp_path)[kind]
    assert main(["read", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert str(path.name) in one_error_line(captured.err)


def test_good_images_are_still_read_next_to_a_bad_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = bad_inputs(tmp_path)["truncated_jpeg"]
    assert main(["read", str(NUMBER), str(bad), str(CHALK), "--json"]) == 1
    captured = capsys.readouterr()
    texts = [json.loads(line)["text"] for line in captured.out.splitlines()]
    assert texts == ["4071", "358\n6290"]
    assert "cut.jpg" in one_error_line(captured.err)


def test_non_tflite_model_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "model.tflite"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a flatbuffer" * 4)
    assert main(["read", str(NUMBER), "--model", str(fake)]) == 1
    assert "TFLite" in one_error_line(capsys.readouterr().err)


def test_model_with_wrong_input_shape_is_refused(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "wrong.tflite"
    model.write_bytes(wrong_shape_model())
    assert main(["read", str(NUMBER), "--model", str(model)]) == 1
    assert "28x28" in one_error_line(capsys.readouterr().err)


def wrong_shape_model() -> bytes:
    """A real TFLite model whose input is 32x32 (committed; see tests/data/make_images.py)."""
    return (DATA / "wrong_input_32x32.tflite").read_bytes()


def test_bad_output_name_is_refused_before_reading(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(NUMBER), "--annotate", str(tmp_path / "out.xyz")]) == 1
    one_error_line(capsys.readouterr().err)
    assert not list(tmp_path.iterdir())


def test_copied_image_with_odd_name_still_reads(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "photo with spaces.PNG"
    shutil.copy(NUMBER, odd)
    assert main(["read", str(odd)]) == 0
    assert capsys.readouterr().out.strip() == "4071"
    assert np.array_equal(cv2.imread(str(odd)), cv2.imread(str(NUMBER)))


def test_work_side_reads_a_soft_large_frame_and_keeps_input_coordinates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = cv2.imread(str(NUMBER))
    big = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), big)
    assert main(["read", str(NUMBER), "--json"]) == 0
    small = json.loads(capsys.readouterr().out)
    assert main(["read", str(path), "--json", "--work-side", "320"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["text"] == "4071"
    # boxes come back in the input's pixels: about three times those of the original
    for a, b in zip(small["digits"], record["digits"], strict=True):
        assert abs(b["box"][0] - 3 * a["box"][0]) <= 12
        assert abs(b["box"][3] - 3 * a["box"][3]) <= 12


def test_work_side_sets_the_working_size(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from digitedge.edge_runtime import preprocess, reader

    sides: list[int] = []
    real = preprocess.limit_size
    monkeypatch.setattr(preprocess, "limit_size",
                        lambda gray, side: sides.append(side) or real(gray, side))
    assert main(["read", str(NUMBER), "--work-side", "640"]) == 0
    assert main(["read", str(NUMBER)]) == 0
    assert capsys.readouterr().out == "4071\n4071\n"
    assert 640 in sides and reader.ReaderConfig().max_side in sides


def test_too_small_work_side_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(NUMBER), "--work-side", "10"]) != 0
    assert "--work-side" in one_error_line(capsys.readouterr().err)
