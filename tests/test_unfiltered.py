"""The second reading of small candidates from the image before its median filter."""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.edge_runtime.preprocess import binarize
from digitedge.edge_runtime.reader import DigitReader, ReaderConfig
from digitedge.edge_runtime.types import Box
from digitedge.edge_runtime.unfiltered import GROW, unfiltered_mask
from digitedge.train.outliers import has_hole


def small_soft_zeros(seed: int, centres: tuple[int, ...] = (30,)) -> np.ndarray:
    """Small 0s (15 px tall, a 2 px pen) photographed slightly out of focus on paper."""
    ink = np.zeros((60, 60 * len(centres)), np.uint8)
    for cx in centres:
        cv2.ellipse(ink, (cx, 30), (3, 7), 0, 0, 360, 255, 2, cv2.LINE_AA)
    photo = cv2.GaussianBlur(220 - ink.astype(np.float32) * 0.6, (0, 0), 1.2)
    noise = np.random.default_rng(seed).normal(0, 4, photo.shape)
    return np.clip(photo + noise, 0, 255).astype(np.uint8)


def _unfiltered(gray: np.ndarray, own: np.ndarray) -> np.ndarray | None:
    ink = binarize(gray)
    whole = Box(0, 0, gray.shape[1], gray.shape[0])
    mask = unfiltered_mask(gray, ink.background, whole, own, ink.dark_ink, ink.threshold)
    return None if mask is None else mask[GROW:-GROW, GROW:-GROW]


def test_the_unfiltered_mask_keeps_the_loop_the_median_filter_fills() -> None:
    kept_by_median = kept_unfiltered = 0
    for seed in range(10):
        gray = small_soft_zeros(seed)
        mask = binarize(gray).mask > 0
        kept_by_median += has_hole(mask.astype(np.uint8) * 255)
        kept_unfiltered += has_hole(_unfiltered(gray, mask).astype(np.uint8) * 255)
    assert kept_unfiltered == 10
    assert kept_by_median <= 5, f"the median-filtered mask kept the hole {kept_by_median}/10"


def test_the_unfiltered_mask_stays_near_its_candidate() -> None:
    gray = small_soft_zeros(0, centres=(30, 60))
    mask = binarize(gray).mask > 0
    left = mask.copy()
    left[:, 45:] = False  # the candidate: the left 0 only
    again = _unfiltered(gray, left)
    assert again is not None and again[:, :45].any()
    assert not again[:, 45:].any(), "ink of the neighbouring 0 was taken in"
    blank = np.full((60, 60), 220, np.uint8)
    assert _unfiltered(blank, np.zeros((60, 60), bool)) is None


def test_the_reader_reads_small_candidates_again_from_the_unfiltered_image() -> None:
    gray = small_soft_zeros(0, centres=(30, 90, 150))
    on = DigitReader()
    off = DigitReader(on.model, config=ReaderConfig(unfiltered=False))
    with_it, without = on.prepare(gray), off.prepare(gray)
    assert len(with_it.crops) == len(without.crops) == 3
    assert not any(has_hole(crop) for crop in with_it.crops)  # the median filled them
    assert len(with_it.rereads) == len(without.rereads) + 3
    new = [(k, crop) for k, crop in with_it.rereads
           if not any(np.array_equal(crop, old) for _, old in without.rereads)]
    assert {k for k, crop in new if has_hole(crop)} == {0, 1, 2}
    assert on.read(gray).text == "000"
