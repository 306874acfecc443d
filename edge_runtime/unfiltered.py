"""Read a candidate again from the image before its median filter.

The reader median-filters the whole frame before thresholding (`preprocess.denoise`): it is
what keeps sensor noise and paper grain from turning into ink. On a small, soft digit the
same 3x3 filter closes narrow gaps and fills loops (a 4's open top, a 0's hole: in a camera
round trip of MNIST digits 12-18 px tall, 97.4% read right without it, 92.9% with it).
Once a candidate has been found, noise can no longer make new blobs, so its own region,
grown by two pixels, is thresholded again on the unfiltered image at the frame's ink level.
A light Gaussian (`SIGMA`) replaces the median there: it tames single-pixel noise without
closing gaps.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.edge_runtime.blobs import drop_specks
from digitedge.edge_runtime.preprocess import deviation, ink_strength

GROW = 2
"""px: how far around a candidate its unfiltered ink may reach (1 and 3 measured worse)."""

SIGMA = 0.6
"""px: Gaussian smoothing of the unfiltered frame (0.4 and 0.8 read the tuning scenes worse)."""


def smoothed(gray: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """The working image lightly smoothed instead of median-filtered (once per frame)."""
    return cv2.GaussianBlur(gray, (0, 0), sigma) if sigma > 0 else gray


def unfiltered_mask(smooth: np.ndarray, background: np.ndarray, own: np.ndarray,
                    dark_ink: bool, level: int, grow: int = GROW,
                    min_speck: int = 4) -> np.ndarray | None:
    """The candidate `own` thresholded on the unfiltered image, or None if nothing is left.

    Args:
        smooth, background: uint8 `smoothed` working image and the paper brightness
            (`InkImage.background`), both over the candidate's box grown by `grow` px on
            every side (pad the frame first so that a box at its edge still fits).
        own: bool, the candidate's pixels in its box (without the margin).
        dark_ink: the frame's polarity.
        level: the ink threshold in strength units (`InkImage.threshold`).
        grow: the region read is `own` dilated by this many px.
        min_speck: ink pieces smaller than this many pixels are dropped.
    """
    region = cv2.dilate(np.pad(own, grow).astype(np.uint8),
                        np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
    strength = ink_strength(deviation(smooth, background), background, dark_ink)
    mask = drop_specks((strength >= level) & region, min_speck)
    return mask if mask.any() else None
