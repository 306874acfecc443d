"""Put several benchmark.json runs side by side (devices, versions), with ratios to the first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from digitedge.benchmarks import report
from digitedge.benchmarks.report import EXTRA, HEADLINE, Metric, fmt, table
from digitedge.benchmarks.stats import ratio
from digitedge.errors import DigitEdgeError


class Run(NamedTuple):
    """One loaded benchmark.json and the column label it gets."""

    label: str
    path: Path
    doc: dict[str, Any]


def load_run(path: str | Path) -> dict[str, Any]:
    """Read a benchmark.json, refusing anything that is not a digitedge benchmark we can read.

    Raises:
        DigitEdgeError: missing, not JSON, or not a digitedge benchmark.json of this schema.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DigitEdgeError(f"benchmark file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DigitEdgeError(f"{path} is not readable JSON ({reason})") from None
    if not isinstance(doc, dict) or doc.get("kind") != report.KIND:
        raise DigitEdgeError(f"{path} is not a digitedge benchmark.json (no \"kind\": "
                             f"\"{report.KIND}\"); pass files written by `digitedge bench`")
    version = doc.get("schema_version")
    if version != report.SCHEMA_VERSION:
        raise DigitEdgeError(f"{path} has benchmark schema_version {version!r}; this digitedge "
                             f"reads version {report.SCHEMA_VERSION}: rerun `digitedge bench`")
    if not isinstance(doc.get("models"), list) or not all(
            isinstance(m, dict) and "name" in m for m in doc["models"]):
        raise DigitEdgeError(f"{path} is a damaged benchmark.json (its \"models\" list is "
                             "malformed); rerun `digitedge bench`")
    return doc


def load_runs(paths: list[Path]) -> list[Run]:
    """Load every file; labels are "host time", made unique with the file name if needed."""
    docs = [(Path(p), load_run(p)) for p in paths]
    labels = []
    for _path, doc in docs:
        env = doc.get("environment") or {}
        labels.append(f"{env.get('hostname', '?')} {str(env.get('time_utc', ''))[:16]}".strip())
    if len(set(labels)) < len(labels):
        labels = [f"{label} ({path.parent.name or path.name})"
                  for label, (path, _) in zip(labels, docs, strict=True)]
    return [Run(label, path, doc) for label, (path, doc) in zip(labels, docs, strict=True)]


def model_names(runs: list[Run]) -> list[str]:
    """Every model name in any run, in order of first appearance."""
    names: list[str] = []
    for run in runs:
        names += [m["name"] for m in run.doc["models"] if m["name"] not in names]
    return names


def metric_rows(runs: list[Run], name: str,
                metrics: tuple[Metric, ...] = HEADLINE + EXTRA) -> list[dict[str, Any]]:
    """For one model: per metric, its value in each run and the ratio to the first run."""
    values = []
    for run in runs:
        model = next((m for m in run.doc["models"] if m["name"] == name), None)
        values.append(report.headline(model, report.all_cores_key(run.doc)) if model else None)
    rows = []
    for m in metrics:
        vals = [v[m.key] if v else None for v in values]
        rows.append({"metric": m, "values": vals,
                     "ratios": [ratio(v, vals[0]) for v in vals]})
    return rows


def _version(env: dict[str, Any]) -> str:
    git = env.get("git") or {}
    commit = f" {git['commit']}{'+dirty' if git.get('dirty') else ''}" if git.get("commit") else ""
    return f"{env.get('digitedge')}{commit}"


def _runs_table(runs: list[Run]) -> list[str]:
    rows = []
    for run in runs:
        env, data = run.doc.get("environment") or {}, run.doc.get("data") or {}
        rows.append([run.label, str(run.path), fmt(env.get("board") or env.get("cpu_model")),
                     fmt(env.get("cores_available")), fmt(env.get("architecture")),
                     f"{env.get('backend')} {env.get('backend_version')}",
                     _version(env), fmt(data.get("n_test")),
                     "yes" if run.doc.get("quick") else "no"])
    return table(["run", "file", "board / CPU", "cores", "arch", "backend", "digitedge",
                  "test digits", "quick"], rows)


def render_comparison(runs: list[Run]) -> str:
    """Markdown: the runs, then per model a metric x run table with ratios to the first run."""
    out = ["# digitedge benchmark comparison", "",
           f"{len(runs)} runs; ratios are each run's value over the first run's "
           f"(`{runs[0].label}`). For latency, load time, size and memory lower is better; "
           "for throughput, frames/s and accuracy higher is better. 'all cores' means each "
           "run's own largest thread count.", "", *_runs_table(runs), ""]
    for name in model_names(runs):
        out += [f"## {name}", ""]
        rows = []
        for row in metric_rows(runs, name):
            m: Metric = row["metric"]
            if all(v is None for v in row["values"]):
                continue
            cells = [fmt(row["values"][0], m.fmt)]
            cells += [fmt(v, m.fmt) + (f" (×{r:.2f})" if r is not None else "")
                      for v, r in zip(row["values"][1:], row["ratios"][1:], strict=True)]
            rows.append([f"{m.label} ({'higher' if m.higher_is_better else 'lower'} better)",
                         *cells])
        out += table(["metric", *[r.label for r in runs]], rows) + [""]
    out += ["## int8 against float32 in each run", ""]
    rows = []
    for run in runs:
        c = run.doc.get("int8_vs_float") or {}
        rows.append([run.label, fmt(c.get("accuracy_diff_pp"), "+.2f"),
                     fmt(100 * c["agreement"] if c.get("agreement") is not None else None, ".2f"),
                     fmt(c.get("p50_ratio_1t"), ".3f"), fmt(c.get("p50_ratio_all"), ".3f"),
                     fmt(c.get("size_ratio"), ".3f"),
                     "**yes**" if c.get("int8_slower") else ("no" if c else "—")])
    out += table(["run", "accuracy diff pp", "agreement %", "p50 ratio 1 thr",
                  "p50 ratio all cores", "size ratio", "int8 slower"], rows)
    return "\n".join(out) + "\n"
