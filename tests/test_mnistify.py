"""MNIST-style normalisation: 20x20 fit, centre of mass at (14, 14), stroke width."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitedge.edge_runtime.mnistify import (
    MNIST_STROKE,
    center_of_mass_shift,
    mnistify,
    mnistify_batch,
    stroke_width,
)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    m = cv2.moments(img.astype(np.float32))
    return m["m10"] / m["m00"], m["m01"] / m["m00"]


def seven(h: int, w: int, thickness: int) -> np.ndarray:
    """A '7' in a box of h x w: heavy top-right mass, so its centre of mass is off-centre."""
    mask = np.zeros((h + 20, w + 20), np.uint8)
    cv2.line(mask, (10, 10), (10 + w, 10), 255, thickness)
    cv2.line(mask, (10 + w, 10), (10 + w // 3, 10 + h), 255, thickness)
    return mask


@pytest.mark.parametrize(("h", "w", "thickness"), [(200, 120, 20), (30, 20, 2), (60, 200, 6)])
def test_centre_of_mass_lands_on_14_14(h: int, w: int, thickness: int) -> None:
    out = mnistify(seven(h, w, thickness))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    cx, cy = centre_of_mass(out)
    assert abs(cx - 14) < 0.6 and abs(cy - 14) < 0.6


def test_fits_in_20x20_keeping_the_aspect_ratio() -> None:
    tall = np.zeros((100, 100), np.uint8)
    tall[10:90, 45:65] = 255  # a bar 80 tall, 20 wide: a '1'
    out = mnistify(tall, stroke=None)
    ys, xs = np.nonzero(out > 0)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert height in (20, 21)  # 20 rows, plus one when the sub-pixel shift straddles
    assert 4 <= width <= 7  # 20 * 20/80 = 5 wide, not stretched to 20


def test_stroke_width_is_brought_near_mnist() -> None:
    thin = mnistify(seven(200, 120, 3))  # 3 px at 200 px high: a hairline at 28x28
    thick = mnistify(seven(60, 40, 18))  # a marker pen
    for img in (thin, thick):
        up = cv2.resize(img, (112, 112), interpolation=cv2.INTER_LINEAR)
        assert 0.6 * MNIST_STROKE < stroke_width(up >= 128) / 4 < 1.6 * MNIST_STROKE


def test_stroke_width_measures_a_bar() -> None:
    bar = np.zeros((100, 100), np.uint8)
    bar[10:90, 40:50] = 255
    assert stroke_width(bar) == pytest.approx(10, rel=0.15)


def test_centre_shift_of_an_empty_image_is_a_no_op() -> None:
    empty = np.zeros((28, 28), np.uint8)
    assert not center_of_mass_shift(empty).any()
    assert not mnistify(np.zeros((5, 5), np.uint8)).any()


def test_batch_shape() -> None:
    assert mnistify_batch([]).shape == (0, 28, 28)
    assert mnistify_batch([seven(40, 30, 4)] * 3).shape == (3, 28, 28)


def test_scraps_that_thinning_would_erase_do_not_crash() -> None:
    # a tall, nearly empty mask (two scraps far apart): matching the stroke width erases
    # it at the canonical scale, which must not fail
    mask = np.zeros((359, 8), np.uint8)
    mask[0:9, 0] = 255
    mask[357, 6] = mask[358, 7] = 255
    out = mnistify(mask)
    assert out.shape == (28, 28) and out.dtype == np.uint8
