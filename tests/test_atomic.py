"""Artifacts are replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitedge.atomic import atomic_path, write_text


def test_write_replaces_whole_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.json"
    dest.write_text("old")
    write_text(dest, "new")
    assert dest.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "model.tflite"
    dest.write_bytes(b"precious")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert dest.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_temp_name_keeps_suffix(tmp_path: Path) -> None:
    """Writers such as Keras and OpenCV pick the format from the suffix."""
    with atomic_path(tmp_path / "plot.png") as tmp:
        assert tmp.suffix == ".png"
        assert tmp.parent == tmp_path
        tmp.write_bytes(b"x")
