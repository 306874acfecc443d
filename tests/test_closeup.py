"""Close-ups and tight crops: one digit filling the frame reads as it would on a page."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitedge.benchmarks.closeups import FRAMINGS
from digitedge.benchmarks.scenes import iter_scenes
from digitedge.edge_runtime.closeup import (
    add_margin,
    close_digits,
    closer_reading,
    large_shape,
    unpad,
)
from digitedge.edge_runtime.reader import DigitReader, ReaderConfig
from digitedge.edge_runtime.types import Box, Digit, Reading
from digitedge.train.data import MnistData

N = 30  # digits per framing


@pytest.fixture(scope="module")
def readers() -> tuple[DigitReader, DigitReader]:
    """The default reader and one without the close-up reading, on the same model."""
    on = DigitReader()
    return on, DigitReader(on.model, config=ReaderConfig(closeup=False))


FILLED = "photo, digit's 20-px box filling 280x280"
TIGHT = "photo, cut along the ink (8x)"


@pytest.mark.parametrize("framing", [FILLED, TIGHT])
def test_a_digit_filling_the_frame_reads_right(readers: tuple[DigitReader, DigitReader],
                                               sample: MnistData, framing: str) -> None:
    # Measured on 100 digits: 94% and 89% right, against 58% and 2% without the close-up
    # reading (the digit was taken for the page's edge, its thick strokes for paper).
    on, off = readers
    make = FRAMINGS[framing]
    images = [make(sample.x_test[i], i) for i in range(N)]
    truth = [str(int(sample.y_test[i])) for i in range(N)]
    right = sum(on.read(im).text == t for im, t in zip(images, truth, strict=True))
    before = sum(off.read(im).text == t for im, t in zip(images, truth, strict=True))
    assert right >= 0.8 * N
    assert right >= before + 0.15 * N  # the framing really is one the page reading fails on


def test_close_up_boxes_lie_on_the_original_frame(readers: tuple[DigitReader, DigitReader],
                                                  sample: MnistData) -> None:
    image = FRAMINGS[TIGHT](sample.x_test[0], 0)
    reading = readers[0].read(image)
    assert reading.text == str(int(sample.y_test[0]))
    (digit,) = reading.digits
    h, w = image.shape
    assert digit.box.x >= 0 and digit.box.y >= 0
    assert digit.box.x + digit.box.w <= w and digit.box.y + digit.box.h <= h
    assert digit.box.h >= 0.9 * h  # the whole digit, not a fragment


def test_the_margin_is_the_paper_colour() -> None:
    gray = np.full((40, 30), 190, np.uint8)
    gray[5:35, 12:16] = 20  # a "1" touching nothing
    gray[0, 13] = 20  # ...and a stroke reaching the border at one point
    padded, pad, scale = add_margin(gray)
    assert pad == 20 and padded.shape == (80, 70) and scale == 1.0  # small: kept whole
    assert padded[0, 0] == 190 and padded[pad:-pad, pad:-pad].tolist() == gray.tolist()
    # a camera frame is shrunk back to its own size: the second reading costs about the same
    padded, pad, scale = add_margin(np.full((480, 640), 190, np.uint8))
    assert pad == 320 and scale == 0.5 and padded.shape == (560, 640)


def test_unpad_moves_boxes_back_and_clips_them() -> None:
    reading = Reading("7", (Digit(7, 0.99, Box(15, 18, 40, 30), 0),))
    (d,) = unpad(reading, 20, 1.0, (30, 30)).digits
    assert d.box == Box(0, 0, 30, 28)
    (d,) = unpad(reading, 10, 0.5, (60, 60)).digits  # read at half size
    assert d.box == Box(20, 26, 40, 34)


def _digit(box: Box, confidence: float = 0.99) -> Digit:
    return Digit(1, confidence, box, 0)


def test_the_margined_reading_must_hold_what_the_first_found() -> None:
    shape = (100, 100)
    first = Reading("11", (_digit(Box(10, 10, 20, 30), 0.7), _digit(Box(40, 60, 10, 30), 0.7)))
    whole = Reading("4", (_digit(Box(5, 5, 60, 90)),))
    elsewhere = Reading("1", (_digit(Box(90, 0, 8, 90)),))  # a table's edge at the border
    small = Reading("4", (_digit(Box(5, 5, 20, 20)),))  # not a close-up's size
    assert closer_reading(whole, first, shape, shaped=False)
    assert not closer_reading(elsewhere, first, shape, shaped=True)
    assert not closer_reading(small, Reading("", ()), shape, shaped=True)
    assert not closer_reading(Reading("", ()), first, shape, shaped=True)
    unsure = Reading("4", (_digit(Box(5, 5, 60, 90), 0.5),))
    assert not closer_reading(unsure, first, shape, shaped=True)
    # after an empty first reading: with a close-up's shape in the frame, or few sure digits
    assert closer_reading(whole, Reading("", ()), shape, shaped=True)
    assert closer_reading(whole, Reading("", ()), shape, shaped=False)  # one sure digit
    assert not closer_reading(unsure, Reading("", ()), shape, shaped=False)
    many = Reading("111", tuple(_digit(Box(x, 5, 20, 90)) for x in (0, 30, 60)))
    assert not closer_reading(many, Reading("", ()), shape, shaped=False)


def test_pages_are_not_taken_for_close_ups(sample: MnistData) -> None:
    # A page of writing seldom has a stroke-like shape of a close-up's size, so it is read
    # once: the margined second reading is for close-ups, not a cost on every frame
    # (measured: 7 of 200 basic and 6 of 200 wild scenes of seed 11; 3 of these 40).
    scenes = list(iter_scenes(40, 11, sample.x_test, sample.y_test, profile="basic"))
    assert sum(large_shape(cv2.cvtColor(s.image, cv2.COLOR_BGR2GRAY)) for s in scenes) <= 4
    crops = [FRAMINGS[TIGHT](sample.x_test[i], i) for i in range(10)]
    assert sum(large_shape(c) for c in crops) >= 8


def test_an_empty_or_a_close_up_sized_reading_is_worth_a_second_look() -> None:
    assert close_digits(Reading("", ()), (50, 50))
    assert close_digits(Reading("1", (_digit(Box(0, 0, 5, 30)),)), (50, 50))
    assert not close_digits(Reading("1", (_digit(Box(0, 0, 5, 10)),)), (50, 50))


def test_a_failed_polarity_retry_keeps_the_votes_side(readers: tuple[DigitReader, DigitReader],
                                                      sample: MnistData) -> None:
    # Dark digits filling the frame: the vote is close and neither side finds a digit on
    # the page, so the other side's empty result must not replace the vote's dark ink
    # (the close-up test then looks at the right ink). Measured on these six: all dark
    # now, all "light" before.
    images = [FRAMINGS[FILLED](sample.x_test[i], i) for i in (5, 7, 11, 16, 17, 29)]
    assert all(readers[1].prepare(image).ink.dark_ink for image in images)


def test_a_blank_page_with_light_falling_off_reads_blank(
        readers: tuple[DigitReader, DigitReader]) -> None:
    # These 5 of 100 blank pages (benchmarks/ruled.py, plain paper) read "1" at 15f5965:
    # nothing departs from the paper on either side (a polarity "margin" of 0), so both
    # polarity retries read the page as light ink, and on white paper the close-up margin's
    # faint step passed for chalk. No vote at all now means a blank page.
    from digitedge.benchmarks.ruled import PAPERS, page

    for seed in (14, 36, 51, 73, 86):
        assert readers[0].read(page([], PAPERS["plain paper"], seed)).text == ""


def test_a_blank_page_with_some_departure_reads_blank(
        readers: tuple[DigitReader, DigitReader]) -> None:
    # These 3 of 300 blank pages (benchmarks/marks.py, "no mark") read "1" at 0.92 before
    # `has_ink`: the polarity vote was not empty, so the page went on to the close-up
    # reading, where the margin of one colour made the brighter side of the light's slope
    # a step as tall as the frame. Nothing on them departs from the paper by the least ink
    # contrast, so there is nothing to read up close.
    from digitedge.benchmarks.marks import page
    from digitedge.edge_runtime.closeup import has_ink

    for seed in (23, 198, 231):
        blank = page([], None, seed)
        assert not has_ink(cv2.cvtColor(blank, cv2.COLOR_BGR2GRAY), 30)
        assert readers[0].read(blank).text == ""
    stroke = page([], None, 23)
    cv2.line(stroke, (320, 100), (330, 380), (150, 150, 150), 12)  # a close-up's faint "1"
    assert has_ink(cv2.cvtColor(stroke, cv2.COLOR_BGR2GRAY), 30)
