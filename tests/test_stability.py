"""The debounce rule: K identical frames before a reading is reported, reported once."""

from __future__ import annotations

import pytest

from digitedge.edge_runtime.stability import Stabilizer
from digitedge.edge_runtime.types import Reading


def feed(stabilizer: Stabilizer, texts: list[str]) -> list[tuple[int, str, int]]:
    """Feed one text per frame; returns (frame, text, since) for each report."""
    out = []
    for frame, text in enumerate(texts):
        got = stabilizer.update(Reading(text, ()), frame)
        if got is not None:
            out.append((got.frame, got.reading.text, got.since))
    return out


def test_reported_after_k_frames_and_only_once() -> None:
    assert feed(Stabilizer(3), ["12"] * 6) == [(2, "12", 0)]


def test_flicker_shorter_than_k_is_never_reported() -> None:
    texts = ["12", "12", "12", "1", "12", "17", "12", "12", "1", "1", "12"]
    assert feed(Stabilizer(3), texts) == [(2, "12", 0)]


def test_each_change_reported_once_it_holds() -> None:
    texts = ["4", "4", "42", "42", "42", "42", "", "", "", "7", "7", "7"]
    assert feed(Stabilizer(3), texts) == [(4, "42", 2), (8, "", 6), (11, "7", 9)]


def test_k_of_one_reports_every_change_and_returning_text_is_reported_again() -> None:
    assert feed(Stabilizer(1), ["1", "1", "2", "1"]) == [(0, "1", 0), (2, "2", 2), (3, "1", 3)]


def test_reset_restarts_the_run_but_keeps_the_last_report() -> None:
    s = Stabilizer(2)
    assert feed(s, ["5", "5"]) == [(1, "5", 0)]
    s.reset()
    assert s.update(Reading("6", ()), 10) is None
    assert s.current is not None and s.current.reading.text == "5"
    got = s.update(Reading("6", ()), 11)
    assert got is not None and got.reading.text == "6" and got.since == 10


def test_rejects_k_below_one() -> None:
    with pytest.raises(ValueError):
        Stabilizer(0)
