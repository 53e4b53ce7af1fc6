"""The box's keyframe store: each window's keyframe JPEGs as ``<sha256>.jpg`` in one folder.

The evidence names a keyframe only by its JPEG's sha256; the pixels stay on the box, here, until the
centre asks for them (``<root>/cmd/keyframe``, :mod:`edge.transport.commands`). A window's JPEGs are
written before its documents are committed to the outbox, so a result never names a keyframe the box
does not have yet. Each file is written to a temporary name, flushed to disk and renamed: a reader
sees a whole JPEG or none, and a crash leaves at most a temporary file, removed on the next start.

Bounded by ``max_files`` and ``max_bytes``: past either, the oldest files go first (each removal
counted as rotated). The files of the window being written are never removed for it, so a window of
K keyframes may exceed a bound by at most K-1 files until the next window. On start the folder's
``<sha256>.jpg`` files are indexed oldest first by their modification time (the store survives a
restart); other files are left alone and not counted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edge.errors import LiveGuardError
from edge.files import fsync_dir

log = logging.getLogger("liveguard.keyframes")

SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^([0-9a-f]{64})\.jpg$")
_TEMP = re.compile(r"^\.[0-9a-f]{64}\.[0-9]+\.[0-9]+\.tmp$")


class KeyframeStoreError(LiveGuardError):
    """The store's folder cannot be created or read."""


@dataclass(frozen=True)
class KeyframeStats:
    """What the store holds and what it did since it was opened."""

    files: int
    bytes: int
    written: int  # files written (a JPEG already held is only refreshed, not counted)
    rotated: int  # files removed at a bound, oldest first
    failed: int  # writes that failed (disk full, ...): the window's documents are committed anyway
    corrupt: int  # files whose content no longer hashed to their name when read: removed


class KeyframeStore:
    """``<sha256>.jpg`` files in ``folder``, at most ``max_files`` and ``max_bytes``; thread-safe."""

    def __init__(self, folder: Path, max_files: int, max_bytes: int) -> None:
        if max_files < 1 or max_bytes < 1:
            raise ValueError("the keyframe store needs room for at least one file")
        self.folder = Path(folder)
        self.max_files = max_files
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._index: OrderedDict[str, int] = OrderedDict()  # sha256 -> size, oldest first
        self._bytes = 0
        self._written = self._rotated = self._failed = self._corrupt = 0
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            found = self._scan()
        except OSError as exc:
            raise KeyframeStoreError(str(self.folder), f"keyframe store cannot be opened: {exc.strerror or exc}") from exc
        for sha, size, _ in sorted(found, key=lambda item: (item[2], item[0])):
            self._index[sha] = size
            self._bytes += size
        with self._lock:
            self._rotate(keep=())
        log.info("keyframe store %s: %d file(s), %.1f MB", self.folder, len(self._index), self._bytes / 2**20)

    def _scan(self) -> list[tuple[str, int, int]]:
        found = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if _TEMP.match(entry.name):  # a write cut short by a crash
                    _unlink(Path(entry.path))
                    continue
                match = _NAME.match(entry.name)
                if match and entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    found.append((match.group(1), stat.st_size, stat.st_mtime_ns))
        return found

    def path(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.jpg"

    def put_many(self, jpegs: Sequence[bytes]) -> list[str]:
        """Store one window's JPEGs (durable on return); their sha256s in order. Raises OSError if a write fails."""
        digests = [hashlib.sha256(jpeg).hexdigest() for jpeg in jpegs]
        with self._lock:
            try:
                for sha, jpeg in zip(digests, jpegs, strict=True):
                    self._write(sha, jpeg)
            except OSError:
                self._failed += 1
                raise
            finally:
                self._rotate(keep=set(digests))
        return digests

    def put(self, jpeg: bytes) -> str:
        return self.put_many([jpeg])[0]

    def get(self, sha256: str) -> bytes | None:
        """The JPEG named ``sha256``; None when the store does not hold it (never had it, or rotated it out)."""
        if not SHA256.match(sha256):
            return None
        try:
            fd = os.open(self.path(sha256), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as file:
                data = file.read(self.max_bytes + 1)
        except OSError as exc:
            log.warning("keyframe %s: cannot be read: %s", self.path(sha256), exc)
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            log.warning("keyframe %s: its content no longer matches its name; removed", self.path(sha256))
            with self._lock:
                self._corrupt += 1
                self._forget(sha256)
            _unlink(self.path(sha256))
            return None
        return data

    def __contains__(self, sha256: object) -> bool:
        with self._lock:
            return sha256 in self._index

    def stats(self) -> KeyframeStats:
        with self._lock:
            return KeyframeStats(len(self._index), self._bytes, self._written, self._rotated, self._failed, self._corrupt)

    # -- under the lock --------------------------------------------------------------------------

    def _write(self, sha: str, jpeg: bytes) -> None:
        final = self.path(sha)
        if sha in self._index and final.exists():  # the same picture again: it becomes the newest
            os.utime(final)
            self._index.move_to_end(sha)
            return
        self._forget(sha)
        temp = self.folder / f".{sha}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(temp, "wb") as file:
                file.write(jpeg)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, final)
        except OSError:
            _unlink(temp)
            raise
        fsync_dir(self.folder)
        self._index[sha] = len(jpeg)
        self._bytes += len(jpeg)
        self._written += 1

    def _rotate(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        while len(self._index) > self.max_files or self._bytes > self.max_bytes:
            victim = next((sha for sha in self._index if sha not in keep), None)
            if victim is None:
                return  # only the window being written is left: it stays
            self._forget(victim)
            _unlink(self.path(victim))
            self._rotated += 1

    def _forget(self, sha: str) -> None:
        size = self._index.pop(sha, None)
        if size is not None:
            self._bytes -= size


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("%s: cannot be removed: %s", path, exc)
