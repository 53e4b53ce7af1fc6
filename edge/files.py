"""File identity: the sha256 that evidence, the model pack and the model caches record; durable renames."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

BLOCK = 1 << 20


def file_sha256(path: str | Path, limit: int | None = None, also: Any = None) -> str | None:
    """Hex sha256 of the file at ``path``; None when ``limit`` is set and the file is larger.

    ``also``: another hash object fed the same bytes (a digest over several files).
    """
    path = Path(path)
    if limit is not None and path.stat().st_size > limit:
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
            if also is not None:
                also.update(block)
    return digest.hexdigest()


def fsync_dir(folder: str | Path) -> None:
    """Make a rename into ``folder`` durable (POSIX: the directory entry is flushed with the directory); best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a file system that cannot sync a directory: the rename stands, only its durability is not proven
    finally:
        os.close(fd)
