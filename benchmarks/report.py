"""benchmark.json -> benchmark.md: the tables a person reads, headline first, details after."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

SCHEMA_VERSION = 1
KIND = "digitedge-benchmark"


class Metric(NamedTuple):
    """One headline figure of a model, as the summary and the comparison show it."""

    key: str
    label: str
    fmt: str  # format spec of the value
    higher_is_better: bool


HEADLINE: tuple[Metric, ...] = (
    Metric("size_kb", "size KiB", ".1f", False),
    Metric("load_ms", "load ms", ".2f", False),
    # Single-image latency in microseconds: a digit MLP takes tens of them.
    Metric("p50_1t_us", "p50 1 thr µs", ".1f", False),
    Metric("p99_1t_us", "p99 1 thr µs", ".1f", False),
    Metric("p50_all_us", "p50 all cores µs", ".1f", False),
    Metric("thr_b32", "img/s b32", ",.0f", True),
    Metric("thr_b256", "img/s b256", ",.0f", True),
    Metric("accuracy", "accuracy %", ".2f", True),
    Metric("agreement", "agreement %", ".2f", True),
    Metric("flipped", "flipped", "d", False),
)
# Shown in comparisons after the headline (not in the main table, which stays narrow).
EXTRA: tuple[Metric, ...] = (
    Metric("peak_rss_mb", "peak RSS MB", ".1f", False),
    Metric("predict_overhead_us", "predict() overhead µs", ".1f", False),
    Metric("e2e_fps", "e2e frames/s", ".1f", True),
    Metric("read_p50_ms", "read() p50 ms", ".2f", False),
    Metric("scene_exact", "scenes exact %", ".1f", True),
    Metric("scene_digit", "scene digits %", ".1f", True),
)


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _pct(v: Any) -> float | None:
    return 100.0 * v if isinstance(v, (int, float)) else None


def _us(v: Any) -> float | None:
    return 1000.0 * v if isinstance(v, (int, float)) else None


def all_cores_key(doc: dict[str, Any]) -> str:
    """The single-image latency key of the largest thread count in this run."""
    threads = _get(doc, "settings", "threads") or [1]
    return str(max(threads))


def headline(model: dict[str, Any], all_key: str) -> dict[str, float | int | None]:
    """The HEADLINE and EXTRA figures of one model entry of benchmark.json (None = not run)."""
    lat = model.get("latency") or {}
    single = lat.get("single_image_ms") or {}
    one = single.get("1")
    every = single.get(all_key) or single.get("default")
    thr = lat.get("throughput_images_per_s") or {}
    size = model.get("size_bytes")
    return {
        "size_kb": size / 1024 if size else None,
        "load_ms": _get(lat, "load_ms", "p50"),
        "p50_1t_us": _us(one["p50"]) if one else None,
        "p99_1t_us": _us(one["p99"]) if one else None,
        "p50_all_us": _us(every["p50"]) if every else None,
        "thr_b32": thr.get("32"),
        "thr_b256": thr.get("256"),
        "accuracy": _pct(_get(model, "accuracy", "accuracy")),
        "agreement": _pct(_get(model, "accuracy", "agreement")),
        "flipped": _get(model, "accuracy", "flipped", "count"),
        "peak_rss_mb": _get(model, "memory", "peak_rss_mb"),
        "predict_overhead_us": _us(lat.get("predict_overhead_ms")),
        "e2e_fps": _get(model, "e2e", "fps_p50"),
        "read_p50_ms": _get(model, "e2e", "read_p50_ms"),
        "scene_exact": _pct(_get(model, "scenes", "exact_match")),
        "scene_digit": _pct(_get(model, "scenes", "per_digit_accuracy")),
    }


def fmt(value: Any, spec: str = "") -> str:
    """A table cell: '—' for a missing value."""
    if value is None:
        return "—"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table; the first column left-aligned, the rest right."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _environment(doc: dict[str, Any]) -> list[str]:
    env = doc.get("environment", {})
    data = doc.get("data", {})
    items = [
        ("host", env.get("hostname")), ("time (UTC)", env.get("time_utc")),
        ("board", env.get("board")), ("CPU", env.get("cpu_model")),
        ("cores", f"{env.get('cores_available')} available of {env.get('cpu_count')}"),
        ("architecture", env.get("architecture")), ("OS", env.get("os")),
        ("CPU governor", env.get("cpu_governor")), ("max MHz", env.get("cpu_max_mhz")),
        ("load average start / end",
         f"{env.get('load_average_start')} / {env.get('load_average_end')}"),
        ("digitedge", f"{env.get('digitedge')} (git {_get(env, 'git', 'commit')}"
                      f"{' with local changes' if _get(env, 'git', 'dirty') else ''})"
         if _get(env, "git", "commit") else env.get("digitedge")),
        ("Python", env.get("python")),
        ("backend", f"{env.get('backend')} {env.get('backend_version')}"),
        ("numpy / OpenCV", f"{env.get('numpy')} / {env.get('opencv')}"),
        ("threads measured", env.get("threads")),
        ("test data", f"{data.get('source')} ({data.get('n_test')} digits; "
                      f"sha256 {str(data.get('sha256'))[:12]}...)"),
    ]
    lines = [f"- **{k}**: {v}" for k, v in items if v not in (None, "None")]
    if data.get("note"):
        lines.append(f"- **note**: {data['note']}")
    return lines


def summary_table(doc: dict[str, Any]) -> list[str]:
    """The main table: one row per model, the HEADLINE metrics as columns."""
    key = all_cores_key(doc)
    header = ["model", *[m.label if m.key != "p50_all_us" else f"p50 {key} thr µs"
                         for m in HEADLINE]]
    rows = []
    for model in doc.get("models", []):
        h = headline(model, key)
        rows.append([f"{model['name']} ({model.get('kind')})",
                     *[fmt(h[m.key], m.fmt) for m in HEADLINE]])
    return table(header, rows)


def _int8_vs_float(doc: dict[str, Any]) -> list[str]:
    c = doc.get("int8_vs_float")
    if not c:
        return ["Not computed: the run did not include both an int8 and a float32 TFLite model."]
    lines = [
        f"`{c['int8']}` against `{c['float']}` on the same {c['n']} test digits:", "",
        f"- accuracy difference: {fmt(c.get('accuracy_diff_pp'), '+.2f')} percentage points",
        f"- top-1 agreement: {fmt(_pct(c.get('agreement')), '.2f')} % "
        f"({c.get('flipped')} of {c['n']} digits flipped)",
        f"- single-image p50 ratio (int8 / float), 1 thread: {fmt(c.get('p50_ratio_1t'), '.3f')}"
        f"; all cores: {fmt(c.get('p50_ratio_all'), '.3f')}",
        f"- throughput ratio at batch 256 (int8 / float): {fmt(c.get('thr_b256_ratio'), '.3f')}",
        f"- size ratio (int8 / float): {fmt(c.get('size_ratio'), '.3f')}",
    ]
    if c.get("int8_slower"):
        lines.insert(0, f"> **int8 is slower than float32 on this machine** for: "
                        f"{', '.join(c['slower_on'])}.\n")
    return lines


def _latency_details(doc: dict[str, Any]) -> list[str]:
    rows = []
    for model in doc.get("models", []):
        for threads, s in (_get(model, "latency", "single_image_ms") or {}).items():
            rows.append([model["name"], threads, str(s["n"]),
                         *[fmt(_us(s[k]), ".1f") for k in ("min", "p50", "p90", "p99", "max",
                                                           "mean", "std")]])
    out = ["Bare `interpreter.invoke()` of one digit (Keras: the whole call), microseconds:", ""]
    out += table(["model", "threads", "runs", "min", "p50", "p90", "p99", "max", "mean", "std"],
                 rows)
    out += ["", "Throughput, load time, memory and Python overhead:", ""]
    rows = []
    for model in doc.get("models", []):
        lat, mem = model.get("latency") or {}, model.get("memory") or {}
        thr = lat.get("throughput_images_per_s") or {}
        rows.append([model["name"], fmt(thr.get("1"), ",.0f"), fmt(thr.get("32"), ",.0f"),
                     fmt(thr.get("256"), ",.0f"), fmt(lat.get("throughput_threads")),
                     fmt(_get(lat, "load_ms", "p50"), ".2f"),
                     fmt(mem.get("peak_rss_mb"), ".1f"), fmt(mem.get("model_rss_mb"), ".1f"),
                     fmt(_us(_get(lat, "predict_1_image_ms", "p50")), ".1f"),
                     fmt(_us(lat.get("predict_overhead_ms")), ".1f")])
    out += table(["model", "img/s b1", "img/s b32", "img/s b256", "threads", "load ms p50",
                  "peak RSS MB", "model RSS MB", "predict() p50 µs", "overhead µs"], rows)
    out += ["", "`predict()` is `TFLiteModel.predict` of one 28x28 digit at 1 thread (quantize, "
                "set, invoke, get, dequantize); overhead = its p50 minus the bare invoke p50. "
                "Peak RSS is the high-water mark (VmHWM) of a fresh process that imports the "
                "runtime, loads the model and classifies 256 digits; model RSS is that minus "
                "the RSS after the imports."]
    return out


def _accuracy_details(doc: dict[str, Any]) -> list[str]:
    models = [m for m in doc.get("models", []) if m.get("accuracy")]
    rows = [[str(c), *[fmt(_pct(m["accuracy"]["per_class"][c]), ".2f") for m in models]]
            for c in range(10)]
    out = ["Per-class accuracy (%):", ""]
    out += table(["digit", *[m["name"] for m in models]], rows)
    for m in models:
        val = _get(m, "manifest", "validation") or {}
        if val.get("converted_accuracy") is not None:
            out += ["", f"`{m['name']}`: its manifest records "
                        f"{fmt(_pct(val['converted_accuracy']), '.2f')} % on {val.get('n_test')} "
                        "test digits at conversion (a cross-check of the figure above)."]
        f = m["accuracy"].get("flipped")
        if f:
            out += ["", f"`{m['name']}` against `{m['accuracy']['reference']}`: {f['count']} "
                        f"flipped ({f['fixed']} fixed, {f['broken']} broken, "
                        f"{f['both_wrong']} wrong both ways)."]
    return out


def _scenes(doc: dict[str, Any]) -> list[str]:
    models = [m for m in doc.get("models", []) if m.get("scenes")]
    if not models:
        return [f"Skipped: {doc.get('scenes_skipped') or 'no scenes were read'}."]
    names = [m["name"] for m in models]
    rows = [[label, *[fmt(_pct(m["scenes"].get(key)), ".1f") for m in models]]
            for key, label in (("exact_match", "exact match %"),
                               ("per_digit_accuracy", "per-digit accuracy %"),
                               ("images_with_false_digits", "images with false digits %"),
                               ("line_structure_match", "line structure match %"))]
    rows += [[label, *[fmt(m["scenes"].get(key)) for m in models]]
             for key, label in (("truth_digits", "digits in truth"),
                                ("substituted_digits", "substituted"),
                                ("missed_digits", "missed"), ("false_digits", "false"))]
    out = [f"{models[0]['scenes'].get('n')} generated photo-like 'wild' scenes (seed "
           f"{doc['settings'].get('seed')}, MNIST test digits) read by DigitReader with each "
           "model:", "", *table(["metric", *names], rows), "",
           "Exact match (%) by condition:", ""]
    rows = []
    for cond, values in (models[0]["scenes"].get("by_condition") or {}).items():
        for value, first in values.items():
            cells = [fmt(_pct(_get(m["scenes"], "by_condition", cond, value, "exact_match")),
                         ".1f") for m in models]
            rows.append([f"{cond} = {value}", str(first.get("n")), *cells])
    return out + table(["condition", "scenes", *names], rows)


E2E_NOTE = "the same frames, 640x480 BGR; JPEG quality 90"


def _e2e(doc: dict[str, Any]) -> list[str]:
    models = [m for m in doc.get("models", []) if m.get("e2e")]
    if not models:
        return [f"Skipped: {doc.get('e2e_skipped') or 'not run'}."]
    e = models[0]["e2e"]
    out = [f"{e['frames']} {e['width']}x{e['height']} {e['format']} frames "
           f"({e['digits_per_frame']:.1f} digits each): decode, then DigitReader.read; ms.", ""]
    rows = []
    for m in models:
        stages = m["e2e"]["stages_ms"]
        # decode, then the reader's stages in its own order, then the whole frame
        for stage in ["decode", *[k for k in stages if k not in ("decode", "frame")], "frame"]:
            st = stages.get(stage)
            if st:
                label = "decode + read" if stage == "frame" else stage
                rows.append([m["name"], label, *[fmt(st[k], ".3f") for k in ("p50", "p95", "p99")]])
    out += table(["model", "stage", "p50", "p95", "p99"], rows)
    out.append("")
    dec = doc.get("decode_ms") or {}
    if dec:
        out += [f"Decoding alone ({E2E_NOTE}): " + ", ".join(
            f"{k.lstrip('.').upper()} p50 {fmt(v['p50'], '.3f')} ms (p99 {fmt(v['p99'], '.3f')})"
            for k, v in dec.items()) + ".", ""]
    for m in models:
        e = m["e2e"]
        shares = ", ".join(f"{k} {100 * v:.1f} %" for k, v in e["shares_of_read"].items())
        out.append(f"- `{m['name']}`: {fmt(e['fps_p50'], '.1f')} frames/s at the median frame; "
                   f"median read() {fmt(e['read_p50_ms'], '.2f')} ms; share of read(): {shares}; "
                   f"{e['exact_reads']}/{e['frames']} frames read exactly.")
    return out


def render(doc: dict[str, Any]) -> str:
    """The whole benchmark.md for one run."""
    env, ref = doc.get("environment", {}), doc.get("reference")
    sections: list[tuple[str, Callable[[dict[str, Any]], list[str]]]] = [
        ("int8 against float32", _int8_vs_float), ("Latency details", _latency_details),
        ("Accuracy details", _accuracy_details), ("Reading photo-like scenes", _scenes),
        ("End to end on whole frames", _e2e),
    ]
    out = [f"# digitedge benchmark: {env.get('hostname')} {env.get('time_utc')}", ""]
    out += [f"> **warning**: {w}" for w in doc.get("warnings", [])]
    against = ("no float reference in this run" if not ref else f"with `{ref}`" if any(
        m.get("kind") == "keras" for m in doc.get("models", [])) else
        f"with the float32 model converted from the same Keras model, else with `{ref}`")
    out += ["", "## Summary", "", *summary_table(doc), "",
            f"Latency is the bare interpreter invoke of one digit after "
            f"{doc['settings']['warmup']} warm-up runs; accuracy and agreement "
            f"({against}) are on the "
            f"{doc['data']['n_test']} test digits. "
            f"Measuring took {doc.get('elapsed_s')} s{' (--quick)' if doc.get('quick') else ''}."
            + (" A Keras row's latency is the whole model call at TensorFlow's default threads "
               "(in the all-cores column), so it compares with predict(), not with invoke()."
               if any(m.get("kind") == "keras" for m in doc.get("models", [])) else ""), ""]
    for title, section in sections:
        out += [f"## {title}", "", *section(doc), ""]
    out += ["## Plots", ""]
    if doc.get("plots"):
        out += [f"![{p}]({p})" for p in doc["plots"]]
    else:
        out.append(f"Plots skipped: {doc.get('plots_skipped')}.")
    out += ["", "## Machine", "", *_environment(doc), ""]
    return "\n".join(out)
