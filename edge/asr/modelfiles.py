"""Checks on model folders and the identity of weights files, shared by the ASR backends."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge import files
from edge.errors import ModelError

HASH_LIMIT_BYTES = 512 * 1024 * 1024  # hashing is skipped above this: it would slow every start-up


def require_files(folder: Path, names: Sequence[str], what: str) -> None:
    """Raise ModelError naming the folder and every missing file; the folder must exist."""
    if not folder.is_dir():
        raise ModelError(str(folder), f"{what} model dir does not exist")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise ModelError(str(folder), f"{what} model dir lacks {', '.join(missing)}")


def file_sha256(path: Path, limit: int | None = HASH_LIMIT_BYTES) -> str | None:
    """Hex sha256 of a weights file, or None when it is larger than ``limit`` bytes."""
    return files.file_sha256(path, limit)
