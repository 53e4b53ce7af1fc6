"""File identity: the sha256 that evidence, the model pack and the model caches record."""

from __future__ import annotations

import hashlib
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
