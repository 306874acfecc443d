"""DigitReader end to end: exact readings on committed images, agreement with the model."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from digitedge.edge_runtime import segment
from digitedge.edge_runtime.imageio import load_image
from digitedge.edge_runtime.model import TFLiteModel
from digitedge.edge_runtime.preprocess import binarize
from digitedge.edge_runtime.reader import DigitReader, ReaderConfig
from digitedge.errors import DigitEdgeError
from digitedge.train.data import MnistData

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def reader() -> DigitReader:
    return DigitReader()


@pytest.mark.parametrize(("name", "text"), [
    ("number_dark.png", "4071"),
    ("chalk_two_lines.png", "358\n6290"),
    ("single_digit.jpg", "8"),
])
def test_exact_reading_of_committed_images(reader: DigitReader, name: str, text: str) -> None:
    image = load_image(DATA / name)
    reading = reader.read(image)
    assert reading.text == text, f"{name}: read {reading.text!r}, expected {text!r}"
    assert set(reading.timing_ms) >= {"preprocess", "inference", "total"}
    h, w = image.shape[:2]
    for d in reading.digits:
        assert d.box.x >= 0 and d.box.x + d.box.w <= w and d.box.y + d.box.h <= h
        assert d.confidence >= reader.min_confidence
    assert [d.line for d in reading.digits] == sorted(d.line for d in reading.digits)


def test_inverted_image_reads_the_same(reader: DigitReader) -> None:
    image = load_image(DATA / "number_dark.png")
    assert reader.read(255 - image).text == "4071"


def grid_of_digits(x: np.ndarray, rows: int, cols: int, size: int = 48) -> np.ndarray:
    """MNIST digits drawn dark on light paper, `cols` per line."""
    page = np.full((rows * size + 40, cols * size + 40), 235, np.uint8)
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        big = cv2.resize(x[i], (size, size), interpolation=cv2.INTER_LINEAR)
        y0, x0 = 20 + r * size, 20 + c * size
        page[y0:y0 + size, x0:x0 + size] = np.minimum(page[y0:y0 + size, x0:x0 + size],
                                                      255 - big)
    return page


def test_reader_agrees_with_the_model_on_mnist_digits(reader: DigitReader,
                                                      sample: MnistData) -> None:
    """Digits found in a page of MNIST test digits are what the model says of the originals."""
    rows, cols = 6, 10
    x = sample.x_test[:rows * cols]
    direct = reader.classify(x).argmax(axis=1)
    reading = DigitReader(reader.model, min_confidence=0.0).read(grid_of_digits(x, rows, cols))
    lines = reading.text.split("\n")
    assert len(lines) == rows
    agree = sum(a == b for line, r in zip(lines, range(rows), strict=True)
                for a, b in zip(line, "".join(map(str, direct[r * cols:(r + 1) * cols])),
                                strict=False))
    assert agree >= 0.95 * rows * cols, f"only {agree}/{rows * cols} digits agree"


def test_low_confidence_digits_are_rejected_not_guessed(reader: DigitReader) -> None:
    strict = DigitReader(reader.model, min_confidence=1.01)
    reading = strict.read(load_image(DATA / "number_dark.png"))
    assert reading.text == "" and reading.digits == ()
    assert len(reading.rejected) == 4


class UnsureReader(DigitReader):
    """The bundled model's labels, every one at confidence `level` (0.35)."""

    level = 0.35

    def classify(self, batch: np.ndarray) -> np.ndarray:
        probs = super().classify(batch)
        out = np.full_like(probs, (1 - self.level) / 9)
        out[np.arange(len(probs)), probs.argmax(axis=1)] = self.level
        return out


class HalfSureReader(UnsureReader):
    """The bundled model's labels, every one at confidence 0.45: enough for a lone digit."""

    level = 0.45


def test_a_lone_unsure_digit_is_rejected_but_not_one_in_a_row(reader: DigitReader) -> None:
    unsure = UnsureReader(reader.model)
    assert unsure.read(load_image(DATA / "number_dark.png")).text == "4071"
    alone = unsure.read(load_image(DATA / "single_digit.jpg"))
    assert alone.text == "" and [d.label for d in alone.rejected] == [8]
    relaxed = UnsureReader(reader.model, config=ReaderConfig(lone_confidence=0.3))
    assert relaxed.read(load_image(DATA / "single_digit.jpg")).text == "8"
    assert HalfSureReader(reader.model).read(load_image(DATA / "single_digit.jpg")).text == "8"


def _touching(x: np.ndarray, indices: tuple[int, ...], overlap: int, width: int = 400,
              left: int = 40) -> np.ndarray:
    """The digits x[indices], 112 px tall, each overlapping the one before by `overlap` px
    (a negative overlap leaves that gap between them)."""
    img = np.full((200, width), 235, np.uint8)
    for i in indices:
        digit = cv2.resize(x[i], (112, 112), interpolation=cv2.INTER_LINEAR)
        cols = np.flatnonzero(digit.max(axis=0) > 60)
        digit = digit[:, cols[0]:cols[-1] + 1]
        region = img[44:156, left:left + digit.shape[1]]
        np.minimum(region, (235 - np.clip(digit, 0, 200)).astype(np.uint8), out=region)
        left += digit.shape[1] - overlap
    return img


def test_unsure_digits_far_apart_on_a_line_are_each_alone(reader: DigitReader,
                                                          sample: MnistData) -> None:
    unsure = UnsureReader(reader.model)  # 0.35: sure, but not enough for a lone digit
    pair = "".join(str(d) for d in sample.y_test[:2])
    assert unsure.read(_touching(sample.x_test, (0, 1), -20, width=560)).text == pair
    # across the page from each other they are no number: each must pass as lone
    assert unsure.read(_touching(sample.x_test, (0, 1), -300, width=560)).text == ""
    assert reader.read(_touching(sample.x_test, (0, 1), -300, width=560)).text == pair


class UnsureOfZerosReader(DigitReader):
    """The bundled model's readings, but every 0 at confidence 0.25 (under the floor)."""

    def classify(self, batch: np.ndarray) -> np.ndarray:
        probs = super().classify(batch)
        zeros = probs.argmax(axis=1) == 0
        probs[zeros] = 0.75 / 9
        probs[zeros, 0] = 0.25
        return probs


def test_an_unsure_digit_in_a_number_is_vouched_for_by_its_neighbours(
        reader: DigitReader) -> None:
    number = load_image(DATA / "number_dark.png")
    assert UnsureOfZerosReader(reader.model).read(number).text == "4071"
    strict = UnsureOfZerosReader(reader.model, config=ReaderConfig(mate_fraction=1.0))
    reading = strict.read(number)
    assert reading.text == "471" and [d.label for d in reading.rejected] == [0]
    picky = UnsureOfZerosReader(reader.model, min_confidence=0.5)  # floor 0.33 for mates
    assert picky.read(number).text == "471"


class FairlySureReader(UnsureReader):
    """The bundled model's labels, every one at confidence 0.55."""

    level = 0.55


def _number_and_a_line_below(x: np.ndarray, size: int) -> np.ndarray:
    """x[0:4] 72 px tall on a line, x[5] `size` px tall alone on a line below them."""
    page = np.full((260, 360), 235, np.uint8)
    for i, (y0, x0, s) in enumerate([(20, 30 + 72 * i, 72) for i in range(4)]
                                    + [(150, 60, size)]):
        digit = cv2.resize(x[i if i < 4 else 5], (s, s), interpolation=cv2.INTER_LINEAR)
        page[y0:y0 + s, x0:x0 + s] = np.minimum(page[y0:y0 + s, x0:x0 + s], 255 - digit)
    return page


def test_a_lone_line_below_a_number_must_be_its_size_and_sure(reader: DigitReader,
                                                               sample: MnistData) -> None:
    x = sample.x_test
    assert sample.y_test[5] == 1 and reader.read(_number_and_a_line_below(x, 72)).text[-2:] == "\n1"
    assert reader.read(_number_and_a_line_below(x, 40)).text[-2:] == "\n1"  # 0.56 as tall
    assert "\n" not in reader.read(_number_and_a_line_below(x, 30)).text  # 0.42: a speck
    fair = FairlySureReader(reader.model)
    assert fair.read(_number_and_a_line_below(x, 72)).text == reader.read(
        _number_and_a_line_below(x, 30)).text  # 0.55 sure: the number alone
    assert fair.read(load_image(DATA / "single_digit.jpg")).text == "8"  # no other lines


def test_blank_image_reads_nothing(reader: DigitReader, rng: np.random.Generator) -> None:
    page = np.clip(rng.normal(200, 5, (240, 320)), 0, 255).astype(np.uint8)
    reading = reader.read(page)
    assert reading.text == "" and reading.digits == () and reading.rejected == ()


def test_classify_returns_probabilities(reader: DigitReader, sample: MnistData) -> None:
    probs = reader.classify(sample.x_test[:5])
    assert probs.shape == (5, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=0.05)
    assert reader.classify(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)


def test_prepare_gives_mnist_style_crops(reader: DigitReader) -> None:
    prepared = reader.prepare(load_image(DATA / "number_dark.png"))
    assert prepared.crops.shape == (4, 28, 28) and prepared.crops.dtype == np.uint8
    assert prepared.lines == (0, 0, 0, 0)
    # white digit on black with an empty border, as in MNIST
    assert prepared.crops[:, :2, :].max() < 64 and prepared.crops.max() > 200


def test_large_input_is_read_at_working_size(reader: DigitReader) -> None:
    image = load_image(DATA / "number_dark.png")
    big = cv2.resize(image, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)
    small_cfg = DigitReader(reader.model, config=ReaderConfig(max_side=640))
    reading = small_cfg.read(big)
    assert reading.text == "4071"
    assert max(d.box.x + d.box.w for d in reading.digits) > 640  # boxes in input pixels


def test_model_can_be_given_as_path_or_object(reader: DigitReader) -> None:
    assert isinstance(DigitReader(str(reader.model.path)).model, TFLiteModel)
    with pytest.raises(DigitEdgeError):
        DigitReader("/nonexistent/model.tflite")


# The bundled int8 CNN and reader read these 20 + 20 scenes at (per digit, exact, images
# with a false digit) basic 98.9% / 95% / 0%, wild 95.2% / 85% / 0% (2026-11-24, third
# session; the same in the fourth, fifth and sixth). The second session's reader (commit
# 6327b52) read basic 97.9 / 95 / 0 and wild 91.3 / 70 / 5, and fails the wild floors on per-digit
# accuracy and exact match; the first session's read wild 87.5 / 55 / 15. The floors sit
# 3-10 points below today's (one scene is 5 points), so a small change passes.
# Twenty scenes are too few to catch any one reader rule alone: scene_bench is for that.
SCENE_FLOORS = {
    # profile: (least per-digit accuracy, least exact match, most images with a false digit)
    "basic": (0.95, 0.85, 0.10),
    "wild": (0.92, 0.75, 0.10),
}


@pytest.mark.parametrize("profile", ["basic", "wild"])
def test_generated_scenes_stay_above_floors(reader: DigitReader, sample: MnistData,
                                            profile: str) -> None:
    from digitedge.benchmarks.scene_score import score_scenes
    from digitedge.benchmarks.scenes import generate_scenes

    scenes = generate_scenes(20, 11, sample.x_test, sample.y_test, profile=profile)
    res = score_scenes(reader.read, scenes)
    per_digit, exact, false_images = SCENE_FLOORS[profile]
    summary = {k: res[k] for k in res if not isinstance(res[k], dict)}
    assert res["per_digit_accuracy"] >= per_digit, summary
    assert res["exact_match"] >= exact, summary
    assert res["images_with_false_digits"] <= false_images, summary


def test_digits_on_a_sheet_lying_on_a_dark_table(reader: DigitReader,
                                                 sample: MnistData) -> None:
    # a phone photo of a note on a desk: the dark table around the sheet must neither
    # raise the ink threshold above thin pen strokes nor set the digit height
    rng = np.random.default_rng(3)
    table = rng.normal(50, 12, (480, 640)).clip(0, 255).astype(np.uint8)
    table[60:420, 90:560] = rng.normal(205, 4, (360, 470)).clip(0, 255).astype(np.uint8)
    digits = [i for i in range(len(sample.y_test)) if sample.y_test[i] in (3, 4, 7)][:3]
    for k, i in enumerate(digits):
        big = cv2.resize(sample.x_test[i], (40, 40), interpolation=cv2.INTER_LINEAR)
        y0, x0 = 200, 220 + 45 * k
        patch = table[y0:y0 + 40, x0:x0 + 40]
        table[y0:y0 + 40, x0:x0 + 40] = np.minimum(patch, 205 - (big * 0.55).astype(np.uint8))
    image = cv2.GaussianBlur(table, (0, 0), 0.8)
    expected = "".join(str(int(sample.y_test[i])) for i in digits)
    assert reader.read(image).text == expected


def _sheet_on_table(rng: np.random.Generator, sheet: tuple[int, int, int, int],
                    paper: int) -> np.ndarray:
    """A bright sheet (rows y0:y1, columns x0:x1) on a dark, textured table, 640x480."""
    image = rng.normal(60, 12, (480, 640)).clip(0, 255).astype(np.uint8)
    y0, y1, x0, x1 = sheet
    image[y0:y1, x0:x1] = rng.normal(paper, 3, (y1 - y0, x1 - x0)).clip(0, 255).astype(np.uint8)
    return image


def _write(image: np.ndarray, digit: np.ndarray, y: int, x: int, paper: int,
           ink: float) -> None:
    """Darken `image` by a white-on-black MNIST-style `digit` (`ink` 0-1: how dark)."""
    h, w = digit.shape
    patch = image[y:y + h, x:x + w]
    image[y:y + h, x:x + w] = np.minimum(patch, paper - (digit * ink).astype(np.uint8))


def test_faint_pencil_on_a_small_sheet_wins_a_close_polarity_vote(
        sample: MnistData, monkeypatch: pytest.MonkeyPatch) -> None:
    # the dark table around a small sheet outvotes faint pencil by about 1.3: the sheet
    # then looks like one big "light ink" blob (its rim), and reading both sides finds the
    # digits; since the rim is no digit (`blobs.sheet_outline`) the light side finds
    # nothing, and the other side is read even without the contest
    digits = [i for i in range(len(sample.y_test)) if sample.y_test[i] in (2, 5, 8)][:3]
    image = _sheet_on_table(np.random.default_rng(3), (120, 360, 180, 460), 225)
    for k, i in enumerate(digits):
        big = cv2.resize(sample.x_test[i], (36, 36), interpolation=cv2.INTER_LINEAR)
        _write(image, big, 230, 260 + 40 * k, 225, 0.3)
    image = cv2.GaussianBlur(image, (0, 0), 0.8)
    ink = binarize(image)
    assert not ink.dark_ink and 1.25 < ink.polarity_margin < 1.6  # the case under test
    expected = "".join(str(int(sample.y_test[i])) for i in digits)
    assert DigitReader().read(image).text == expected
    narrow = DigitReader(config=ReaderConfig(polarity_contest=1.25))  # the first level
    assert narrow.read(image).text == expected
    monkeypatch.setattr(segment, "sheet_outline", lambda *args: False)
    assert DigitReader().read(image).text == expected
    assert narrow.read(image).text != expected


def test_a_big_digit_near_the_top_of_the_sheet_is_read(reader: DigitReader, sample: MnistData,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # a close-up 7, 160 px tall, written 20 px below the sheet's edge: fragments of the
    # ragged edge lie closer than that, so the digit must not be dropped with them
    seven = int(np.flatnonzero(sample.y_test == 7)[0])
    big = cv2.resize(sample.x_test[seven], (224, 224), interpolation=cv2.INTER_LINEAR)
    big = big[np.flatnonzero((big > 60).any(axis=1))[0]:]
    image = _sheet_on_table(np.random.default_rng(4), (40, 470, 60, 600), 215)
    _write(image, big, 60, 250, 215, 0.7)
    image = cv2.GaussianBlur(image, (0, 0), 1.0)
    assert reader.read(image).text == "7"
    monkeypatch.setattr(segment, "REL_OBSTACLE_MARGIN", 1.0)  # a margin of 0.15 x height
    assert reader.read(image).text == ""


def test_a_strokes_halo_read_with_the_wrong_polarity_is_no_digit(reader: DigitReader) -> None:
    # a sharpened marker stroke on a whiteboard has light rims; read as "light ink" (the
    # polarity contest does that), the rims are all there is. The fallback that reads the
    # surround too (for a close-up digit) must keep such rims of a brightness step out.
    rng = np.random.default_rng(0)
    board = rng.normal(198, 2, (480, 640)).clip(0, 255).astype(np.float32)
    cv2.line(board, (250, 205), (258, 275), 20, 8)
    sharp = board + 2.0 * (board - cv2.GaussianBlur(board, (0, 0), 2.0))
    image = cv2.GaussianBlur(np.clip(sharp, 0, 255), (0, 0), 0.7).astype(np.uint8)
    prepared = reader.prepare(image, dark_ink=False)
    assert len(prepared.crops) == 0
    ink = prepared.ink
    assert ink.strips is not None and ink.strips.any()
    assert segment.segment(ink.mask, reader.config.segment, None, ink.strength).blobs


def _probs(*rows: tuple[int, float]) -> np.ndarray:
    """One probability row per (label, confidence), the rest spread evenly."""
    out = np.zeros((len(rows), 10), np.float32)
    for i, (label, conf) in enumerate(rows):
        out[i] = (1 - conf) / 9
        out[i, label] = conf
    return out


def test_touching_digits_are_cut_along_a_seam(reader: DigitReader, sample: MnistData) -> None:
    # a 7 and a 1 written so close that they overlap by 10 px: one blob, too narrow for
    # the column cutters; the seam between them splits it (without seams it reads nothing)
    img = _touching(sample.x_test, (0, 14), 10)
    assert "".join(str(sample.y_test[i]) for i in (0, 14)) == "71"
    assert reader.read(img).text == "71"
    # the thin "1" is also peeled off (`splits.peel_one`), so both cuts go to show the seam's
    no_seams = DigitReader(reader.model,
                           config=ReaderConfig(seam_min_aspect=99.0, peel_aspect=0.85))
    assert no_seams.read(img).text != "71"


class OnesAsSevensReader(DigitReader):
    """The bundled model's readings, with every "1" read as a "7" just as surely."""

    def classify(self, batch: np.ndarray) -> np.ndarray:
        probs = super().classify(batch)
        probs[:, [1, 7]] = probs[:, [7, 1]]
        return probs


@pytest.mark.parametrize("other", [12, 26])
def test_a_1_leaning_on_a_digit_is_peeled_off(reader: DigitReader, sample: MnistData,
                                              other: int) -> None:
    # a "1" overlapping a 9 (or a 7) by 8 px: one blob too narrow for a two-way split
    img = _touching(sample.x_test, (14, other), 8, width=300, left=60)
    truth = f"1{sample.y_test[other]}"
    assert reader.read(img).text == truth
    # the seam cutting reads some such pairs too (the 7 with the bundled model): the peel
    # must read them without it, and nothing else must
    no_seams = ReaderConfig(seam_below=0.0)
    assert DigitReader(reader.model, config=no_seams).read(img).text == truth
    no_peel = no_seams._replace(peel_aspect=0.85)
    assert DigitReader(reader.model, config=no_peel).read(img).text != truth
    # the thin piece is offered only as a "1": read as anything else, the cut is not taken
    assert OnesAsSevensReader(reader.model).read(img).text != "7" + truth[1]


@pytest.mark.parametrize("index", [10, 11])
def test_a_digit_broken_in_two_side_by_side_reads_whole(reader: DigitReader,
                                                        sample: MnistData, index: int) -> None:
    # a faint stroke lost to the threshold leaves a 0 (or a 6) as a left and a right piece
    img = np.full((200, 300), 235, np.uint8)
    digit = cv2.resize(sample.x_test[index], (112, 112), interpolation=cv2.INTER_LINEAR)
    cols = np.flatnonzero(digit.max(axis=0) > 60)
    mid = (cols[0] + cols[-1]) // 2
    digit[:, mid - 3:mid + 3] = 0
    img[44:156, 90:202] = (235 - np.clip(digit, 0, 200)).astype(np.uint8)
    truth = str(sample.y_test[index])
    assert reader.read(img).text == truth
    apart = DigitReader(reader.model, config=ReaderConfig(seam_gap=0.0))
    assert apart.read(img).text != truth


def _read_from(reader: DigitReader, image: np.ndarray) -> None:
    """Each digit's tensor from `read_with_crops` is the one its reading came from."""
    reading, kept, dropped = reader.read_with_crops(image)
    assert reading.text == reader.read(image).text
    for digits, crops in ((reading.digits, kept), (reading.rejected, dropped)):
        assert crops.shape == (len(digits), 28, 28) and crops.dtype == np.uint8
        if digits:
            probs = reader.classify(crops)
            assert list(probs.argmax(axis=1)) == [d.label for d in digits]
            assert np.allclose(probs.max(axis=1), [d.confidence for d in digits])


def test_each_digit_comes_with_the_tensor_it_was_read_from(reader: DigitReader,
                                                           sample: MnistData) -> None:
    # after a seam cut, a peel and a second reading the first crops are not what was read
    # (the seam case's one blob is two digits): --debug-crops must show the final tensors
    seam = _touching(sample.x_test, (0, 14), 10)
    assert len(reader.prepare(seam).crops) == 1 and reader.read(seam).text == "71"
    peel = _touching(sample.x_test, (14, 12), 8, width=300, left=60)
    _read_from(reader, seam)
    _read_from(reader, peel)
    from digitedge.benchmarks.scenes import generate_scenes
    for scene in generate_scenes(20, 11, sample.x_test, sample.y_test, profile="wild"):
        _read_from(reader, scene.image)


@pytest.mark.parametrize(("seed", "index", "text"), [(1, 162, "2"), (8, 101, "71177082")])
def test_the_rim_of_a_sheet_on_a_dark_table_is_not_read_as_a_zero(
        reader: DigitReader, sample: MnistData, seed: int, index: int, text: str) -> None:
    # two wild tuning and check scenes: a bright sheet on a dark table, where the light-ink
    # side of the polarity vote sees only the sheet's rim, a ring that read as a sure "0"
    # in place of the number written on the sheet
    from digitedge.benchmarks.scenes import generate_scene
    scene = generate_scene(np.random.default_rng([seed, index]), sample.x_test,
                           sample.y_test, "wild")
    assert scene.text == text
    assert reader.read(scene.image).text == text
