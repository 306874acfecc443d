"""Record what changes timings: CPU, cores, governor, board, OS, Python and library versions."""

from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from digitedge.versions import dist_version

# Files that say which board and CPU this is; absent (or unreadable) on most non-Linux systems.
_CPUINFO = Path("/proc/cpuinfo")
_DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
_GOVERNOR = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
_MAX_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip("\x00\n ")
    except OSError:
        return None


def cpu_model(cpuinfo: str | None) -> str:
    """The CPU's name from /proc/cpuinfo text ("model name" on x86, "Model"/"Hardware" on Arm)."""
    fields: dict[str, str] = {}
    for line in (cpuinfo or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields and value.strip():
            fields[key.strip()] = value.strip()
    for key in ("model name", "Model", "Hardware", "cpu model", "Processor"):
        if key in fields:
            return fields[key]
    # Arm kernels often give only the part number; better than nothing for a comparison.
    if "CPU part" in fields:
        return f"Arm CPU part {fields['CPU part']}"
    return platform.processor() or platform.machine() or "unknown"


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, which containers and taskset limit)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1



def git_revision() -> dict[str, Any] | None:
    """The checkout's commit and whether it has local changes; None outside a git checkout
    (an installed wheel), so two runs of "the same version" can be told apart."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def load_average() -> list[float] | None:
    """1/5/15-minute load: a busy machine explains noisy timings."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def collect(backend_name: str | None = None, backend_version: str | None = None,
            threads: list[int] | None = None) -> dict[str, Any]:
    """Everything about this machine and software a benchmark result depends on."""
    import cv2  # noqa: PLC0415 - imported here so this module stays cheap to import
    import numpy as np  # noqa: PLC0415

    max_freq = _read(_MAX_FREQ)
    return {
        "hostname": socket.gethostname(),
        "time_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(_read(_CPUINFO)),
        "cpu_count": os.cpu_count(),
        "cores_available": available_cores(),
        "architecture": platform.machine(),
        "os": platform.platform(),
        "board": _read(_DEVICE_TREE_MODEL),  # e.g. "Raspberry Pi 5 Model B Rev 1.0"
        "cpu_governor": _read(_GOVERNOR),
        "cpu_max_mhz": int(max_freq) // 1000 if max_freq and max_freq.isdigit() else None,
        "load_average_start": load_average(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "backend": backend_name,
        "backend_version": backend_version,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "matplotlib": dist_version("matplotlib"),
        "digitedge": dist_version("digitedge"),
        "git": git_revision(),
        "threads": threads,
    }
