"""Seam cuts through touching digits, and the choice of the best cutting."""

import cv2
import numpy as np

from digitedge.edge_runtime.recut import Entry, SeamGroup, recut
from digitedge.edge_runtime.seams import Piece, best_cutting, find_seams, pieces
from digitedge.edge_runtime.types import Box


def _two_rings(gap: int = 6) -> np.ndarray:
    """Two ring-shaped "0"s side by side, `gap` px apart, joined by a short smear at mid
    height (what blur or a bleeding pen leaves between neighbours)."""
    img = np.zeros((60, 100), np.uint8)
    cv2.ellipse(img, (25, 30), (18, 25), 0, 0, 360, 255, 3)
    cv2.ellipse(img, (25 + 36 + gap, 30), (18, 25), 0, 0, 360, 255, 3)
    img[29:32, 42:50] = 255
    return img


def test_seam_runs_between_touching_rings_not_through_them():
    img = _two_rings()
    own = img > 0
    seams = find_seams(img, own)
    assert seams, "two touching rings must offer a cut"
    # one seam passes through the smear between the rings (x 44-48), not through a ring
    centres = [float(s.mean()) for s in seams]
    assert any(43 <= c <= 49 for c in centres), centres


def test_pieces_and_cutting_recover_the_two_rings():
    img = _two_rings()
    own = img > 0
    seams = find_seams(img, own)
    found = pieces(own, seams)
    # confidences: pretend the model is sure only of pieces that are one whole ring
    conf = []
    for p in found:
        xs = np.nonzero(p.mask)[1]
        width = xs.max() - xs.min() + 1
        conf.append(0.95 if 36 <= width <= 42 else 0.2)
    chain, score = best_cutting(found, np.array(conf), len(seams))
    assert len(chain) == 2
    assert score > 0.9 * 0.9
    left, right = (found[k].mask for k in chain)
    assert np.nonzero(left)[1].max() < np.nonzero(right)[1].min() + 3
    assert (left | right).sum() == own.sum()  # the cutting covers the blob exactly


def test_no_seams_in_a_blob_too_small_or_without_ink():
    assert find_seams(np.zeros((5, 5), np.uint8), np.zeros((5, 5), bool)) == []
    empty = np.zeros((40, 40), bool)
    assert find_seams(np.zeros((40, 40), np.uint8), empty) == []


def test_a_solid_bar_has_no_cheap_seam():
    # a filled blob: every top-to-bottom path crosses its full height of ink
    own = np.zeros((40, 80), bool)
    own[5:35, 5:75] = True
    assert find_seams(own.astype(np.uint8) * 255, own) == []


def test_best_cutting_prefers_the_surer_chain_and_reports_gaps():
    mask = np.zeros((2, 2), bool)
    options = [Piece(0, 2, mask), Piece(0, 1, mask), Piece(1, 2, mask)]
    chain, score = best_cutting(options, np.array([0.5, 0.9, 0.9]), n_seams=1)
    assert chain == [1, 2] and abs(score - 0.81) < 1e-9
    chain, score = best_cutting(options, np.array([0.9, 0.9, 0.9]), n_seams=1)
    assert chain == [0] and abs(score - 0.9) < 1e-9
    # no chain reaches the right side
    assert best_cutting([Piece(0, 1, mask)], np.array([0.9]), n_seams=1) == ([], 0.0)


_BLANK = np.zeros((28, 28), np.uint8)  # the first reading's tensor (recut never looks at it)


def _reading(label: int, conf: float) -> np.ndarray:
    """A probability row: `conf` for `label`, the rest spread evenly."""
    row = np.full(10, (1 - conf) / 9)
    row[label] = conf
    return row


def _group_and_model(sure_whole: float, indices: tuple[int, ...] = (0,)):
    """The two rings as one group read "0" unsure, and a fake model that is sure of a piece
    holding one ring (0.95) and gives the whole pair `sure_whole`."""
    img = _two_rings()
    own = img > 0
    group = SeamGroup(indices, own, img, Box(100, 50, own.shape[1], own.shape[0]), 0)
    found = pieces(own, find_seams(img, own))
    rows = []
    for p in found:
        xs = np.nonzero(p.mask)[1]
        width = xs.max() - xs.min() + 1
        rows.append(_reading(0, 0.95 if 36 <= width <= 42 else sure_whole if width > 60
                             else 0.2))

    def classify(batch: np.ndarray) -> np.ndarray:
        assert len(batch) == len(found)
        return np.array(rows)
    return group, classify


def test_recut_replaces_an_unsure_reading_by_a_surer_cutting():
    group, classify = _group_and_model(0.3)
    first = _reading(8, 0.55)
    entries = [[Entry(first, None, 0, _BLANK)]]
    recut((group,), entries, classify, lambda box: box, None, below=0.99)
    assert len(entries[0]) == 2
    left, right = (e.box for e in entries[0])
    assert all(e.crop.shape == (28, 28) and e.crop.any() for e in entries[0])  # the pieces
    assert left.x >= 100 and left.x + left.w <= right.x + 3  # in the image, left to right


def test_recut_keeps_a_sure_first_reading():
    # sure: not cut at all; unsure, but the cutting (0.95 x 0.95) is less sure still
    for conf, below in ((1.0, 0.99), (0.91, 0.95)):
        group, classify = _group_and_model(0.3)
        first = _reading(8, conf)
        entries = [[Entry(first, None, 0, _BLANK)]]
        recut((group,), entries, classify, lambda box: box, None, below=below)
        assert entries[0][0].probs is first and len(entries[0]) == 1


def test_recut_reads_pieces_whole_again_when_that_is_surer():
    # two candidates cut from one wide blob: a sure "1" and a doubtful "7"; read whole (as
    # the fake model says) it is a sure digit, like a broad 4 cut in two
    group, classify = _group_and_model(0.995, indices=(0, 1))
    entries = [[Entry(_reading(1, 0.99), None, 0, _BLANK)],
               [Entry(_reading(7, 0.6), None, 0, _BLANK)]]
    recut((group,), entries, classify, lambda box: box, None, below=0.99)
    assert len(entries[0]) == 1 and entries[1] == []
    assert entries[0][0].box.w > 60  # the whole blob's box
