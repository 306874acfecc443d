"""Training-time augmentation of MNIST digits (numpy + OpenCV), applied in the input pipeline.

Nothing here goes into the saved model: augmentation only changes which images the model sees
while it trains, so the float and int8 models stay plain classifiers of 28x28 raw pixels.
Every function takes and returns uint8 (N, 28, 28) batches (white digit on black, 0-255) and
draws its randomness from the `numpy.random.Generator` it is given, so a seed fixes the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from digitedge.errors import DigitEdgeError
from digitedge.train.roundtrip import RoundTrip, camera_round_trip

SIZE = 28
_CENTRE = (SIZE / 2 - 0.5, SIZE / 2 - 0.5)


@dataclass(frozen=True)
class AugmentParams:
    """How strongly one preset perturbs a digit; a zero probability or range turns a step off."""

    max_shift: float = 0.0  # pixels, uniform in [-max_shift, max_shift] along x and y
    max_rotate: float = 0.0  # degrees, uniform in [-max_rotate, max_rotate]
    max_scale: float = 0.0  # relative size change, uniform in [1 - max_scale, 1 + max_scale]
    max_shear: float = 0.0  # horizontal shear (slant: dx = shear * dy), uniform in +-max_shear
    thickness_prob: float = 0.0  # chance of a 2x2 dilation (thicker) or erosion (thinner) stroke
    blur_prob: float = 0.0  # chance of a Gaussian blur (defocus, resampling of a camera crop)
    max_blur_sigma: float = 1.0  # pixels; sigma uniform in [0.3, max_blur_sigma]
    elastic_prob: float = 0.0  # chance of an elastic distortion (hand-drawn stroke wobble)
    elastic_alpha: float = 34.0  # displacement strength of the distortion, pixels
    elastic_sigma: float = 4.0  # smoothness of the displacement field, pixels
    # Chance of replacing a digit by what the reader would cut from a photo of it (rendered
    # small, blurred, noisy, thresholded, re-rasterised by mnistify; see train/roundtrip.py).
    # Below 1 so raw MNIST digits are still seen and MNIST accuracy holds.
    roundtrip_prob: float = 0.0
    roundtrip: RoundTrip = field(default_factory=RoundTrip)  # camera ranges for that step

    def to_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values (round-trip ranges nested), for the metrics."""
        return asdict(self)


# Named presets; `digitedge train --augment NAME` picks one.
PRESETS: dict[str, AugmentParams | None] = {
    # The raw training digits, unchanged.
    "none": None,
    # Small affine changes: MNIST digits are size-normalized and centred by mass, so a digit
    # a little off-centre, tilted or resized is the main thing a plain MLP fails to generalize to.
    "shift-rotate": AugmentParams(max_shift=1.5, max_rotate=10.0, max_scale=0.08),
    # Digits cropped from camera frames after thresholding: stroke width depends on the pen,
    # distance and threshold; crops are softer (blur) and hand-drawn shapes vary (elastic).
    "camera": AugmentParams(
        max_shift=2.5, max_rotate=15.0, max_scale=0.15, thickness_prob=0.5,
        blur_prob=0.3, max_blur_sigma=1.0, elastic_prob=0.5, elastic_alpha=34.0,
        elastic_sigma=4.0,
    ),
    # What the device reader actually feeds the model: half the digits go through a camera
    # round trip (random size 10-48 px, blur, noise, threshold, mnistify), so the model learns
    # binary re-rasterised masks with blocky edges and closed loops as well as raw MNIST.
    # No elastic step: with it (0.3) and more mask morphology (0.3, now 0.15) the CNN hedged
    # (more low-confidence rejects on photos) and read scenes no better than shift-rotate.
    "reader": AugmentParams(
        max_shift=1.5, max_rotate=10.0, max_scale=0.08, roundtrip_prob=0.5,
    ),
    # "reader" plus slant: writers lean their digits by up to about 17 degrees either way
    # (shear 0.3), more than a rotation of 10 degrees covers, and a slanted digit is not a
    # rotated one (its verticals lean, its horizontals stay level).
    "reader-slant": AugmentParams(
        max_shift=1.5, max_rotate=10.0, max_scale=0.08, max_shear=0.3, roundtrip_prob=0.5,
    ),
}


def get_params(name: str) -> AugmentParams | None:
    """The preset called `name` (None for "none"); DigitEdgeError if there is no such preset."""
    if name not in PRESETS:
        raise DigitEdgeError(
            f"unknown augmentation {name!r}: choose one of {', '.join(PRESETS)}"
        )
    return PRESETS[name]


def _check_batch(images: np.ndarray) -> None:
    if images.ndim != 3 or images.shape[1:] != (SIZE, SIZE) or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 (N, 28, 28) images, got {images.dtype} {images.shape}")


def affine(images: np.ndarray, rng: np.random.Generator, max_shift: float,
           max_rotate: float, max_scale: float, max_shear: float = 0.0) -> np.ndarray:
    """Shift, rotate (about the centre), scale and slant each digit by its own random
    amounts (no shear drawn when `max_shear` is 0, so older presets see the same stream)."""
    _check_batch(images)
    n = len(images)
    angles = rng.uniform(-max_rotate, max_rotate, n)
    scales = rng.uniform(1.0 - max_scale, 1.0 + max_scale, n)
    shifts = rng.uniform(-max_shift, max_shift, (n, 2))
    shears = rng.uniform(-max_shear, max_shear, n) if max_shear > 0 else np.zeros(n)
    out = np.empty_like(images)
    for i in range(n):
        matrix = cv2.getRotationMatrix2D(_CENTRE, float(angles[i]), float(scales[i]))
        if shears[i]:
            # slant about the centre row: x' = x + shear * (y - cy), then rotate and scale
            slant = np.array([[1.0, shears[i], -shears[i] * _CENTRE[1]], [0.0, 1.0, 0.0],
                              [0.0, 0.0, 1.0]])
            matrix = matrix @ slant
        matrix[:, 2] += shifts[i]
        out[i] = cv2.warpAffine(images[i], matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out


def thickness(images: np.ndarray, rng: np.random.Generator, prob: float) -> np.ndarray:
    """With chance `prob`, make a digit's strokes thicker (dilate) or thinner (erode), 50/50."""
    _check_batch(images)
    kernel = np.ones((2, 2), np.uint8)
    out = images.copy()
    chosen = rng.random(len(images)) < prob
    thicker = rng.random(len(images)) < 0.5
    for i in np.flatnonzero(chosen):
        op = cv2.dilate if thicker[i] else cv2.erode
        changed = op(images[i], kernel)
        # Erosion can wipe out a thin digit entirely; keep the original rather than a blank.
        if changed.max() >= 128:
            out[i] = changed
    return out


def blur(images: np.ndarray, rng: np.random.Generator, prob: float,
         max_sigma: float) -> np.ndarray:
    """With chance `prob`, Gaussian-blur a digit with sigma uniform in [0.3, max_sigma]."""
    _check_batch(images)
    out = images.copy()
    chosen = np.flatnonzero(rng.random(len(images)) < prob)
    sigmas = rng.uniform(0.3, max(max_sigma, 0.3), len(images))
    for i in chosen:
        out[i] = cv2.GaussianBlur(images[i], (0, 0), float(sigmas[i]))
    return out


def elastic(images: np.ndarray, rng: np.random.Generator, prob: float, alpha: float,
            sigma: float) -> np.ndarray:
    """With chance `prob`, warp a digit by a smooth random displacement field (Simard 2003)."""
    _check_batch(images)
    out = images.copy()
    grid_y, grid_x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    for i in np.flatnonzero(rng.random(len(images)) < prob):
        field = rng.uniform(-1.0, 1.0, (2, SIZE, SIZE)).astype(np.float32)
        dx = cv2.GaussianBlur(field[0], (0, 0), sigma) * alpha
        dy = cv2.GaussianBlur(field[1], (0, 0), sigma) * alpha
        out[i] = cv2.remap(images[i], grid_x + dx, grid_y + dy, interpolation=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out


def augment_batch(images: np.ndarray, rng: np.random.Generator,
                  params: AugmentParams | None) -> np.ndarray:
    """Apply a preset's steps in camera order: shape (elastic, affine), stroke, blur, reader.

    The camera round trip comes last because it re-renders the (already reshaped) digit the
    way the reader would see it. Returns a new uint8 array of the same shape; `images` is
    never modified.
    """
    _check_batch(images)
    if params is None:
        return images.copy()
    out = images
    if params.elastic_prob > 0:
        out = elastic(out, rng, params.elastic_prob, params.elastic_alpha, params.elastic_sigma)
    if params.max_shift > 0 or params.max_rotate > 0 or params.max_scale > 0 \
            or params.max_shear > 0:
        out = affine(out, rng, params.max_shift, params.max_rotate, params.max_scale,
                     params.max_shear)
    if params.thickness_prob > 0:
        out = thickness(out, rng, params.thickness_prob)
    if params.blur_prob > 0:
        out = blur(out, rng, params.blur_prob, params.max_blur_sigma)
    if params.roundtrip_prob > 0:
        out = camera_round_trip(out, rng, params.roundtrip_prob, params.roundtrip)
    return out if out is not images else images.copy()
