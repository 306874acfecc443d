"""Outlier-exposure crops: shape, determinism, every kind present, reader-like, never a digit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitedge.edge_runtime.mnistify import mnistify
from digitedge.train.data import MnistData
from digitedge.train.outliers import (
    CLUTTER,
    KINDS,
    clutter,
    fragment,
    has_hole,
    make_outliers,
    make_outliers_with_kinds,
    one_like,
    touching_pair,
)

N = 140  # 20 of each kind


@pytest.fixture(scope="module")
def made(sample: MnistData):
    return make_outliers_with_kinds(sample.x_train[:500], np.random.default_rng(7), N)


def test_shape_dtype_and_ink(made) -> None:
    assert made.images.shape == (N, 28, 28)
    assert made.images.dtype == np.uint8
    assert made.kinds.shape == (N,)
    assert (made.images.reshape(N, -1).max(axis=1) >= 128).all(), "every outlier has ink"


def test_same_seed_same_outliers_other_seed_differs(sample: MnistData) -> None:
    x = sample.x_train[:200]
    a = make_outliers(x, np.random.default_rng(3), 30)
    b = make_outliers(x, np.random.default_rng(3), 30)
    c = make_outliers(x, np.random.default_rng(4), 30)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_every_kind_present_in_roughly_equal_thirds(made) -> None:
    counts = np.bincount(made.kinds, minlength=len(KINDS))
    assert (counts > 0).all(), dict(zip(KINDS, counts, strict=True))
    pair, fragment_count, rest = counts[0], counts[1], counts[2:].sum()
    assert abs(pair - N / 3) <= 1 and abs(fragment_count - N / 3) <= 1 and abs(rest - N / 3) <= 2


def test_outputs_look_like_reader_crops(made) -> None:
    """mnistify output: centre of mass at the centre, ink inside the 20x20 box plus margin."""
    for image in made.images:
        m = cv2.moments(image.astype(np.float32))
        cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
        assert abs(cx - 14) < 1.0 and abs(cy - 14) < 1.0
        ys, xs = np.nonzero(image >= 128)
        assert max(np.ptp(ys), np.ptp(xs)) <= 21


def test_no_outlier_reads_as_a_one_or_a_zero(made) -> None:
    """Vertical strokes (a "1") and loops (a "0") are digits, never outliers."""
    for image, kind in zip(made.images, made.kinds, strict=True):
        if KINDS[kind] == "pair":
            continue
        assert not one_like(image), KINDS[kind]
        if KINDS[kind] not in ("dots", "texture"):
            assert not has_hole(image), KINDS[kind]


def test_digit_filters_catch_the_digits_they_describe() -> None:
    vertical = np.zeros((40, 40), np.uint8)
    cv2.line(vertical, (20, 2), (22, 37), 255, 3)
    ring = np.zeros((40, 40), np.uint8)
    cv2.circle(ring, (20, 20), 12, 255, 3)
    horizontal = np.zeros((40, 40), np.uint8)
    cv2.line(horizontal, (2, 20), (37, 22), 255, 3)
    assert one_like(mnistify(vertical)) and not has_hole(mnistify(vertical))
    assert has_hole(mnistify(ring)) and not one_like(mnistify(ring))
    assert not one_like(mnistify(horizontal)) and not has_hole(mnistify(horizontal))


def test_touching_pair_is_one_blob(sample: MnistData, rng: np.random.Generator) -> None:
    for i in range(0, 40, 2):
        pair = touching_pair(sample.x_train[i], sample.x_train[i + 1], rng)
        assert pair.shape[1] > pair.shape[0] * 0.5
        grown = cv2.dilate(pair.astype(np.uint8), np.ones((3, 3), np.uint8))
        n, _ = cv2.connectedComponents(grown, connectivity=8)
        left = cv2.connectedComponents(
            cv2.dilate((sample.x_train[i] >= 128).astype(np.uint8), np.ones((3, 3), np.uint8))
        )[0]
        right = cv2.connectedComponents(
            cv2.dilate((sample.x_train[i + 1] >= 128).astype(np.uint8),
                       np.ones((3, 3), np.uint8))
        )[0]
        # Touching joins the two digits: fewer pieces than the two digits had apart.
        assert n - 1 < (left - 1) + (right - 1)


def test_fragment_is_one_piece_with_at_most_60_percent_of_the_ink(
        sample: MnistData, rng: np.random.Generator) -> None:
    made = 0
    for digit in sample.x_train[:60]:
        part = fragment(digit, rng)
        if part is None:
            continue
        made += 1
        assert cv2.connectedComponents(part, connectivity=8)[0] == 2
        assert part.sum() <= 0.6 * (digit >= 128).sum() + 1
    assert made >= 20


def test_unknown_clutter_kind_is_an_error(rng: np.random.Generator) -> None:
    assert all(clutter(kind, rng).any() for kind in CLUTTER)
    with pytest.raises(ValueError, match="unknown clutter kind"):
        clutter("ring", rng)


def test_bad_digit_array_is_an_error(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="uint8"):
        make_outliers(np.zeros((4, 28, 28), np.float32), rng, 3)
