"""The device path runs with TensorFlow and Keras unimportable (a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
BLOCKED = ("tensorflow", "keras", "tf_keras")

# Runs in the child: a meta-path finder refuses the blocked packages before anything else is
# imported, then runs the CLI and reports which modules were loaded.
CHILD = """
import importlib.abc, json, sys

BLOCKED = {blocked!r}

class Block(importlib.abc.MetaPathFinder):
    tried = set()  # every attempt, so a fallback that swallows ImportError is still caught

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            Block.tried.add(name)
            raise ImportError(f"{{name}} is blocked in this test")
        return None

sys.meta_path.insert(0, Block())
from digitedge.cli import main
code = main({argv!r})
loaded = sorted({{m for m in sys.modules if m.split(".")[0] in BLOCKED}} | Block.tried)
print("MODULES " + json.dumps(loaded))
sys.exit(code)
"""


def run_blocked(argv: list[str]) -> subprocess.CompletedProcess[str]:
    script = CHILD.format(blocked=BLOCKED, argv=argv)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_blocker_really_blocks() -> None:
    """Guard against a vacuous test: importing TensorFlow in the child must fail."""
    prelude = CHILD.format(blocked=BLOCKED, argv=[]).split("from digitedge")[0]
    proc = subprocess.run(
        [sys.executable, "-c", prelude + "import tensorflow"],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0 and "blocked in this test" in proc.stderr


def test_read_runs_without_tensorflow() -> None:
    proc = run_blocked(["read", str(DATA / "number_dark.png"), str(DATA / "chalk_two_lines.png"),
                        "--json"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("MODULES ")
    assert json.loads(lines[-1][len("MODULES "):]) == []
    texts = [json.loads(line)["text"] for line in lines[:-1]]
    assert texts == ["4071", "358\n6290"]


def test_live_runs_without_tensorflow() -> None:
    proc = run_blocked(["live", "--source", str(DATA / "single_digit.jpg"), "--max-frames", "1",
                        "--stable-frames", "1", "--json-lines", "--no-display"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert json.loads(lines[-1][len("MODULES "):]) == []
    assert [json.loads(line)["text"] for line in lines[:-1]] == ["8"]
