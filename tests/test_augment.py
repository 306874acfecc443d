"""The "reader" augmentation: a camera round trip that ends in the reader's own mnistify."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest

from digitedge.edge_runtime.mnistify import FIT_SIZE, MNIST_SIZE, stroke_width, tight_crop
from digitedge.train import augment, roundtrip
from digitedge.train.data import MnistData


def _centre_offset(image: np.ndarray) -> float:
    """Distance (px) of the image's centre of mass from the MNIST centre (14, 14)."""
    m = cv2.moments(image.astype(np.float32))
    centre = MNIST_SIZE / 2
    return float(np.hypot(m["m10"] / m["m00"] - centre, m["m01"] / m["m00"] - centre))


def test_round_trip_keeps_shape_dtype_and_input(sample: MnistData) -> None:
    images = sample.x_train[:100]
    before = images.copy()
    out = roundtrip.camera_round_trip(images, np.random.default_rng(0), prob=1.0)
    assert out.shape == images.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(images, before)
    assert np.mean(np.any(out != images, axis=(1, 2))) > 0.9
    same = roundtrip.camera_round_trip(images, np.random.default_rng(0), prob=0.0)
    np.testing.assert_array_equal(same, images)


def test_round_trip_repeats_for_a_seed(sample: MnistData) -> None:
    images = sample.x_train[:64]
    first = roundtrip.camera_round_trip(images, np.random.default_rng(3), prob=0.5)
    again = roundtrip.camera_round_trip(images, np.random.default_rng(3), prob=0.5)
    other = roundtrip.camera_round_trip(images, np.random.default_rng(4), prob=0.5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_round_trip_output_looks_like_mnistify_output(sample: MnistData) -> None:
    images = sample.x_train[:150]
    out = roundtrip.camera_round_trip(images, np.random.default_rng(1), prob=1.0)
    changed = out[np.any(out != images, axis=(1, 2))]
    # mnistify puts the centre of mass on (14, 14) to a fraction of a pixel (raw MNIST only
    # to ~0.4 px, it was shifted by whole pixels) and fits the longer side into ~20 px.
    offsets = np.array([_centre_offset(im) for im in changed])
    assert np.median(offsets) < 0.1 and offsets.max() < 0.3
    sides = np.array([max(tight_crop(im).shape) for im in changed])
    assert np.all((sides >= FIT_SIZE - 1) & (sides <= FIT_SIZE + 2))
    # Re-rasterised binary masks: solid ink in the middle of the stroke, strokes near 2.2 px.
    assert np.median([im.max() for im in changed]) == 255
    widths = np.array([stroke_width(im >= 128) for im in changed])
    assert 1.8 < np.median(widths) < 3.5


@pytest.mark.parametrize("height", [12.0, 40.0])
def test_camera_mask_has_the_drawn_height(sample: MnistData, height: float) -> None:
    rt = dataclasses.replace(roundtrip.RoundTrip(), min_height=height, max_height=height)
    rng = np.random.default_rng(2)
    heights = [tight_crop(roundtrip.camera_mask(im, rng, rt)).shape[0]
               for im in sample.x_train[:30]]
    assert np.median(heights) == pytest.approx(height, rel=0.15)


def test_camera_mask_is_binary_and_free_of_specks(sample: MnistData) -> None:
    rt = dataclasses.replace(roundtrip.RoundTrip(), min_height=30.0, max_noise=0.2,
                             min_threshold=0.3, max_threshold=0.3)
    rng = np.random.default_rng(5)
    for image in sample.x_train[:20]:
        mask = roundtrip.camera_mask(image, rng, rt)
        assert set(np.unique(mask)) <= {0, 255}
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        assert stats[1:, cv2.CC_STAT_AREA].min() >= roundtrip.MIN_AREA


def test_blank_digit_stays_blank() -> None:
    blank = np.zeros((3, 28, 28), np.uint8)
    out = roundtrip.camera_round_trip(blank, np.random.default_rng(0), prob=1.0)
    np.testing.assert_array_equal(out, blank)


def test_reader_preset_mixes_raw_and_round_tripped_digits(sample: MnistData) -> None:
    params = augment.get_params("reader")
    assert params is not None and 0.0 < params.roundtrip_prob < 1.0
    json.dumps(params.to_dict())  # train_metrics.json records the nested ranges
    images = sample.x_train[:300]
    out = augment.augment_batch(images, np.random.default_rng(0), params)
    assert out.shape == images.shape and out.dtype == np.uint8
    # Round-tripped digits are centred by mass to sub-pixel precision; raw ones mostly not.
    centred = np.mean([_centre_offset(im) < 0.1 for im in out])
    assert abs(centred - params.roundtrip_prob) < 0.15
    # Presets without the step never call it.
    plain = augment.augment_batch(images, np.random.default_rng(0),
                                  augment.get_params("shift-rotate"))
    assert np.mean([_centre_offset(im) < 0.1 for im in plain]) < 0.2
