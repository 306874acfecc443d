"""The top-level command: version, help for every subcommand, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from digitedge import __version__
from digitedge.cli import SUBCOMMANDS, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"digitedge {__version__}"


@pytest.mark.parametrize("name", [name for name, _, _ in SUBCOMMANDS])
def test_every_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert f"usage: digitedge {name}" in capsys.readouterr().out


def test_help_does_not_import_tensorflow() -> None:
    """Building the whole parser must stay cheap enough for a Pi: no TensorFlow import."""
    code = ("import sys; from digitedge.cli import build_parser; build_parser(); "
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"imported at parser build: {proc.stdout.strip()}"


def test_unknown_subcommand_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fly"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_unwritable_output_is_one_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """An output path under a regular file fails with one line, not a traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["scenes", "--out", str(blocker / "scenes"), "--n", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitedge: error: ") and "\n" not in err
    assert "Traceback" not in err
