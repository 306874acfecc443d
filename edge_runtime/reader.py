"""Read the digits in an image: preprocess, segment, MNIST-ify, classify in one batch."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from digitedge.edge_runtime.blobs import line_mate, own_pixels
from digitedge.edge_runtime.closeup import (
    add_margin,
    close_digits,
    closer_reading,
    has_ink,
    large_shape,
    unpad,
)
from digitedge.edge_runtime.cores import core_mask
from digitedge.edge_runtime.manifest import MIN_CONFIDENCE
from digitedge.edge_runtime.mnistify import MNIST_SIZE, MNIST_STROKE, mnistify_batch
from digitedge.edge_runtime.model import TFLiteModel
from digitedge.edge_runtime.preprocess import InkImage, binarize, to_gray, working_image
from digitedge.edge_runtime.recut import Entry, SeamGroup, recut, seam_groups
from digitedge.edge_runtime.segment import (
    Segmentation,
    SegmentConfig,
    segment,
)
from digitedge.edge_runtime.splits import core_pair, peel_one, peelable, two_way_split
from digitedge.edge_runtime.types import Box, Digit, Reading, join_text
from digitedge.edge_runtime.unfiltered import unfiltered_mask


class ReaderConfig(NamedTuple):
    """How the reader finds digits; the defaults suit camera photos and scans alike."""

    max_side: int = 1280
    """Longer side of the working image in pixels; larger inputs are shrunk first (speed)."""
    soft_side: int = 640
    """A working image larger than this that is soft (upscaled or softly focused: its detail
    at full size under `soft_detail` of that at half size, `preprocess.fine_detail`) is
    shrunk to it; 0 never does."""
    soft_detail: float = 0.7
    """The `fine_detail` under which a frame is soft (upscaled scenes 0.39-0.67, sharp ones
    mostly 1 or more)."""
    median_size: int = 3
    """Median-filter size used to remove sensor noise before thresholding (1 disables)."""
    background_frac: float = 0.12
    """Background-estimate window as a fraction of the shorter image side."""
    min_contrast: int = 30
    """Least ink contrast (0-255, relative to the paper's brightness) that counts as ink."""
    noise_factor: float = 5.0
    """The ink threshold is at least this many noise standard deviations."""
    ruling: bool = True
    """Treat the lines of ruled and squared paper as paper (`ruling.py`): at least four long,
    thin, parallel lines do not make the digits they touch part of the surround, and when
    faint they are cleared from the ink wherever nothing twice as strong crosses them."""
    marks: bool = True
    """Take the marks people add to a number out of the ink (`marks.py`): a line under it
    (or the printed line of a form it stands on), a box or a ring drawn round it. Where such
    a mark touches the digits it joins them into one blob wider than any digit."""
    close_size: int = 1
    """Closing kernel (px) that mends breaks in strokes (1, the default, disables it: on
    small digits closing fills the loops of 8, 6 and 9, and hysteresis thresholding plus
    the merging of pieces already keep broken strokes together)."""
    dark_ink: bool | None = None
    """Force the polarity (True: pen on paper, False: chalk on board); None: automatic."""
    polarity_margin: float = 4.0
    """When no digit is found and the automatic polarity vote was closer than this ratio,
    the other polarity is tried."""
    polarity_contest: float = 1.6
    """When the automatic polarity vote is closer than this ratio, both polarities are read
    and the other one wins if it gives more than twice as many digits read with >= 0.9
    confidence (measured: twice; a plain "more" or a mean confidence let texture win). A
    bright sheet on a dark table outvotes pencil by up to about 1.5 (1,200 tuning scenes:
    16 of 70 wrong votes lay between 1.25, the first level, and 1.55). 1.6 found 12 more
    digits and read 2 more scenes right, changing no other; 2.0 and 3.0 lost a digit or two."""
    stroke: float | None = MNIST_STROKE
    """Target stroke width at 28x28 scale (MNIST's is ~2.2); None keeps strokes as drawn."""
    try_splits: bool = True
    """Also classify squarish blobs as two touching digits and keep the likelier reading."""
    split_below: float = 0.9
    """...but only when the blob read as one digit is less confident than this."""
    seam_below: float = 0.99
    """A group of candidates (`recut.py`: a wide blob, the pieces cut from one, or
    neighbours closer than `seam_gap`) whose least sure digit reads below this is read
    again cut along seams; the cutting whose digits' confidences have the highest product
    is kept."""
    seam_min_aspect: float = 0.8
    """...when the group is at least this many times as wide as tall (narrower ink is one
    digit, or a "11" that seams cannot improve)."""
    seam_gap: float = 0.25
    """Neighbours on a line closer than this times their height are one group (a digit
    broken by a faint stroke then reads whole when that is surer)."""
    lone_confidence: float = 0.4
    """A digit alone on its line is accepted only from this confidence up (or the reader's
    `min_confidence`, if higher): in a number the neighbours vouch for the line, while a
    lone unsure blob is often texture, a shadow's corner or a scrap of a digit (measured:
    0.5 cut the scenes with a false digit on one tuning seed from 1.7% to 0.7%; with
    `lone_among` and `company_gap` guarding lone digits too, 0.4 reads one more lone digit
    right and nothing worse, 0.35 two more and a blot as a "1")."""
    lone_among: tuple[float, float] = (0.5, 0.6)
    """...and, when other lines hold digits, at least this fraction of their median height
    and this confidence: a speck or a scrap of a rim alone on a line of its own, below
    a number, is the false digit a lone line most often is (measured on the tuning
    scenes: every right lone digit among others read at 0.75 or more and 0.78 of their
    height or more; 3 of 7 false ones fell under 0.6 and 1 under half the height)."""
    mate_fraction: float = 2 / 3
    """A digit below the reader's `min_confidence` is still accepted from this fraction of
    it up (0.2 at the default 0.3) when it stands in a line beside an accepted digit at its
    height (`blobs.line_mate`): a blurred or oddly written digit in a number is more often
    right than junk (measured: 8 more digits right and 2 more false on the tuning scenes,
    6 more right and none false on three sets never tuned on)."""
    peel_aspect: float = 0.6
    """Blobs from this wide for their height up to a two-way split's may be a thin "1"
    touching a digit (`splits.peel_one`): when such a candidate reads under `split_below`
    it is cut, and the cut is taken like a two-way split, but only when the thin piece
    reads "1" and both pieces are sure (measured on the tuning scenes: 4 more exact, none
    worse; 0.5 the same, 0.7 one fewer)."""
    company_gap: float = 1.5
    """A digit counts as one of a number only with a sure digit on its line at most this
    many heights away (as far as `segment.group_lines` chains a line); farther apart, each
    must pass as a lone digit (measured on the tuning scenes: 3 false digits fewer at 1.5
    or 3, none right lost; 1.0 lost two right ones)."""
    tighter_below: int = 80
    """Candidates up to this tall (working pixels) are also read thresholded tighter
    (`cores.core_mask`) and from the image before its median filter (`unfiltered`); when
    the first reading is below `split_below`, the surest of them is kept."""
    unfiltered: bool = True
    """Read those candidates from the unfiltered image too (measured on the tuning scenes:
    +0.3 and +0.5 points per digit, no more false digits)."""
    core_pair_aspect: float = 0.85
    """Candidates up to `tighter_below` tall and at least this wide for their height that
    no cut splits are also offered as the two digits a tighter threshold parts them into
    (`splits.core_pair`), weighed like a two-way split."""
    closeup: bool = True
    """When nothing is found, a digit is as large as in a close-up or the frame holds a
    close-up's shape (`closeup.py`), read the frame again inside a margin of its paper
    colour and keep that reading when it is a close-up's and surer: a digit that fills
    the frame or a crop cut tight around one then reads as on a page."""
    max_digits: int = 64
    """At most this many candidates are classified (the largest); bounds the time per image."""
    segment: SegmentConfig = SegmentConfig()
    """Size and shape limits deciding which ink blobs can be digits."""


class PreparedDigits(NamedTuple):
    """Everything before classification: what the model will see, and where it came from."""

    crops: np.ndarray  # uint8 (N, 28, 28), white digit on black, MNIST style
    boxes: tuple[Box, ...]  # each crop's box in input-image pixels
    lines: tuple[int, ...]  # each crop's 0-based line (top to bottom)
    ink: InkImage  # the working-size ink mask (for debugging and tests)
    scale: float  # working size / input size (<= 1)
    alternatives: tuple[SplitOption, ...] = ()  # candidates that may be two touching digits
    rereads: tuple[tuple[int, np.ndarray], ...] = ()  # (candidate, crop): read another way
    groups: tuple[SeamGroup, ...] = ()  # candidates that may be read along seams instead
    shape: tuple[int, int] = (0, 0)  # the input image's (height, width)
    peels: tuple[PeelOption, ...] = ()  # candidates that may be a "1" leaning on a digit


class SplitOption(NamedTuple):
    """Candidate `index` read as two touching digits instead (see `splits.two_way_split`)."""

    index: int  # which crop of PreparedDigits this replaces
    crops: np.ndarray  # uint8 (2, 28, 28): left and right pieces
    boxes: tuple[Box, Box]  # their boxes in input-image pixels


class PeelOption(NamedTuple):
    """Candidate `index`, which may be a "1" leaning on a digit (see `splits.peel_one`);
    cut only when the candidate reads unsure, so most are never cut."""

    index: int  # which crop of PreparedDigits this may replace
    own: np.ndarray  # bool: its pixels in its box (working pixels)
    strength: np.ndarray | None  # the ink strength in the same box
    box: Box  # the box, in working pixels


def _confident(prepared: PreparedDigits, probs: np.ndarray, level: float = 0.9) -> int:
    """How many candidates (split alternatives aside) the model reads with >= `level`."""
    return int((probs[:len(prepared.crops)].max(axis=1, initial=0.0) >= level).sum())


def _core(strength: np.ndarray, box: Box, own: np.ndarray, max_height: int
          ) -> np.ndarray | None:
    """A candidate up to `max_height` tall thresholded tighter (`cores.core_mask`), else None."""
    x, y, w, h = box
    return core_mask(strength[y:y + h, x:x + w], own) if h <= max_height else None


def _to_input_box(box: Box, scale: float, shape: tuple[int, int]) -> Box:
    h, w = shape
    x0, y0 = int(box.x / scale), int(box.y / scale)
    x1 = min(w, int(np.ceil((box.x + box.w) / scale)))
    y1 = min(h, int(np.ceil((box.y + box.h) / scale)))
    return Box(x0, y0, x1 - x0, y1 - y0)


def _stack(crops: list[np.ndarray]) -> np.ndarray:
    return np.stack(crops) if crops else np.zeros((0, MNIST_SIZE, MNIST_SIZE), np.uint8)


def _as_probabilities(out: np.ndarray) -> np.ndarray:
    """Models are meant to end in softmax; apply one if a model hands back logits instead."""
    out = np.asarray(out, dtype=np.float32)
    if out.size and (out.min() < -1e-3 or np.abs(out.sum(axis=1) - 1).max() > 0.05):
        z = np.exp(out - out.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)
    return out


class DigitReader:
    """Reads handwritten digits in a camera image or scan with a TFLite MNIST model."""

    def __init__(self, model: TFLiteModel | str | Path | None = None,
                 min_confidence: float = MIN_CONFIDENCE, *, backend: str | None = None,
                 threads: int | None = None, config: ReaderConfig | None = None) -> None:
        """Load the model (default: the bundled int8 one).

        Args:
            model: a loaded TFLiteModel, a .tflite path, or None for the bundled int8 model.
            min_confidence: digits whose top probability is below this are rejected, not
                guessed (they are returned in `Reading.rejected`).
            backend, threads: passed to TFLiteModel when `model` is not already loaded.
            config: preprocessing and segmentation settings.

        Raises:
            DigitEdgeError: the model is missing, not TFLite, or not a 28x28 classifier.
        """
        self.model = model if isinstance(model, TFLiteModel) else TFLiteModel(
            model, backend=backend, threads=threads)
        self.min_confidence = float(min_confidence)
        self.config = config or ReaderConfig()

    def prepare(self, image: np.ndarray, dark_ink: bool | None = None) -> PreparedDigits:
        """Find the digit candidates in `image` (BGR or gray uint8) and MNIST-ify them.

        `dark_ink` forces the polarity for this call (default: `ReaderConfig.dark_ink`).
        """
        gray = to_gray(np.asarray(image))
        return self._prepare(gray, *self._working(gray), dark_ink)

    def _working(self, gray: np.ndarray) -> tuple[np.ndarray, float]:
        """The working image of `gray` and its scale (`preprocess.working_image`), once per
        frame: both sides of a polarity contest are found in the same one."""
        if gray.dtype != np.uint8:
            raise ValueError(f"expected a uint8 image, got {gray.dtype}")
        cfg = self.config
        return working_image(gray, cfg.max_side, cfg.soft_side, cfg.soft_detail)

    def _prepare(self, gray: np.ndarray, work: np.ndarray, scale: float,
                 dark_ink: bool | None = None) -> PreparedDigits:
        """`prepare` of the (gray) input `gray`, already brought to its working image."""
        cfg = self.config
        dark_ink = cfg.dark_ink if dark_ink is None else dark_ink
        ink, seg = self._find(work, dark_ink)
        if not seg.blobs and ink.polarity_margin < cfg.polarity_margin:
            # nothing found and the polarity vote was close (a bright sheet on a dark table
            # outvotes the ink): try the other side. Only then: a textured surround read
            # with the other polarity yields stroke-like junk, so a full contest loses.
            # When the other side finds nothing either, the vote's side stays for the
            # close-up test below. (A blank page has no vote at all, hence no margin to
            # try: read as light ink on white paper, its faintest unevenness would pass
            # for chalk.)
            other = self._find(work, not ink.dark_ink)
            if other[1].blobs:
                ink, seg = other
        if not seg.blobs and ink.surround is not None and ink.surround.any():
            # still nothing outside the "table": in a close-up or a tight crop the digit
            # itself spans the frame and was taken for the surround (the rims of brightness
            # steps stay out: a stroke's light halo, read with the wrong polarity, is one)
            seg = segment(ink.mask, cfg.segment, ink.strips, ink.strength)
        order = list(range(len(seg.blobs)))
        if len(order) > cfg.max_digits:
            biggest = sorted(order, key=lambda i: -seg.blobs[i].area)[:cfg.max_digits]
            order = sorted(biggest)
        # each candidate's own pixels, for its crop and its second readings, and for the
        # small ones their tighter core (a second reading, and a possible pair of digits)
        owns = [own_pixels(seg.labels, seg.blobs[i]) for i in order]
        cores = [_core(ink.strength, seg.blobs[i].box, own, cfg.tighter_below)
                 for i, own in zip(order, owns, strict=True)]
        crops = mnistify_batch([own.astype(np.uint8) * 255 for own in owns], stroke=cfg.stroke)
        boxes = tuple(_to_input_box(seg.blobs[i].box, scale, gray.shape) for i in order)
        options, peels = [], []
        for k, i in enumerate(order):
            split = (two_way_split(seg.labels, seg.blobs[i], strength=ink.strength,
                                   own=owns[k]) if cfg.try_splits else None)
            x, y, w, h = seg.blobs[i].box
            if split is None and cfg.try_splits and w >= cfg.core_pair_aspect * h \
                    and cores[k] is not None:
                split = core_pair(cores[k], x, y)
            if split is None and cfg.try_splits and peelable(seg.blobs[i].box, cfg.peel_aspect):
                strength = None if ink.strength is None else ink.strength[y:y + h, x:x + w]
                peels.append(PeelOption(k, owns[k], strength, seg.blobs[i].box))
            if split is not None:
                pieces = mnistify_batch([mask for _, mask in split], stroke=cfg.stroke)
                pair = tuple(_to_input_box(box, scale, gray.shape) for box, _ in split)
                options.append(SplitOption(k, pieces, pair))
        groups = (seam_groups(seg, order, ink.strength, cfg.seam_gap, cfg.seam_min_aspect)
                  if cfg.try_splits else ())
        return PreparedDigits(crops, boxes, tuple(seg.lines[i] for i in order), ink, scale,
                              tuple(options),
                              self._rereads(seg, order, owns, cores, work, ink), groups,
                              gray.shape, tuple(peels))

    def _rereads(self, seg: Segmentation, order: list[int], owns: list[np.ndarray],
                 cores: list[np.ndarray | None], work: np.ndarray, ink: InkImage
                 ) -> tuple[tuple[int, np.ndarray], ...]:
        """Small candidates thresholded tighter (`cores.core_mask`) and from the unfiltered
        image (`unfiltered.unfiltered_mask`), as second readings."""
        cfg = self.config
        masks: list[tuple[int, np.ndarray]] = []
        for k, (i, own, core) in enumerate(zip(order, owns, cores, strict=True)):
            blob = seg.blobs[i]
            if blob.box.h > cfg.tighter_below:
                continue
            if core is not None:
                masks.append((k, core))
            if cfg.unfiltered and ink.background is not None:
                mask = unfiltered_mask(work, ink.background, blob.box, own, ink.dark_ink,
                                       ink.threshold)
                if mask is not None:
                    masks.append((k, mask))
        crops = mnistify_batch([m.astype(np.uint8) * 255 for _, m in masks], stroke=cfg.stroke)
        return tuple((k, crop) for (k, _), crop in zip(masks, crops, strict=True))

    def _find(self, work: np.ndarray, dark_ink: bool | None) -> tuple[InkImage, Segmentation]:
        cfg = self.config
        ink = binarize(work, median_size=cfg.median_size, background_frac=cfg.background_frac,
                       min_contrast=cfg.min_contrast, noise_factor=cfg.noise_factor,
                       close_size=cfg.close_size, dark_ink=dark_ink, ruled=cfg.ruling,
                       marked=cfg.marks)
        return ink, segment(ink.mask, cfg.segment, ink.surround, ink.strength)

    def classify(self, batch: np.ndarray) -> np.ndarray:
        """uint8 (N, 28, 28) digits -> (N, 10) float32 probabilities, in one model call."""
        return _as_probabilities(self.model.predict(batch))

    def _classify_all(self, prepared: PreparedDigits) -> np.ndarray:
        # every candidate, split alternative and reread goes through the model in one batch
        batch = np.concatenate([prepared.crops, *(o.crops for o in prepared.alternatives),
                                *(crop[None] for _, crop in prepared.rereads)])
        return self.classify(batch)

    def _lone_ok(self, confidence: float, height: int, heights: list[int]) -> bool:
        """Whether a digit alone on its line is writing: sure enough (`lone_confidence`)
        and, when other lines hold digits, not much smaller or less sure (`lone_among`):
        with no neighbour to vouch for it, the other lines are the only yardstick."""
        cfg = self.config
        if confidence < max(self.min_confidence, cfg.lone_confidence):
            return False
        if len(heights) < 2:
            return True
        others = sorted(heights)
        others.remove(height)
        return (height >= cfg.lone_among[0] * float(np.median(others))
                and confidence >= cfg.lone_among[1])

    def _company(self, candidates: list[Entry], sure: list[bool]) -> list[bool]:
        """Whether each candidate has a sure digit beside it on its line, at most
        `company_gap` times the taller one's height away: a number's digits stand close,
        while two blobs far apart at one level (a digit and a blot across the page) are
        each alone and must pass as lone digits."""
        gap = self.config.company_gap
        out = []
        for i, (_, a, line, _) in enumerate(candidates):
            out.append(any(
                ok and j != i and other == line
                and max(b.x - (a.x + a.w), a.x - (b.x + b.w)) <= gap * max(a.h, b.h)
                for j, ((_, b, other, _), ok) in enumerate(zip(candidates, sure, strict=True))))
        return out

    def _peel(self, prepared: PreparedDigits, probs: np.ndarray,
              classify: Callable[[np.ndarray], np.ndarray]
              ) -> dict[int, tuple[np.ndarray, tuple[Box, ...], np.ndarray]]:
        """Candidate -> (pair probabilities, boxes, crops) for each unsure peelable candidate whose
        thin piece reads "1" beside a sure digit (one more, small model call; a sure
        candidate stays whole anyway, so it is not cut at all)."""
        cfg = self.config
        cuts = []
        for option in prepared.peels:
            if probs[option.index].max() < cfg.split_below:
                pieces = peel_one(option.own, option.strength, option.box)
                if pieces is not None:
                    cuts.append((option.index, pieces))
        if not cuts:
            return {}
        crops = mnistify_batch([mask for _, pieces in cuts for _, mask in pieces],
                               stroke=cfg.stroke)
        out = classify(crops)
        peeled = {}
        for c, (i, pieces) in enumerate(cuts):
            pair = out[2 * c:2 * c + 2]
            one = int(pieces[1][0].w < pieces[0][0].w)  # the thin piece, offered as a "1"
            sure = float(pair.max(axis=1).min()) >= self.min_confidence
            if int(pair[one].argmax()) == 1 and sure:
                peeled[i] = (pair, tuple(_to_input_box(box, prepared.scale, prepared.shape)
                                         for box, _ in pieces), crops[2 * c:2 * c + 2])
        return peeled

    def _choose(self, prepared: PreparedDigits, probs: np.ndarray,
                classify: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Entry]:
        """One `Entry` (probabilities, box, line, the crop they came from) per digit, after
        weighing each split and seam cutting (a seam cutting also reads the pieces of a
        wide blob whole again)."""
        cfg = self.config
        n = len(prepared.crops)
        splits = {o.index: j for j, o in enumerate(prepared.alternatives)}
        first_reread = n + 2 * len(prepared.alternatives)
        first = probs[:n].max(axis=1, initial=0.0)
        probs = probs.copy()
        crops = list(prepared.crops)
        for t, (i, crop) in enumerate(prepared.rereads):
            # an unsure candidate takes its surest reading (a loop filled by blur or by the
            # median filter reads unsure; the reading that keeps it open reads sure)
            if first[i] < cfg.split_below and probs[first_reread + t].max() > probs[i].max():
                probs[i], crops[i] = probs[first_reread + t], crop
        peeled = self._peel(prepared, probs, classify or self.classify)
        entries: list[list[Entry]] = []  # per candidate
        for i in range(n):
            line = prepared.lines[i]
            entries.append([])
            # a candidate has a two-way split or a peel, never both
            if i in splits:
                j = splits[i]
                option = prepared.alternatives[j]
                pair, boxes, pieces = probs[n + 2 * j:n + 2 * j + 2], option.boxes, option.crops
            else:
                pair, boxes, pieces = peeled.get(i, (None, (), None))
            whole = float(probs[i].max())
            # two confident digits beat one doubtful one; a confident single reading
            # stays (models are confident on fragments too, so a pair proves nothing)
            if pair is not None and whole < cfg.split_below \
                    and float(pair.max(axis=1).prod()) > whole:
                entries[i].extend(Entry(p, box, line, crop)
                                  for p, box, crop in zip(pair, boxes, pieces, strict=True))
                continue
            entries[i].append(Entry(probs[i], prepared.boxes[i], line, crops[i]))
        # unsure groups get a second look, cut along seams (one more, smaller model call)
        recut(prepared.groups, entries, classify or self.classify,
              lambda box: _to_input_box(box, prepared.scale, prepared.shape), cfg.stroke,
              cfg.seam_below)
        return [e for per in entries for e in per]

    def read(self, image: np.ndarray) -> Reading:
        """Read all digits in `image` (BGR or gray uint8).

        Returns:
            A Reading whose text holds each line's accepted digits left to right, lines
            joined by "\\n". Line numbers count only lines with an accepted digit (a rejected
            digit on a line with none gets -1). timing_ms has "preprocess", "inference"
            and "total".
        """
        return self.read_with_crops(image)[0]

    def read_with_crops(self, image: np.ndarray) -> tuple[Reading, np.ndarray, np.ndarray]:
        """`read`, plus the 28x28 tensor behind each digit: uint8 (N, 28, 28) for
        `Reading.digits` and for `Reading.rejected`, in their order.

        Each tensor is the one the digit's reading came from, after any cut or second
        reading replaced the first crop: what to look at when a digit is misread.
        """
        t0 = time.perf_counter()
        gray = to_gray(np.asarray(image))
        reading, kept, rejected = self._read_frame(gray)
        if not self.config.closeup:
            return reading, kept, rejected
        shaped = large_shape(gray)
        if not (shaped or close_digits(reading, gray.shape)):
            return reading, kept, rejected
        if not reading.digits and not has_ink(gray, self.config.min_contrast):
            return reading, kept, rejected  # a blank page: nothing to read up close either
        # a digit filling the frame is taken for the page's edge or read as fragments:
        # read the frame again inside a margin of its paper, keep the surer reading
        padded, pad, scale = add_margin(gray)
        again, kept2, rejected2 = self._read_frame(padded)
        timing = {k: reading.timing_ms[k] + again.timing_ms[k]
                  for k in ("preprocess", "inference")}
        again = unpad(again, pad, scale, gray.shape)
        if closer_reading(again, reading, gray.shape, shaped):
            reading, kept, rejected = again, kept2, rejected2
        timing["total"] = (time.perf_counter() - t0) * 1e3
        return reading._replace(timing_ms=timing), kept, rejected

    def _read_frame(self, gray: np.ndarray) -> tuple[Reading, np.ndarray, np.ndarray]:
        """`read_with_crops` of the (gray) frame as it is, without the close-up margin."""
        t0 = time.perf_counter()
        work, scale = self._working(gray)
        prepared = self._prepare(gray, work, scale)
        t1 = time.perf_counter()
        probs = self._classify_all(prepared)
        t2 = time.perf_counter()
        pre_ms, inf_ms = (t1 - t0) * 1e3, (t2 - t1) * 1e3
        if prepared.ink.polarity_margin < self.config.polarity_contest:
            # a near tie (a bright sheet on a dark table looks like "light ink" as much as
            # the pen looks like dark ink): read the other side too and keep it only if it
            # gives clearly more confident digits (texture read either way gives few)
            other = self._prepare(gray, work, scale, not prepared.ink.dark_ink)
            t3 = time.perf_counter()
            other_probs = self._classify_all(other)
            t4 = time.perf_counter()
            pre_ms, inf_ms = pre_ms + (t3 - t2) * 1e3, inf_ms + (t4 - t3) * 1e3
            if _confident(other, other_probs) > 2 * _confident(prepared, probs):
                prepared, probs = other, other_probs
        t5 = time.perf_counter()
        invoked: list[float] = []

        def classify(batch: np.ndarray) -> np.ndarray:
            start = time.perf_counter()
            out = self.classify(batch)
            invoked.append(time.perf_counter() - start)
            return out
        candidates = self._choose(prepared, probs, classify)
        # the second look's model call counts as inference, its seams and crops as preprocess
        second = sum(invoked) * 1e3
        pre_ms += (time.perf_counter() - t5) * 1e3 - second
        inf_ms += second
        sure = [float(c.probs.max()) >= self.min_confidence for c in candidates]
        # a digit the model is unsure of still counts when it stands in a line beside a
        # sure one, at its height: the number vouches for it
        firm = [c.box for c, ok in zip(candidates, sure, strict=True) if ok]
        mate_floor = self.config.mate_fraction * self.min_confidence
        sure = [ok or (float(c.probs.max()) >= mate_floor
                       and any(line_mate(c.box, mate) for mate in firm))
                for c, ok in zip(candidates, sure, strict=True)]
        heights = [c.box.h for c, ok in zip(candidates, sure, strict=True) if ok]
        company = self._company(candidates, sure)
        accepted = [ok and (near or self._lone_ok(float(c.probs.max()), c.box.h, heights))
                    for c, ok, near in zip(candidates, sure, company, strict=True)]
        kept_lines = sorted({c.line for c, ok in zip(candidates, accepted, strict=True) if ok})
        dense = {line: k for k, line in enumerate(kept_lines)}
        digits: list[Digit] = []
        rejected: list[Digit] = []
        tensors: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        for c, ok in zip(candidates, accepted, strict=True):
            d = Digit(int(c.probs.argmax()), float(c.probs.max()), c.box, dense.get(c.line, -1))
            (digits if ok else rejected).append(d)
            tensors[0 if ok else 1].append(c.crop)
        timing = {"preprocess": pre_ms, "inference": inf_ms,
                  "total": (time.perf_counter() - t0) * 1e3}
        reading = Reading(join_text(digits), tuple(digits), tuple(rejected), timing)
        return reading, _stack(tensors[0]), _stack(tensors[1])
