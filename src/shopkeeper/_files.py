"""Durable file writes shared by the job runner, the key files and erasure.

``write_atomic`` replaces a file so that a reader, or a crash at any moment,
sees the old file or the whole new one, never part of it, and so that the
new one survives a power cut once the call returns.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries to disk: a new or renamed file is durable only then."""
    # Not every platform (Windows) can open a folder; there a rename is as
    # durable as it gets without this.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes | Callable[[BinaryIO], object]) -> None:
    """Write ``data`` (bytes, or a function writing to the open file) to ``path`` atomically.

    The bytes go to a temporary file beside ``path`` (a name of its own per
    writer, since two processes may write the same file at once), which is
    flushed to disk and renamed over ``path``; the folder is flushed last.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                data(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
