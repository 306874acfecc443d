"""Second look at unsure digits: read their blob again cut along seams (`seams.py`).

After the first classification, each group of candidates that came from one wide blob, or
that stand closer together than a fraction of their height, is cut along seams when one of
its digits reads unsure. Every piece between two seams is classified, and the cutting whose
digits have the highest product of confidences replaces the first reading when it is surer:
touching digits come apart where they touch, and a digit broken in two reads whole. Only
unsure groups are cut, which keeps the extra crops (the cost) to the frames that need them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from digitedge.edge_runtime.blobs import mask_box
from digitedge.edge_runtime.mnistify import mnistify_batch
from digitedge.edge_runtime.seams import best_cutting, find_seams, pieces
from digitedge.edge_runtime.segment import Segmentation, blob_mask, union
from digitedge.edge_runtime.types import Box


class Entry(NamedTuple):
    """One digit as the reader keeps it, with the tensor its reading came from (so a debug
    view shows what was read, not the first crop a cut replaced)."""

    probs: np.ndarray  # the model's probabilities for this crop
    box: Box  # in input pixels
    line: int
    crop: np.ndarray  # uint8 (28, 28): what the model was fed


class SeamGroup(NamedTuple):
    """Candidates `indices` (consecutive, one line) that may be read along seams together."""

    indices: tuple[int, ...]  # positions in PreparedDigits
    own: np.ndarray  # bool: the group's ink in its box (working pixels)
    strength: np.ndarray  # uint8: the ink strength in the same box
    box: Box  # the box, in working pixels
    line: int


def _runs(seg: Segmentation, order: list[int]) -> list[list[int]]:
    """Positions in `order` grouped by the wide blob they were cut from (one line, in
    order); a candidate that was not cut is a run of its own."""
    out: list[list[int]] = []
    for k, i in enumerate(order):
        whole = seg.wholes[i] if seg.wholes else None
        prev = order[k - 1] if k else None
        if whole is not None and prev is not None and seg.wholes[prev] is whole \
                and seg.lines[prev] == seg.lines[i]:
            out[-1].append(k)
        else:
            out.append([k])
    return out


def _joined(seg: Segmentation, order: list[int], groups: list[list[int]], gap: float
            ) -> list[list[int]]:
    """`groups` with consecutive ones on a line joined while the gap between them is under
    `gap` times their height and they sit level: the pieces of a digit broken in two."""
    out: list[list[int]] = []
    for run in groups:
        if gap > 0 and out and seg.lines[order[out[-1][-1]]] == seg.lines[order[run[0]]]:
            a = functools.reduce(union, [seg.blobs[order[k]] for k in out[-1]]).box
            b = functools.reduce(union, [seg.blobs[order[k]] for k in run]).box
            if b.x - (a.x + a.w) < gap * max(a.h, b.h) \
                    and min(a.y + a.h, b.y + b.h) - max(a.y, b.y) > 0.5 * min(a.h, b.h):
                out[-1] = out[-1] + run
                continue
        out.append(run)
    return out


def seam_groups(seg: Segmentation, order: list[int], strength: np.ndarray, gap: float,
                min_aspect: float) -> tuple[SeamGroup, ...]:
    """The groups worth cutting: at least `min_aspect` times as wide as tall (narrower ink
    is one digit, or a "11" that seams cannot improve)."""
    out = []
    for run in _joined(seg, order, _runs(seg, order), gap):
        whole = functools.reduce(union, [seg.blobs[order[k]] for k in run])
        x, y, w, h = whole.box
        if w >= min_aspect * h:
            out.append(SeamGroup(tuple(run), blob_mask(seg.labels, whole) > 0,
                                 strength[y:y + h, x:x + w], whole.box,
                                 seg.lines[order[run[0]]]))
    return tuple(out)


def recut(groups: tuple[SeamGroup, ...], entries: list[list[Entry]],
          classify: Callable[[np.ndarray], np.ndarray], to_input: Callable[[Box], Box],
          stroke: float | None, below: float) -> None:
    """Replace, in `entries` (per candidate, in place), the digits of each group whose
    least sure digit is under `below` by the group's best seam cutting, when that cutting
    reads surer (a higher product of confidences)."""
    todo = []
    for group in groups:
        current = [float(e.probs.max()) for i in group.indices for e in entries[i]]
        if not current or min(current) >= below:
            continue
        seams = find_seams(group.strength, group.own)
        found = pieces(group.own, seams)
        if seams and found:
            todo.append((group, float(np.prod(current)), len(seams), found))
    if not todo:
        return
    masks = [piece.mask.astype(np.uint8) * 255 for _, _, _, found in todo for piece in found]
    crops = mnistify_batch(masks, stroke=stroke)
    probs = classify(crops)
    at = 0
    for group, score_now, n_seams, found in todo:
        mine, tensors = probs[at:at + len(found)], crops[at:at + len(found)]
        at += len(found)
        chain, score = best_cutting(found, mine.max(axis=1), n_seams)
        if not chain or score <= score_now:
            continue
        for i in group.indices:
            entries[i] = []
        x, y = group.box.x, group.box.y
        entries[group.indices[0]] = [Entry(mine[k], to_input(mask_box(found[k].mask, x, y)),
                                           group.line, tensors[k]) for k in chain]
