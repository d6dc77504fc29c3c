"""Atomic file writes (a temp file in the same directory, fsync, then ``os.replace``) and the
matching JSON read.

A reader never sees a half-written file, and a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from desktop_app.errors import ActionLensError, unwritable_error


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    ``suffix`` ends the temp file's name, for writers that choose a format by extension.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + suffix, dir=target.parent)
    except OSError as exc:
        raise (unwritable_error(exc, target) or exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    except OSError as exc:  # a full disk while writing: one line naming the file, the old one kept
        raise (unwritable_error(exc, target) or exc) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temp file for writing; it replaces ``path`` when the block ends without error."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")


def write_npy(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as a ``.npy`` file (memory-mappable, never pickled), atomically."""
    # Through a file handle: given a path, np.save would append ".npy" to the temp name.
    with atomic_open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


def read_json(path: Path, fix: str, error: type[ActionLensError] = ActionLensError) -> Any:
    """Read a JSON file we wrote, or raise ``error`` saying the file is damaged and what to do.

    ``fix`` is the remedy for this kind of file ("train the run again" …); the message is
    ``"{path} is damaged ({reason}); {fix}"``. Format and version checks stay with the caller.
    JSON nested deeper than Python's recursion limit (``[[[[…`` 100 000 deep) is damaged too,
    not a ``RecursionError`` in every command that opens the file.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise error(f"{path} is damaged ({exc}); {fix}") from exc
    except RecursionError as exc:
        raise error(f"{path} is damaged (nested too deeply to be one of our files); {fix}") from exc
