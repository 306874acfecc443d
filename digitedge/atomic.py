"""Write artifacts to a temporary name beside the target, then rename: never a half file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from digitedge.errors import DigitEdgeError


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in `dest`'s folder; on success it replaces `dest` atomically.

    On any exception the temporary file is removed and `dest` is left as it was. The
    temporary name keeps `dest`'s suffix (or `suffix`) because some writers (Keras,
    matplotlib, OpenCV) choose the format from the file name.
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=suffix if suffix is not None else dest.suffix,
            dir=dest.parent,
        )
    except OSError as exc:
        raise _cannot_write(dest, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file 0600; give the artifact the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _cannot_write(dest, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _cannot_write(dest: Path, exc: OSError) -> DigitEdgeError:
    return DigitEdgeError(f"cannot write {dest}: {exc.strerror or exc}")


def write_bytes(dest: str | os.PathLike[str], data: bytes) -> None:
    """Atomically write `data` to `dest`."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def write_text(dest: str | os.PathLike[str], text: str) -> None:
    """Atomically write UTF-8 `text` to `dest`."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
