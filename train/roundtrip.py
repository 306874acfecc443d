"""Camera round trip: what a digit looks like after the reader has photographed and re-cut it.

The device reader never gives the model an MNIST digit: it thresholds a photo into a binary
ink mask, cuts each digit's mask out and re-rasterises it with `mnistify` (fit 20x20, stroke
near 2.2 px, centre of mass at 14,14). Small, soft, noisy digits lose their grey edges, get
blocky outlines and closed-up loops. Training on that re-rasterised form teaches the model the
shapes it will actually see. Only generic camera physics is simulated here (sampling at a
random size, optical blur, sensor noise, uneven light, a contrast-dependent threshold), never
the benchmark's scene generator, so the scene benchmark stays an independent test.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitedge.edge_runtime.blobs import drop_specks
from digitedge.edge_runtime.mnistify import MNIST_STROKE, mnistify

SIZE = 28
MNIST_BOX = 20.0  # an MNIST digit fills 20 of its 28 pixels, so height h means scale h / 20
MIN_AREA = 3  # connected ink components smaller than this are dropped, like the reader's specks


@dataclass(frozen=True)
class RoundTrip:
    """Ranges the per-digit camera conditions are drawn from (uniform unless said otherwise)."""

    min_height: float = 10.0  # px, digit height in the photo; log-uniform, so small is common
    max_height: float = 48.0
    max_aspect: float = 0.12  # width / height changed by up to this (a slanted view)
    max_rel_blur: float = 1.4  # defocus sigma in MNIST pixels, i.e. it scales with the digit
    max_psf: float = 0.8  # camera pixels: lens + demosaicing blur that does not scale
    max_noise: float = 0.08  # sensor noise std as a fraction of the ink contrast
    max_shading: float = 0.3  # brightness ramp across the digit (uneven light), +- this
    min_threshold: float = 0.30  # threshold as a fraction of the digit's brightest ink
    max_threshold: float = 0.65
    # Chance of thinning or thickening the mask by one kernel step (a different pen). Kept low:
    # it is the step that most often makes a digit unreadable (label noise); 0.3, with an
    # elastic step in the preset, trained a CNN that hedged on real crops.
    morph_prob: float = 0.15


def _render(image: np.ndarray, height: float, aspect: float) -> np.ndarray:
    """The digit as the camera samples it: float32 ink 0-1 at `height` px, on a black margin."""
    scale = height / MNIST_BOX
    size = (max(3, round(SIZE * scale * aspect)), max(3, round(SIZE * scale)))
    # INTER_AREA integrates the ink over each sensor pixel; upsampling interpolates smoothly.
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(image, size, interpolation=interp).astype(np.float32) / 255.0
    margin = 6 + round(2 * scale)  # room for the blur to spread without touching the edge
    return cv2.copyMakeBorder(small, margin, margin, margin, margin, cv2.BORDER_CONSTANT, 0)


def _keep_components(mask: np.ndarray) -> np.ndarray:
    """Drop connected ink specks under MIN_AREA pixels (noise the reader also ignores)."""
    return np.where(drop_specks(mask, MIN_AREA), 255, 0).astype(np.uint8)


def camera_mask(image: np.ndarray, rng: np.random.Generator, rt: RoundTrip) -> np.ndarray:
    """One 28x28 digit -> the binary ink mask (0/255, camera size) a photo of it would give."""
    height = float(np.exp(rng.uniform(np.log(rt.min_height), np.log(rt.max_height))))
    aspect = 1.0 + rng.uniform(-rt.max_aspect, rt.max_aspect)
    canvas = _render(image, height, aspect)
    h, w = canvas.shape
    # Uneven light: a linear brightness ramp in a random direction over the digit.
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[-1:1:complex(h), -1:1:complex(w)].astype(np.float32)
    canvas *= 1.0 + rng.uniform(0, rt.max_shading) * (np.cos(angle) * xs + np.sin(angle) * ys)
    sigma = float(np.hypot(rng.uniform(0, rt.max_rel_blur) * height / MNIST_BOX,
                           rng.uniform(0, rt.max_psf)))
    if sigma > 0.2:
        canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
    peak = float(canvas.max())
    if peak <= 0:  # no ink: a threshold relative to it would turn pure noise into "ink"
        return np.zeros(canvas.shape, np.uint8)
    canvas += rng.normal(0.0, rng.uniform(0, rt.max_noise), canvas.shape).astype(np.float32)
    # The threshold follows the local contrast: a fraction of this digit's brightest ink.
    level = rng.uniform(rt.min_threshold, rt.max_threshold) * peak
    mask = np.where(canvas >= level, 255, 0).astype(np.uint8)
    mask = _keep_components(mask)
    if rng.random() < rt.morph_prob:
        mask = _morph(mask, thicker=rng.random() < 0.5, small=height < 24)
    return mask


def _morph(mask: np.ndarray, thicker: bool, small: bool) -> np.ndarray:
    """Thicken (dilate) or thin (erode) the mask by one step, as a different pen would.

    Thinning is kept only if it leaves the digit in no more pieces: eroding strokes that are
    already 1-2 px wide just cuts them, which is a threshold artefact, not a thinner pen.
    """
    kernel = np.ones((2, 2) if small or not thicker else (3, 3), np.uint8)
    if thicker:
        return cv2.dilate(mask, kernel)
    thinner = _keep_components(cv2.erode(mask, kernel))
    pieces = cv2.connectedComponents(mask, connectivity=8)[0]
    kept = thinner.any() and cv2.connectedComponents(thinner, connectivity=8)[0] <= pieces
    return thinner if kept else mask


def camera_round_trip(images: np.ndarray, rng: np.random.Generator, prob: float,
                      rt: RoundTrip | None = None) -> np.ndarray:
    """With chance `prob`, replace a digit by mnistify(its camera mask), the reader's input.

    Uses the reader's own `mnistify` (same stroke target) so training sees exactly the
    re-rasterisation the device applies. A digit whose mask comes out empty stays as it was.
    """
    rt = rt or RoundTrip()
    out = images.copy()
    for i in np.flatnonzero(rng.random(len(images)) < prob):
        mask = camera_mask(images[i], rng, rt)
        if mask.any():
            out[i] = mnistify(mask, stroke=MNIST_STROKE)
    return out
