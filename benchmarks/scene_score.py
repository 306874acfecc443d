"""Score digit readings against scene truth: edit-distance alignment, rates, condition breakdowns.

Pure functions (no model, no files): `read_fn` is any callable from an image to text (or to
an object with a `.text`, such as a `Reading`), so tests can use fake readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

# A condition with more distinct values than this (a raw float, say) is not broken down.
MAX_CONDITION_VALUES = 12


class TextScore(NamedTuple):
    """How one reading aligns with its truth, digit by digit (line breaks left out)."""

    correct: int  # truth digits read as themselves
    substituted: int  # truth digits read as another digit
    missed: int  # truth digits with nothing read for them
    false: int  # digits read where the truth has none
    lines_match: bool = True  # same number of lines, aligned digits on the same line

    @property
    def truth_digits(self) -> int:
        """The number of digits in the truth."""
        return self.correct + self.substituted + self.missed


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _line_of_each_digit(text: str) -> list[int]:
    return [row for row, line in enumerate(text.strip("\n").split("\n"))
            for ch in line if ch.isdigit()]


def score_text(truth: str, read: str) -> TextScore:
    """Align `read` to `truth` by Levenshtein distance over their digits.

    Line breaks are removed before aligning, so a digit read on the wrong line still counts
    as correct; `lines_match` records separately whether the line structure was right: the
    same number of lines, and every aligned pair of digits on the same line number.
    Among alignments of equal cost, the one with the most correct digits is chosen.
    """
    t, r = _digits(truth), _digits(read)
    n, m = len(t), len(r)
    # cost[i, j], correct[i, j]: best alignment of t[:i] with r[:j].
    cost = np.zeros((n + 1, m + 1), np.int64)
    good = np.zeros((n + 1, m + 1), np.int64)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            same = t[i - 1] == r[j - 1]
            options = ((cost[i - 1, j - 1] + (0 if same else 1), -(good[i - 1, j - 1] + same)),
                       (cost[i - 1, j] + 1, -good[i - 1, j]),
                       (cost[i, j - 1] + 1, -good[i, j - 1]))
            best = min(options)
            cost[i, j], good[i, j] = best[0], -best[1]
    # Walk back along one optimal path to split the cost into its three kinds of error.
    i, j = n, m
    correct = substituted = missed = false = 0
    pairs = []
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            same = t[i - 1] == r[j - 1]
            if (cost[i, j] == cost[i - 1, j - 1] + (0 if same else 1)
                    and good[i, j] == good[i - 1, j - 1] + same):
                correct += same
                pairs.append((i - 1, j - 1))
                substituted += not same
                i, j = i - 1, j - 1
                continue
        if i > 0 and cost[i, j] == cost[i - 1, j] + 1 and good[i, j] == good[i - 1, j]:
            missed += 1
            i -= 1
        else:
            false += 1
            j -= 1
    t_line, r_line = _line_of_each_digit(truth), _line_of_each_digit(read)
    same_count = truth.strip("\n").count("\n") == read.strip("\n").count("\n")
    lines_match = same_count and all(t_line[a] == r_line[b] for a, b in pairs)
    return TextScore(int(correct), int(substituted), int(missed), int(false), lines_match)


def _summary(truths: Sequence[str], reads: Sequence[str], scores: Sequence[TextScore]
             ) -> dict[str, Any]:
    n = len(scores)
    digits = sum(s.truth_digits for s in scores)
    correct = sum(s.correct for s in scores)
    return {
        "n": n,
        "exact_match": sum(t == r for t, r in zip(truths, reads, strict=True)) / n if n else 0.0,
        "per_digit_accuracy": correct / digits if digits else 0.0,
        "truth_digits": digits,
        "correct_digits": correct,
        "substituted_digits": sum(s.substituted for s in scores),
        "missed_digits": sum(s.missed for s in scores),
        "false_digits": sum(s.false for s in scores),
        "images_with_false_digits": sum(s.false > 0 for s in scores) / n if n else 0.0,
        "line_structure_match": sum(s.lines_match for s in scores) / n if n else 0.0,
    }


def score_readings(truths: Sequence[str], reads: Sequence[str],
                   conditions: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Overall metrics for paired truths and reads, plus the same metrics per condition value.

    Returns the `_summary` keys at top level and `by_condition`:
    {condition: {value (as str): summary}}; conditions with more than
    MAX_CONDITION_VALUES distinct values are listed under `not_broken_down` instead.
    """
    if len(truths) != len(reads):
        raise ValueError(f"{len(truths)} truths but {len(reads)} readings")
    truths = [t.strip("\n") for t in truths]
    reads = [r.strip("\n") for r in reads]
    scores = [score_text(t, r) for t, r in zip(truths, reads, strict=True)]
    result = _summary(truths, reads, scores)
    by_condition: dict[str, dict[str, dict[str, Any]]] = {}
    skipped = []
    conditions = conditions or []
    names = sorted({k for c in conditions for k in c})
    for name in names:
        groups: dict[str, list[int]] = {}
        for i, c in enumerate(conditions):
            if name in c:
                groups.setdefault(str(c[name]), []).append(i)
        if len(groups) > MAX_CONDITION_VALUES:
            skipped.append(name)
            continue
        by_condition[name] = {
            value: _summary([truths[i] for i in idx], [reads[i] for i in idx],
                            [scores[i] for i in idx])
            for value, idx in sorted(groups.items())
        }
    result["by_condition"] = by_condition
    result["not_broken_down"] = skipped
    return result


def _as_text(result: Any) -> str:
    text = getattr(result, "text", result)
    if not isinstance(text, str):
        raise TypeError(f"read_fn must return text or an object with .text, got {type(text)}")
    return text


def score_scenes(read_fn: Callable[[np.ndarray], Any], scenes: Iterable[Any]) -> dict[str, Any]:
    """Read every scene's image with `read_fn` and score the texts (see `score_readings`).

    `scenes` may be a generator (each image is dropped once read); the returned dict also
    holds `readings`: one {"truth", "read"} pair per scene, in order, for error analysis.
    """
    truths, reads, conditions = [], [], []
    for scene in scenes:
        truths.append(scene.text)
        reads.append(_as_text(read_fn(scene.image)))
        conditions.append(scene.conditions)
    result = score_readings(truths, reads, conditions)
    result["readings"] = [{"truth": t, "read": r} for t, r in zip(truths, reads, strict=True)]
    return result


class BoxScore(NamedTuple):
    """Where errors come from: finding the digits (segmentation) or naming them (model)."""

    truth: int  # truth digits
    found: int  # truth digits matched one-to-one by an accepted read box (IoU >= threshold)
    found_correct: int  # found digits whose label was right
    found_rejected: int  # truth digits matched only by a box the reader rejected (low confidence)
    unmatched: int  # accepted read digits that match no truth digit (e.g. distractors)


def _iou(a: Sequence[int], b: Sequence[int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _match(truth_boxes: Sequence[Sequence[int]], read_boxes: Sequence[Sequence[int]],
           threshold: float) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (truth index, read index), best overlap first."""
    pairs = sorted(((_iou(t, r), i, j) for i, t in enumerate(truth_boxes)
                    for j, r in enumerate(read_boxes)), reverse=True)
    used_t, used_r, out = set(), set(), []
    for iou, i, j in pairs:
        if iou < threshold:
            break
        if i not in used_t and j not in used_r:
            used_t.add(i)
            used_r.add(j)
            out.append((i, j))
    return out


def score_boxes(truth_boxes: Sequence[Sequence[int]], truth_text: str, reading: Any,
                threshold: float = 0.5) -> BoxScore:
    """Match a Reading's digit boxes to the truth boxes by IoU and count what was found.

    `reading` needs `.digits` (and optionally `.rejected`) of objects with `.box` and
    `.label`, as `DigitReader.read` returns. A missed digit that is not even `found_rejected`
    was lost by segmentation; a found digit with a wrong label was lost by the model.
    """
    labels = [int(ch) for ch in _digits(truth_text)]
    if len(labels) != len(truth_boxes):
        raise ValueError(f"{len(labels)} truth digits but {len(truth_boxes)} boxes")
    accepted = list(reading.digits)
    pairs = _match(truth_boxes, [d.box for d in accepted], threshold)
    found = {i for i, _ in pairs}
    correct = sum(labels[i] == int(accepted[j].label) for i, j in pairs)
    rest = [i for i in range(len(labels)) if i not in found]
    rejected = list(getattr(reading, "rejected", ()))
    second = _match([truth_boxes[i] for i in rest], [d.box for d in rejected], threshold)
    return BoxScore(len(labels), len(pairs), int(correct), len(second),
                    len(accepted) - len(pairs))
