"""Checks on model folders shared by the ASR backends, and the size above which weights are not hashed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge.errors import ModelError

HASH_LIMIT_BYTES = 512 * 1024 * 1024  # hashing is skipped above this: it would slow every start-up


def require_files(folder: Path, names: Sequence[str], what: str) -> None:
    """Raise ModelError naming the folder and every missing file; the folder must exist."""
    if not folder.is_dir():
        raise ModelError(str(folder), f"{what} model dir does not exist")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise ModelError(str(folder), f"{what} model dir lacks {', '.join(missing)}")
