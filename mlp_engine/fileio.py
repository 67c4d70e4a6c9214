"""Atomic file writes: every file the engine (and the app) writes goes through here.

A temporary file beside the target, flushed and fsynced, then ``os.replace``: a crash, a full
disk or Ctrl-C leaves either the old file or the new one, never half of one, and no
temporary file behind.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import BinaryIO, Callable, Iterator


@contextlib.contextmanager
def atomic_open(path) -> Iterator[BinaryIO]:
    """Open a temporary file next to ``path`` for binary writing; on success move it into place.

    On any exception (including KeyboardInterrupt) the temporary file is removed and ``path``
    is left untouched. The parent directory is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 honours the umask, unlike tempfile's 0o600.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it over ``path``."""
    with atomic_open(path) as f:
        write(f)
    return Path(path)
