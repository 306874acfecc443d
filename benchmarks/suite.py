"""Run every benchmark stage over a list of models and assemble the benchmark.json document."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitedge.benchmarks import accuracy, e2e, envinfo, latency, memory, report
from digitedge.benchmarks.stats import ratio
from digitedge.edge_runtime.backends import load_backend
from digitedge.edge_runtime.manifest import DEFAULT_MODELS
from digitedge.edge_runtime.model import TFLiteModel
from digitedge.errors import needs_tensorflow
from digitedge.train.data import MnistData

Progress = Callable[[str], None]
E2E_DIGITS = 4  # digits per end-to-end frame
E2E_DISTINCT = 10  # distinct frames cycled through (fewer with --quick)
E2E_SIZE = (640, 480)


@dataclass(frozen=True)
class Settings:
    """What one `digitedge bench` run measures; recorded in benchmark.json as `settings`."""

    models: list[Path]
    threads: list[int]  # interpreter thread counts for single-image latency
    runs: int  # timed single-image invokes per model and thread count
    warmup: int  # untimed invokes before timing
    scenes: int  # generated scenes read per model (0 = skip)
    frames: int  # end-to-end frames per model (0 = skip)
    load_repeats: int  # model loads timed per model
    seed: int  # of the generated scenes and frames
    backend: str | None  # forced interpreter backend, None = first available
    memory: bool  # measure peak memory in a subprocess per model
    quick: bool

    def to_json(self) -> dict[str, Any]:
        """JSON-safe settings."""
        d = asdict(self)
        d["models"] = [str(p) for p in self.models]
        return d


def _name(path: Path, taken: set[str]) -> str:
    defaults = {v.resolve(): k for k, v in DEFAULT_MODELS.items()}
    base = defaults.get(path.resolve(), path.stem)
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    taken.add(name)
    return name


def _keras_predict(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """The Keras float model as a predict function. Keras is imported only here, only when a
    .keras file was asked for, so the device path never needs TensorFlow."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
        raise needs_tensorflow(f"the Keras reference model {path}")
    # The conversion stage's loader checks the file and the model's shape with one-line errors.
    converter = importlib.import_module("digitedge.convert.converter")
    model = converter.load_keras_model(path)
    return lambda x: np.asarray(model(np.asarray(x, dtype=np.float32), training=False))


def _describe(path: Path, name: str, tfl: TFLiteModel | None) -> dict[str, Any]:
    data = path.read_bytes()
    entry: dict[str, Any] = {"name": name, "path": str(path), "size_bytes": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}
    if tfl is None:
        return {**entry, "kind": "keras", "input_dtype": "float32", "quantization": "float32"}
    man = tfl.manifest or {}
    # The manifest says how the model was quantized; without one, a full-integer model is
    # recognised by its integer input tensor.
    mode = (man.get("quantization") or {}).get("mode") or (
        "int8" if np.issubdtype(tfl.input_dtype, np.integer) else "float32")
    return {**entry, "kind": "tflite", "input_dtype": str(tfl.input_dtype),
            "output_dtype": str(tfl.output_dtype), "quantization": mode,
            "manifest": {"keras_model": (man.get("source") or {}).get("keras_model"),
                         "validation": {k: (man.get("validation") or {}).get(k)
                                        for k in ("n_test", "converted_accuracy", "agreement")},
                         "created_utc": man.get("created_utc")} if man else None}


def _source_sha(entry: dict[str, Any]) -> str | None:
    return ((entry.get("manifest") or {}).get("keras_model") or {}).get("sha256")


def _float_sibling(entry: dict[str, Any], models: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The float32 model converted from the same Keras model, per the manifests.

    Agreement means "what quantization changed", so a model is compared with its own float
    version when the run has it, not with another architecture's float model.
    """
    sha = _source_sha(entry)
    if sha is None or entry["quantization"] == "float32":
        return None
    return next((m for m in models if m is not entry and m["quantization"] == "float32"
                 and _source_sha(m) == sha), None)


def e2e_frames(settings: Settings, data: MnistData, progress: Progress) -> list[Any]:
    """Distinct 640x480 frames with exactly four digits, from the scenes helper's generator."""
    from digitedge.benchmarks import scenes as gen  # noqa: PLC0415 - only when asked for

    want = min(E2E_DISTINCT if not settings.quick else 4, settings.frames)
    progress(f"looking for {want} {E2E_SIZE[0]}x{E2E_SIZE[1]} 'basic' scenes "
             f"with {E2E_DIGITS} digits")
    frames = []
    # The generator picks the digit count itself; keep the first scenes that have four.
    for scene in gen.iter_scenes(50 * want, settings.seed + 1, data.x_test, data.y_test,
                                 profile="basic", width=E2E_SIZE[0], height=E2E_SIZE[1]):
        if len(scene.text.replace("\n", "")) == E2E_DIGITS:
            frames.append(scene)
            if len(frames) == want:
                break
    return frames


def read_scenes(settings: Settings, data: MnistData, readers: dict[str, Any],
                progress: Progress) -> dict[str, dict[str, Any]]:
    """Reading accuracy of every reader on the same generated 'wild' scenes.

    Scenes are generated one at a time and read by every model before the next, so memory
    stays flat (a 640x480 scene is ~1 MB) and each scene is generated once.
    """
    from digitedge.benchmarks import scenes as gen  # noqa: PLC0415 - only when asked for
    from digitedge.benchmarks.scene_score import score_readings  # noqa: PLC0415

    progress(f"generating and reading {settings.scenes} 'wild' scenes (seed {settings.seed})")
    truths, conditions = [], []
    reads: dict[str, list[str]] = {name: [] for name in readers}
    for scene in gen.iter_scenes(settings.scenes, settings.seed, data.x_test, data.y_test,
                                 profile="wild"):
        truths.append(scene.text)
        conditions.append(scene.conditions)
        for name, reader in readers.items():
            reads[name].append(reader.read(scene.image).text)
    out = {}
    for name in readers:
        out[name] = score_readings(truths, reads[name], conditions)
        out[name]["readings"] = [{"truth": t, "read": r}
                                 for t, r in zip(truths, reads[name], strict=True)]
    return out


def int8_vs_float(models: list[dict[str, Any]], preds: dict[str, np.ndarray],
                  all_key: str) -> dict[str, Any] | None:
    """int8 against float32 TFLite (the first int8 and its own float32, else the first float32):
    accuracy, agreement, speed and size
    ratios, and whether int8 is slower here (it can be, on CPUs without fast int8 kernels)."""
    tfl = [m for m in models if m["kind"] == "tflite"]
    q = next((m for m in tfl if m["quantization"] == "int8"), None)
    f = (_float_sibling(q, tfl) if q is not None else None) or next(
        (m for m in tfl if m["quantization"] == "float32"), None)
    if q is None or f is None:
        return None
    hq, hf = report.headline(q, all_key), report.headline(f, all_key)
    agree = float(np.mean(preds[q["name"]] == preds[f["name"]]))
    c: dict[str, Any] = {
        "int8": q["name"], "float": f["name"], "n": int(preds[q["name"]].size),
        "accuracy_diff_pp": (hq["accuracy"] - hf["accuracy"]) if hq["accuracy"] is not None
        and hf["accuracy"] is not None else None,
        "agreement": agree, "flipped": int(np.sum(preds[q["name"]] != preds[f["name"]])),
        "p50_ratio_1t": ratio(hq["p50_1t_us"], hf["p50_1t_us"]),
        "p50_ratio_all": ratio(hq["p50_all_us"], hf["p50_all_us"]),
        "thr_b256_ratio": ratio(hq["thr_b256"], hf["thr_b256"]),
        "size_ratio": ratio(q["size_bytes"], f["size_bytes"]),
    }
    slower = [label for key, label, worse in (
        ("p50_ratio_1t", "single-image p50 at 1 thread", lambda r: r > 1),
        ("p50_ratio_all", f"single-image p50 at {all_key} threads", lambda r: r > 1),
        ("thr_b256_ratio", "throughput at batch 256", lambda r: r < 1),
    ) if c[key] is not None and worse(c[key]) and not (key == "p50_ratio_all" and all_key == "1")]
    c["int8_slower"], c["slower_on"] = bool(slower), slower
    return c


def run_suite(settings: Settings, data: MnistData, progress: Progress
              ) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Measure every model; returns (benchmark.json document, raw latency samples for plots)."""
    backend = load_backend(settings.backend)
    env = envinfo.collect(backend.name, backend.version, settings.threads)
    all_key = str(max(settings.threads))
    taken: set[str] = set()
    models: list[dict[str, Any]] = []
    preds: dict[str, np.ndarray] = {}
    samples: dict[str, dict[str, np.ndarray]] = {}
    loaded: dict[str, TFLiteModel] = {}
    for path in settings.models:
        name = _name(path, taken)
        if path.suffix == ".keras":
            progress(f"{name}: loading the Keras reference (imports TensorFlow)")
            predict = _keras_predict(path)
            entry = _describe(path, name, None)
            lat = latency.measure_callable(predict, data.x_test, runs=settings.runs,
                                           warmup=settings.warmup)
        else:
            tfl = TFLiteModel(path, backend=settings.backend, threads=max(settings.threads))
            loaded[name], predict = tfl, tfl.predict
            entry = _describe(path, name, tfl)
            lat = latency.measure_tflite(path, data.x_test, threads=settings.threads,
                                         runs=settings.runs, warmup=settings.warmup,
                                         load_repeats=settings.load_repeats,
                                         backend=settings.backend, name=name,
                                         progress=progress)
            if settings.memory:
                progress(f"{name}: peak memory in a fresh process")
                entry["memory"] = memory.measure_in_subprocess(path, max(settings.threads),
                                                               backend=settings.backend)
        entry["latency"], samples[name] = lat.to_json(), lat.samples_ms
        progress(f"{name}: classifying {len(data.y_test)} test digits")
        preds[name] = accuracy.predict_in_batches(predict, data.x_test)
        models.append(entry)
    ref = next((m for m in models if m["kind"] == "keras"), None) or next(
        (m for m in models if m["quantization"] == "float32"), None)
    for m in models:
        # An explicit Keras reference is what the user asked everything to be compared with.
        own = None if ref is not None and ref["kind"] == "keras" else _float_sibling(m, models)
        use = own or (ref if ref is not None and ref is not m else None)
        m["accuracy"] = accuracy.accuracy_report(
            data.y_test, preds[m["name"]], preds[use["name"]] if use else None,
            use["name"] if use else None)
    doc: dict[str, Any] = {"schema_version": report.SCHEMA_VERSION, "kind": report.KIND,
                           "quick": settings.quick, "settings": settings.to_json(),
                           "environment": env, "reference": ref["name"] if ref else None,
                           "models": models, "warnings": []}
    _reading_and_e2e(settings, data, loaded, models, doc, progress)
    doc["int8_vs_float"] = int8_vs_float(models, preds, all_key)
    env["load_average_end"] = envinfo.load_average()
    _warnings(doc, env)
    return doc, samples


def _reading_and_e2e(settings: Settings, data: MnistData, loaded: dict[str, TFLiteModel],
                     models: list[dict[str, Any]], doc: dict[str, Any],
                     progress: Progress) -> None:
    doc["scenes_skipped"] = "--scenes 0" if not settings.scenes else None
    doc["e2e_skipped"] = "--frames 0" if not settings.frames else None
    if not settings.scenes and not settings.frames:
        return
    try:
        from digitedge.edge_runtime.reader import DigitReader  # noqa: PLC0415

        readers = {name: DigitReader(model) for name, model in loaded.items()}
        scores = read_scenes(settings, data, readers, progress) if settings.scenes else {}
        frames = e2e_frames(settings, data, progress) if settings.frames else []
    except Exception as exc:  # noqa: BLE001 - keep the minutes of results measured so far
        reason = f"failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        progress(f"scenes and end-to-end {reason}")
        doc["scenes_skipped"] = doc["e2e_skipped"] = reason
        doc["warnings"].append(f"scene reading and end-to-end timing {reason}")
        return
    if settings.frames and not frames:
        doc["e2e_skipped"] = f"no {E2E_DIGITS}-digit scene found"
    encoded = e2e.encode_frames([s.image for s in frames]) if frames else []
    if encoded:
        # Decoding does not depend on the model; JPEG is what the frame timings use.
        progress("timing JPEG and PNG decoding")
        doc["decode_ms"] = {
            fmt: e2e.time_decode(e2e.encode_frames([s.image for s in frames], fmt),
                                 settings.frames).to_json()
            for fmt in (".jpg", ".png")}
    timed = {}
    if encoded:
        progress(f"{settings.frames} end-to-end frames per model, models taking turns")
        timed = e2e.run_frames({name: r.read for name, r in readers.items()}, encoded,
                               [s.text for s in frames], settings.frames,
                               warmup=min(3, settings.frames))
    for m in models:
        if m["name"] in scores:
            m["scenes"] = scores[m["name"]]
        if m["name"] in timed:
            m["e2e"] = timed[m["name"]].to_json()


def _warnings(doc: dict[str, Any], env: dict[str, Any]) -> None:
    c = doc.get("int8_vs_float")
    if c and c["int8_slower"]:
        doc["warnings"].append(f"int8 ({c['int8']}) is slower than float32 ({c['float']}) on "
                               f"this machine: {', '.join(c['slower_on'])}")
    load = env.get("load_average_start") or [0.0]
    cores = env.get("cores_available") or 1
    if load[0] > 0.5 * cores:
        doc["warnings"].append(f"the machine was busy (1-minute load {load[0]} on {cores} "
                               "cores): timings are noisy")
    if any(m.get("memory", {}).get("error") for m in doc["models"]):
        doc["warnings"].append("peak memory could not be measured for some models")

