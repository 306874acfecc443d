"""Small immutable result types shared by the reader, the CLI, live mode and benchmarks."""

from __future__ import annotations

from typing import NamedTuple


class Box(NamedTuple):
    """A rectangle in image pixels: top-left corner, width and height."""

    x: int
    y: int
    w: int
    h: int


class Digit(NamedTuple):
    """One digit read from an image."""

    label: int  # 0-9
    confidence: float  # the model's probability for `label`, 0-1
    box: Box  # where the digit is in the input image
    line: int  # 0-based text line, top to bottom

    def to_json(self) -> dict:
        """The JSON form used by `read --json`, `live --json-lines` and `/reading`."""
        return {"label": int(self.label), "confidence": round(float(self.confidence), 4),
                "box": [int(v) for v in self.box], "line": int(self.line)}


class Reading(NamedTuple):
    """Everything read from one image: the text and the digits it is made of."""

    text: str  # each line's labels left to right, lines joined by "\n"
    digits: tuple[Digit, ...]  # accepted digits, in reading order
    rejected: tuple[Digit, ...] = ()  # candidates below the confidence floor (not in text)
    timing_ms: dict[str, float] = {}  # per-stage wall time of this read

    def to_json(self) -> dict:
        """The JSON form shared by the CLI, live mode and the web view."""
        return {"text": self.text, "digits": [d.to_json() for d in self.digits],
                "timing_ms": {k: round(v, 3) for k, v in self.timing_ms.items()}}


def join_text(digits: tuple[Digit, ...] | list[Digit]) -> str:
    """Join digits (already in reading order) into text, one line of text per `line`."""
    lines: dict[int, list[str]] = {}
    for d in digits:
        lines.setdefault(d.line, []).append(str(d.label))
    return "\n".join("".join(lines[k]) for k in sorted(lines))
