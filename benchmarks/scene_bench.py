"""Read generated photo-like scenes with DigitReader and report accuracy overall and by condition.

    python -m digitedge.benchmarks.scene_bench --n 500 --seed 1 --profile wild \
        [--model A.tflite B.tflite] [--data mnist.npz] [--json-out scene_bench.json] \
        [--save-failures DIR]

Every model reads the same scenes (generated once, streamed), so their figures compare
directly; with two or more models the table also gives how often they read a scene the
same way. Timings are wall-clock medians on a shared machine: indicative only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from digitedge.atomic import write_bytes, write_text
from digitedge.benchmarks.scene_score import (
    MAX_CONDITION_VALUES,
    BoxScore,
    score_boxes,
    score_readings,
)
from digitedge.benchmarks.scenes import PROFILES, Scene, iter_scenes
from digitedge.edge_runtime.manifest import MIN_CONFIDENCE
from digitedge.errors import DigitEdgeError

ReadFn = Callable[[np.ndarray], Any]


def evaluate(readers: dict[str, ReadFn], scenes: Iterable[Scene],
             on_read: Callable[[int, str, Scene, Any], None] | None = None
             ) -> dict[str, dict[str, Any]]:
    """Read each scene with every reader; score each reader (see `score_readings`).

    Each result also holds `median_read_ms`, `readings` ({"truth", "read"} per scene) and,
    when the readers return `Reading`s, `detection` (see `score_boxes`): how many truth
    digits were found as boxes and how many of those were labelled right.
    `on_read(index, reader_name, scene, result)` is called after every read (e.g. to save
    the misread scenes).
    """
    truths: list[str] = []
    conditions: list[dict] = []
    reads: dict[str, list[str]] = {name: [] for name in readers}
    times: dict[str, list[float]] = {name: [] for name in readers}
    boxes: dict[str, list[BoxScore]] = {name: [] for name in readers}
    for index, scene in enumerate(scenes):
        truths.append(scene.text)
        conditions.append(scene.conditions)
        for name, read in readers.items():
            t0 = time.perf_counter()
            result = read(scene.image)
            times[name].append((time.perf_counter() - t0) * 1000.0)
            reads[name].append(str(getattr(result, "text", result)))
            if hasattr(result, "digits"):  # a Reading: also say where digits were lost
                boxes[name].append(score_boxes(scene.boxes, scene.text, result))
            if on_read is not None:
                on_read(index, name, scene, result)
    out = {}
    for name in readers:
        res = score_readings(truths, reads[name], conditions)
        res["median_read_ms"] = statistics.median(times[name]) if times[name] else 0.0
        res["readings"] = [{"truth": t, "read": r} for t, r in zip(truths, reads[name],
                                                                   strict=True)]
        if len(boxes[name]) == len(truths):
            res["detection"] = _detection(boxes[name], conditions)
        out[name] = res
    return out


def _detection_summary(scores: Sequence[BoxScore]) -> dict[str, Any]:
    truth = sum(s.truth for s in scores)
    found = sum(s.found for s in scores)
    return {"truth_digits": truth, "found": found,
            "found_rate": found / truth if truth else 0.0,
            "label_accuracy_when_found": (sum(s.found_correct for s in scores) / found
                                          if found else 0.0),
            "found_only_rejected": sum(s.found_rejected for s in scores),
            "unmatched_read_digits": sum(s.unmatched for s in scores)}


def _detection(scores: list[BoxScore], conditions: list[dict]) -> dict[str, Any]:
    """Segmentation vs classification, overall and per condition value (see score_boxes)."""
    out = _detection_summary(scores)
    by: dict[str, dict[str, Any]] = {}
    for name in sorted({k for c in conditions for k in c}):
        groups: dict[str, list[BoxScore]] = {}
        for s, c in zip(scores, conditions, strict=True):
            if name in c:
                groups.setdefault(str(c[name]), []).append(s)
        if len(groups) <= MAX_CONDITION_VALUES:
            by[name] = {v: _detection_summary(g) for v, g in sorted(groups.items())}
    out["by_condition"] = by
    return out


def agreement(a: dict[str, Any], b: dict[str, Any]) -> float:
    """The fraction of scenes two readers read identically (right or wrong)."""
    pairs = list(zip(a["readings"], b["readings"], strict=True))
    return sum(x["read"] == y["read"] for x, y in pairs) / len(pairs) if pairs else 0.0


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """Overall table (one row per model), agreement with the first model, then by condition."""
    names = list(results)
    lines = ["| model | scenes | exact match | per-digit acc | substituted | missed | false "
             "| images w/ false | line structure | median read ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        r = results[name]
        lines.append(
            f"| {name} | {r['n']} | {_pct(r['exact_match'])} | {_pct(r['per_digit_accuracy'])} "
            f"| {r['substituted_digits']} | {r['missed_digits']} | {r['false_digits']} "
            f"| {_pct(r['images_with_false_digits'])} | {_pct(r['line_structure_match'])} "
            f"| {r['median_read_ms']:.1f} |")
    lines.append(f"\n(out of {results[names[0]]['truth_digits']} truth digits)")
    for name in names:
        det = results[name].get("detection")
        if det:
            lines.append(
                f"\n{name}: {_pct(det['found_rate'])} of truth digits found as a box (IoU >= "
                f"0.5); {_pct(det['label_accuracy_when_found'])} of those labelled right; "
                f"{det['found_only_rejected']} more found but rejected (low confidence); "
                f"{det['unmatched_read_digits']} accepted digits match no truth digit")
    for other in names[1:]:
        first = results[names[0]]
        diff = results[other]["per_digit_accuracy"] - first["per_digit_accuracy"]
        lines.append(f"\n{other} vs {names[0]}: same reading on "
                     f"{_pct(agreement(first, results[other]))} of scenes; per-digit accuracy "
                     f"{100 * diff:+.1f} points, exact match "
                     f"{100 * (results[other]['exact_match'] - first['exact_match']):+.1f} points")
    head = "| condition | value | scenes | " + " | ".join(
        f"exact ({n}) | digit acc ({n}) | found ({n}) | missed ({n}) | false ({n})"
        for n in names) + " |"
    lines += ["\nBy condition (found = truth digits whose box the reader found):\n", head,
              "|---|---|---:|" + "---:|" * (5 * len(names))]
    by = {n: results[n]["by_condition"] for n in names}
    for cond in by[names[0]]:
        if len(by[names[0]][cond]) < 2:
            continue  # a condition this scene set never varied says nothing
        for value, first in by[names[0]][cond].items():
            cells = []
            for n in names:
                r = by[n][cond][value]
                det = results[n].get("detection", {}).get("by_condition", {})
                found = det.get(cond, {}).get(value)
                cells.append(f"{_pct(r['exact_match'])} | {_pct(r['per_digit_accuracy'])} "
                             f"| {_pct(found['found_rate']) if found else '-'} "
                             f"| {r['missed_digits']} | {r['false_digits']}")
            lines.append(f"| {cond} | {value} | {first['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m digitedge.benchmarks.scene_bench",
                                description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--n", type=int, default=500, help="number of scenes")
    p.add_argument("--seed", type=int, default=0, help="scene seed")
    p.add_argument("--profile", type=str, choices=PROFILES, default="wild", help="scene profile")
    p.add_argument("--model", type=Path, nargs="+", default=None,
                   help=".tflite models to compare on the same scenes; "
                        "none = the bundled int8 model")
    p.add_argument("--data", type=str, default=None,
                   help="MNIST .npz whose test split to use; none = the bundled 1,000-digit sample")
    p.add_argument("--width", type=int, default=640, help="scene width")
    p.add_argument("--height", type=int, default=480, help="scene height")
    p.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE,
                   help="DigitReader's confidence floor")
    p.add_argument("--threads", type=int, default=None,
                   help="interpreter threads; none = the backend decides")
    p.add_argument("--json-out", type=Path, default=None, help="also write the results here")
    p.add_argument("--save-failures", type=Path, default=None, metavar="DIR",
                   help="write each misread scene, annotated with what was read, to DIR")
    return p


def _failure_saver(out_dir: Path) -> Callable[[int, str, Scene, Any], None]:
    """A callback writing <scene>_<model>.png with the reader's boxes and the truth."""
    import cv2

    from digitedge.edge_runtime.annotate import draw_reading

    def save(index: int, name: str, scene: Scene, reading: Any) -> None:
        if reading.text == scene.text:
            return
        img = draw_reading(scene.image, reading)
        for b in scene.boxes:  # truth boxes in thin blue, under the reader's own marks
            cv2.rectangle(img, (b.x, b.y), (b.x + b.w - 1, b.y + b.h - 1), (255, 128, 0), 1)
        truth = scene.text.replace("\n", " / ")
        cv2.putText(img, f"truth: {truth}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(img, f"truth: {truth}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    (255, 255, 255), 1, cv2.LINE_AA)
        ok, buf = cv2.imencode(".png", img)
        if ok:
            safe = "".join(c if c.isalnum() else "_" for c in name)
            write_bytes(out_dir / f"scene_{index:05d}_{safe}.png", buf.tobytes())

    return save


def run(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Generate the scenes, read them with each model, print Markdown, optionally JSON."""
    try:
        from digitedge.edge_runtime.reader import DigitReader
    except ImportError as exc:
        raise DigitEdgeError(f"DigitReader is not available ({exc})") from None
    from digitedge.benchmarks.scenes_cli import load_test_digits
    from digitedge.train.data import file_sha256

    if args.n < 1 or args.seed < 0:
        raise DigitEdgeError("--n must be >= 1 and --seed >= 0")
    data = load_test_digits(args.data)
    models = args.model or [None]
    if not (64 <= args.width <= 8192 and 64 <= args.height <= 8192):
        raise DigitEdgeError("--width/--height must lie in 64-8192")
    readers: dict[str, ReadFn] = {}
    model_files: dict[str, dict[str, str]] = {}
    for m in models:
        reader = DigitReader(m, args.min_confidence, threads=args.threads)
        name = reader.model.path.stem + (" (bundled)" if m is None else "")
        if name in readers:  # two files with one stem: fall back to the full paths
            name = str(m)
        readers[name] = reader.read
        model_files[name] = {"path": str(reader.model.path),
                             "sha256": file_sha256(reader.model.path)}
    scenes = iter_scenes(args.n, args.seed, data.x_test, data.y_test, args.profile,
                         args.width, args.height)
    results = evaluate(readers, scenes,
                       _failure_saver(args.save_failures) if args.save_failures else None)
    title = (f"{args.n} {args.profile} scenes, seed {args.seed}, {args.width}x{args.height}, "
             f"digits: {Path(data.source).name} test split")
    print(f"## Scene benchmark: {title}\n")
    print(markdown(results))
    if args.json_out:
        doc = {"command": " ".join(["python -m digitedge.benchmarks.scene_bench",
                                    *(argv if argv is not None else sys.argv[1:])]),
               "n": args.n, "seed": args.seed, "profile": args.profile,
               "size": [args.width, args.height], "data_source": Path(data.source).name,
               "data_sha256": data.sha256, "min_confidence": args.min_confidence,
               "models": model_files,
               "results": results}
        write_text(args.json_out, json.dumps(doc, indent=1) + "\n")
        print(f"\nwrote {args.json_out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; DigitEdgeError becomes a one-line message and exit status 1."""
    args = _parser().parse_args(argv)
    try:
        return run(args, argv)
    except DigitEdgeError as exc:
        print(f"scene_bench: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
