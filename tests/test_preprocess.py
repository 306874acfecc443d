"""Preprocessing on small synthetic arrays: polarity, uneven light, noise, closing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitedge.edge_runtime.preprocess import (
    binarize,
    close_strokes,
    fine_detail,
    hysteresis,
    limit_size,
    local_floor,
    surround,
    to_gray,
    working_image,
)
from digitedge.edge_runtime.rims import edge_strips


def ring_image(paper: int, ink: int, shape: tuple[int, int] = (120, 160)) -> np.ndarray:
    """A page with a drawn ring (a '0') and a bar (a '1'), strokes 5 px wide."""
    img = np.full(shape, paper, np.uint8)
    cv2.ellipse(img, (50, 60), (18, 28), 0, 0, 360, ink, 5)
    cv2.line(img, (110, 32), (110, 88), ink, 5)
    return img


def truth_mask(shape: tuple[int, int] = (120, 160)) -> np.ndarray:
    return ring_image(0, 255, shape) > 0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return float((a & b).sum() / max(1, (a | b).sum()))


@pytest.mark.parametrize(("paper", "ink", "dark"), [(220, 30, True), (40, 210, False)])
def test_polarity_is_detected_and_ink_found(paper: int, ink: int, dark: bool) -> None:
    result = binarize(ring_image(paper, ink))
    assert result.dark_ink is dark
    assert iou(result.mask, truth_mask()) > 0.8


def test_threshold_survives_a_strong_lighting_gradient(rng: np.random.Generator) -> None:
    img = ring_image(200, 100).astype(np.float32)
    # light falls from 100% on the left to 30% on the right: the right-hand paper is darker
    # than the left-hand ink, so no single global threshold on raw pixels can work
    img *= np.linspace(1.0, 0.3, img.shape[1], dtype=np.float32)[None, :]
    img += rng.normal(0, 4, img.shape)
    gray = np.clip(img, 0, 255).astype(np.uint8)
    assert gray[60, 150] < gray[60, 33]  # paper on the right is darker than ink on the left
    result = binarize(gray)
    assert result.dark_ink
    assert iou(result.mask, truth_mask()) > 0.75


def test_blank_noisy_page_has_no_ink(rng: np.random.Generator) -> None:
    gray = np.clip(rng.normal(180, 6, (120, 160)), 0, 255).astype(np.uint8)
    assert binarize(gray).mask.sum() == 0


def test_hysteresis_keeps_faint_ends_of_strong_strokes_only() -> None:
    strength = np.zeros((20, 40), np.uint8)
    strength[5, 2:12] = 60  # faint stroke ...
    strength[5, 12:15] = 200  # ... attached to a strong core
    strength[15, 20:35] = 60  # faint and alone: noise
    mask = hysteresis(strength, low=40, high=150)
    assert mask[5, 2:15].all()
    assert not mask[15].any()


def test_closing_bridges_a_one_pixel_gap() -> None:
    mask = np.zeros((20, 20), np.uint8)
    mask[5:15, 8:11] = 255
    mask[10, 8:11] = 0
    assert close_strokes(mask, 3)[10, 9] == 255


def test_to_gray_accepts_gray_bgr_and_bgra() -> None:
    bgr = np.zeros((4, 5, 3), np.uint8)
    assert to_gray(bgr).shape == (4, 5)
    assert to_gray(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5)
    assert to_gray(bgr[:, :, 0]).shape == (4, 5)
    with pytest.raises(ValueError):
        to_gray(np.zeros((2, 2, 2), np.uint8))


def test_limit_size_shrinks_only_large_images() -> None:
    small, scale = limit_size(np.zeros((100, 80), np.uint8), 200)
    assert small.shape == (100, 80) and scale == 1.0
    shrunk, scale = limit_size(np.zeros((1000, 400), np.uint8), 200)
    assert shrunk.shape == (200, 80) and scale == pytest.approx(0.2)


def sheet_on_table(rng: np.random.Generator, ink: int) -> np.ndarray:
    """A bright sheet on a dark, grainy table, with a thin pen '0' and '1' on the sheet."""
    img = rng.normal(45, 10, (240, 320)).clip(0, 255).astype(np.uint8)  # the table
    img[40:200, 60:260] = 200
    cv2.ellipse(img, (130, 120), (14, 22), 0, 0, 360, ink, 2)
    cv2.line(img, (190, 98), (190, 142), ink, 2)
    return img


def test_faint_pen_on_a_sheet_lying_on_a_dark_table_is_found(
        rng: np.random.Generator) -> None:
    # the table around the sheet must not raise the threshold above the pen strokes
    # (polarity forced: choosing it on such a frame is a separate, known-weak decision)
    result = binarize(sheet_on_table(rng, ink=150), dark_ink=True)
    strokes = sheet_on_table(np.random.default_rng(0), ink=0) == 0
    assert (result.mask[strokes] > 0).mean() > 0.7
    assert result.surround is not None and not result.surround[120, 130]


def test_surround_is_what_touches_the_border_or_spans_the_frame() -> None:
    mask = np.zeros((100, 100), bool)
    mask[0:10, :] = True  # a band along the top edge
    mask[40:60, 40:50] = True  # a digit-sized blob inside
    mask[20:95, 15:17] = True  # a long line, not touching the border, 75% of the height
    region = surround(mask)
    assert region[5, 50] and region[50, 16]
    assert not region[50, 45]


def test_local_floor_damps_strength_only_where_the_surface_is_darker() -> None:
    strength = np.full((40, 80), 100, np.uint8)
    background = np.full((40, 80), 200, np.uint8)
    background[:, 40:] = 40  # a dark table on the right
    out = local_floor(strength, background, True, min_dev=20.0, floor=30.0, min_contrast=30.0)
    assert (out[:, :32] == 100).all()  # the factor is smooth: the boundary is a ramp
    assert (out[:, 48:] < 60).all()
    assert local_floor(strength, np.full((40, 80), 200, np.uint8), True, min_dev=20.0,
                       floor=30.0, min_contrast=30.0) is strength  # nothing darker: untouched


@pytest.mark.parametrize("dark_ink", [True, False])
def test_a_strip_along_a_step_is_an_edge_but_a_pen_stroke_is_not(dark_ink: bool) -> None:
    # paper on the left, table (darker; for chalk: a lighter frame) from x = 200 on
    gray = np.full((240, 320), 200, np.uint8)
    gray[:, 200:] = 90
    mask = np.zeros(gray.shape, np.uint8)
    mask[40:200, 200:212] = 255  # the strip thresholding leaves along the step
    mask[60:120, 80:86] = 255  # a "1" written on the paper, as long as a digit
    mask[140:150, 60:140] = 255  # an underline: long and thin, paper on both sides
    if not dark_ink:
        gray = 255 - gray
    edges = edge_strips(mask, gray, dark_ink)
    assert edges[40:200, 200:212].all()
    assert not edges[:, :190].any()


@pytest.mark.parametrize("dark_ink", [True, False])
def test_the_bent_rim_of_a_shadow_is_an_edge_but_a_big_seven_is_not(dark_ink: bool) -> None:
    # a shadow over the page's top-left: thresholding leaves an L along its two inner edges,
    # a box neither long and thin nor narrow; a big "7" is as sparse but has paper all round
    gray = np.full((240, 320), 200, np.uint8)
    gray[:120, :150] = 90
    mask = np.zeros(gray.shape, np.uint8)
    mask[10:120, 150:158] = 255  # the shadow's right edge
    mask[120:128, 10:158] = 255  # its bottom edge, joined to the first at the corner
    cv2.polylines(mask, [np.array([[200, 40], [290, 40], [230, 200]])], False, 255, 6)
    if not dark_ink:
        gray = 255 - gray
    edges = edge_strips(mask, gray, dark_ink)
    assert edges[10:120, 150:158].all() and edges[120:128, 10:158].all()
    assert not edges[:, 180:].any()


@pytest.mark.parametrize("dark_ink", [True, False])
def test_dashes_along_a_step_are_edges_but_short_strokes_are_not(dark_ink: bool) -> None:
    # a wooden table's grain breaks the strip along a sheet's edge into short dashes, each
    # as long as a small "1"; a "1" and a "7" written on the paper must stay
    rng = np.random.default_rng(0)
    gray = rng.normal(200, 3, (240, 320)).clip(0, 255).astype(np.uint8)
    gray[:, :60] = rng.normal(120, 3, (240, 60)).clip(0, 255).astype(np.uint8)
    mask = np.zeros(gray.shape, np.uint8)
    for y in (20, 70, 130, 180):
        mask[y:y + 24, 55:64] = 255  # dashes astride the step at x = 60
    mask[60:90, 120:125] = 255  # a "1" on the paper, as long as a dash
    cv2.polylines(mask, [np.array([[160, 60], [180, 60], [168, 92]])], False, 255, 3)  # a 7
    if not dark_ink:
        gray = 255 - gray
    edges = edge_strips(mask, gray, dark_ink)
    for y in (20, 70, 130, 180):
        assert edges[y:y + 24, 55:64].all()
    assert not edges[:, 100:].any()
    # only the side test catches them: each dash is too short for the long-strip test
    assert not edge_strips(mask, gray, dark_ink, min_side_step=1.0).any()


def _page(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A noisy sheet with pen strokes, sharp at its own pixel scale."""
    rng = np.random.default_rng(seed)
    page = np.full(size, 200, np.uint8)
    for _ in range(12):
        x, y = int(rng.integers(20, size[1] - 60)), int(rng.integers(20, size[0] - 60))
        cv2.line(page, (x, y), (x + 40, y + 50), 40, 4)
    noise = rng.normal(0, 6, size)
    return np.clip(page + noise, 0, 255).astype(np.uint8)


def test_fine_detail_tells_a_sharp_frame_from_an_upscaled_one() -> None:
    sharp = _page((960, 1280))
    soft = cv2.resize(_page((480, 640)), (1280, 960), interpolation=cv2.INTER_CUBIC)
    assert fine_detail(sharp) > 0.9
    assert fine_detail(soft) < 0.65


def test_a_soft_frame_is_worked_at_the_soft_side_and_a_sharp_one_is_not() -> None:
    soft = cv2.resize(_page((480, 640)), (1920, 1440), interpolation=cv2.INTER_CUBIC)
    work, scale = working_image(soft, 1280, 640, 0.7)
    assert work.shape == (480, 640) and scale == pytest.approx(1 / 3)
    work, scale = working_image(soft, 1280, 0, 0.7)  # the soft step turned off
    assert work.shape == (960, 1280) and scale == pytest.approx(2 / 3)
    sharp = _page((960, 1280))
    work, scale = working_image(sharp, 1280, 640, 0.7)
    assert work.shape == (960, 1280) and scale == 1.0
    small = _page((480, 640))
    assert working_image(small, 1280, 640, 0.7)[0] is small  # nothing to shrink
