"""Debounce live readings: report a reading only once it has held for K frames in a row.

A camera pointed at a number gives a flickering read (a digit drops under the confidence
floor for a frame, a hand passes by). The rule: the text read (digits and line breaks) must
be identical in K consecutive processed frames before it becomes the stable reading, and a
stable reading is reported only when it differs from the previous one. An empty text ("no
digits") is a reading like any other, so a number that leaves the view is reported as "".
"""

from __future__ import annotations

from typing import NamedTuple

from digitedge.edge_runtime.types import Reading


class StableReading(NamedTuple):
    """A reading that has just become stable."""

    reading: Reading  # the reading of the frame that completed the run
    frame: int  # that frame's index
    since: int  # index of the first frame of the run


class Stabilizer:
    """Feed it one reading per frame; it returns a StableReading when the stable text changes.

    Args:
        frames: K, how many consecutive frames must agree (1 reports every change at once).
    """

    def __init__(self, frames: int = 3) -> None:
        if frames < 1:
            raise ValueError(f"stable frames must be at least 1, got {frames}")
        self.frames = frames
        self._candidate: str | None = None
        self._since = 0
        self._count = 0
        self.current: StableReading | None = None  # the latest stable reading, if any

    def update(self, reading: Reading, frame: int) -> StableReading | None:
        """Account for `reading` (read from frame `frame`); the new stable reading or None."""
        if reading.text != self._candidate:
            self._candidate, self._since, self._count = reading.text, frame, 0
        self._count += 1
        if self._count < self.frames:
            return None
        if self.current is not None and self.current.reading.text == reading.text:
            # Same text still stable: keep the newest boxes/confidences for display only.
            self.current = StableReading(reading, frame, self.current.since)
            return None
        self.current = StableReading(reading, frame, self._since)
        return self.current

    def reset(self) -> None:
        """Forget the run in progress (e.g. after the camera was lost); keep the last report."""
        self._candidate, self._count = None, 0
