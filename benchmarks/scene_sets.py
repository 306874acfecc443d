"""Read the named scene sets that reader and model changes are judged on, and compare two runs.

    python -m digitedge.benchmarks.scene_sets [--model A.tflite] [--sets tune,check]
        [--workers 2] [--json-out A.json] [--compare OLD.json]

Changes are tuned on `tune`, checked once on `check` and `fresh`, and only then run on the
seeds RESULTS.md names (`named`): tuning on the named seeds would fit the generator's draws,
not camera photos. A set is a name below or a `profile:seed:n` spec (e.g. `wild:12:300`).
Sets run in parallel processes, one interpreter thread each, so a 2,200-scene run takes
about two minutes on two cores. `--compare` pairs each scene with an earlier run's reading
of it: the scenes only one run read right, with a sign test, since the training seed alone
moves the 2,200 tuning and check scenes by about a point.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from digitedge.atomic import write_text
from digitedge.edge_runtime.manifest import resolve_model_path
from digitedge.errors import DigitEdgeError

SetSpec = tuple[str, int, int]  # profile, seed, number of scenes

SETS: dict[str, tuple[SetSpec, ...]] = {
    "tune": (("wild", 1, 300), ("wild", 7, 300), ("wild", 4, 300), ("wild", 6, 300),
             ("basic", 1, 200)),
    "check": (("wild", 8, 300), ("wild", 9, 300), ("basic", 2, 200)),
    "fresh": (("wild", 10, 300), ("wild", 11, 300)),
    "named": (("wild", 2, 500), ("wild", 3, 500), ("basic", 1, 200)),
}
COUNTS = ("substituted_digits", "missed_digits", "false_digits")


def parse_sets(text: str) -> list[SetSpec]:
    """`tune,check` or `wild:12:300,...` -> the (profile, seed, n) of every set, in order."""
    out: list[SetSpec] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part in SETS:
            out.extend(SETS[part])
            continue
        fields = part.split(":")
        try:
            profile, seed, n = fields[0], int(fields[1]), int(fields[2])
        except (IndexError, ValueError):
            raise DigitEdgeError(f"unknown scene set {part!r}: use {', '.join(SETS)} or "
                                 "profile:seed:n") from None
        if profile not in ("basic", "wild") or seed < 0 or n < 1 or len(fields) != 3:
            raise DigitEdgeError(f"bad scene set {part!r}: profile basic or wild, seed >= 0, "
                                 "n >= 1")
        out.append((profile, seed, n))
    if not out:
        raise DigitEdgeError("no scene sets given")
    return out


def read_set(model: str | None, spec: SetSpec) -> dict[str, Any]:
    """One set read by the reader with `model` (None = bundled): `scene_bench.evaluate`'s
    result, readings included."""
    from digitedge.benchmarks.scene_bench import evaluate
    from digitedge.benchmarks.scenes import iter_scenes
    from digitedge.benchmarks.scenes_cli import load_test_digits
    from digitedge.edge_runtime.reader import DigitReader

    profile, seed, n = spec
    data = load_test_digits(None)
    reader = DigitReader(model, threads=1)
    scenes = iter_scenes(n, seed, data.x_test, data.y_test, profile, 640, 480)
    return evaluate({"m": reader.read}, scenes)["m"]


def _key(spec: SetSpec) -> str:
    return f"{spec[0]} {spec[1]}"


def read_sets(model: str | None, specs: Sequence[SetSpec], workers: int = 2
              ) -> dict[str, dict[str, Any]]:
    """Every set's result, keyed "profile seed", read `workers` sets at a time."""
    if workers <= 1:
        return {_key(s): read_set(model, s) for s in specs}
    with ProcessPoolExecutor(workers) as pool:
        results = pool.map(read_set, [model] * len(specs), specs)
        return {_key(s): r for s, r in zip(specs, results, strict=True)}


def total(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Exact, per-digit and false-image rates and digit counts pooled over all sets."""
    scenes = sum(r["n"] for r in results.values())
    digits = sum(r["truth_digits"] for r in results.values())
    exact = sum(r["exact_match"] * r["n"] for r in results.values())
    false_images = sum(r["images_with_false_digits"] * r["n"] for r in results.values())
    out = {"n": scenes, "exact_match": exact / scenes,
           "per_digit_accuracy": sum(r["correct_digits"] for r in results.values()) / digits,
           "images_with_false_digits": false_images / scenes}
    out.update({c: sum(r[c] for r in results.values()) for c in COUNTS})
    return out


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the chance of a split at least this uneven if either run
    were as likely to read a differing scene right."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired(new: dict[str, dict[str, Any]], old: dict[str, dict[str, Any]]
           ) -> tuple[int, int, float]:
    """(scenes only `new` read right, scenes only `old` did, sign-test p) over the sets both
    runs read; DigitEdgeError when a shared set's truths differ (other scenes)."""
    wins = losses = 0
    for name in new.keys() & old.keys():
        a, b = new[name]["readings"], old[name]["readings"]
        if [x["truth"] for x in a] != [x["truth"] for x in b]:
            raise DigitEdgeError(f"set {name}: the two runs read different scenes")
        for x, y in zip(a, b, strict=True):
            right_new, right_old = x["read"] == x["truth"], y["read"] == y["truth"]
            wins += right_new and not right_old
            losses += right_old and not right_new
    return wins, losses, sign_test(wins, losses)


def _row(name: str, r: dict[str, Any]) -> str:
    counts = " / ".join(str(int(r[c])) for c in COUNTS)
    return (f"| {name} ({r['n']}) | {100 * r['exact_match']:.1f}% | "
            f"{100 * r['per_digit_accuracy']:.2f}% | {100 * r['images_with_false_digits']:.1f}% "
            f"| {counts} |")


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """A table: each set and all of them, exact / per digit / false images / digit counts."""
    lines = ["| set | exact | per digit | images with a false digit "
             "| substituted / missed / false |", "| --- | ---: | ---: | ---: | --- |"]
    lines += [_row(name, r) for name, r in results.items()]
    if len(results) > 1:
        lines.append(_row("all", total(results)))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m digitedge.benchmarks.scene_sets",
                                description=__doc__.splitlines()[0])
    p.add_argument("--model", type=str, default=None,
                   help=".tflite file or bundled name (int8, mlp-int8, ...); none = int8")
    p.add_argument("--sets", type=str, default="tune,check",
                   help=f"comma-separated: {', '.join(SETS)} or profile:seed:n")
    p.add_argument("--workers", type=int, default=2, help="sets read at once (processes)")
    p.add_argument("--json-out", type=Path, default=None, help="write results and readings")
    p.add_argument("--compare", type=Path, default=None,
                   help="an earlier --json-out to pair the scenes with")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Read the sets, print the table (and the pairing), optionally write JSON."""
    args = _parser().parse_args(argv)
    try:
        specs = parse_sets(args.sets)
        old = None
        if args.compare:
            try:
                old = json.loads(args.compare.read_text())["results"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise DigitEdgeError(f"cannot read {args.compare}: {exc}") from None
        # checked here, once, before the worker processes start: a file or a bundled name
        if args.model and not resolve_model_path(args.model).is_file():
            raise DigitEdgeError(f"no model file {args.model}")
        results = read_sets(args.model, specs, max(1, args.workers))
        print(markdown(results))
        if old is not None:
            wins, losses, p = paired(results, old)
            print(f"\nagainst {args.compare}: {wins} scenes right only now, {losses} only "
                  f"before (sign test p = {p:.2f})")
        if args.json_out:
            doc = {"model": args.model or "bundled", "sets": args.sets, "results": results}
            write_text(args.json_out, json.dumps(doc) + "\n")
    except DigitEdgeError as exc:
        print(f"scene_sets: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
