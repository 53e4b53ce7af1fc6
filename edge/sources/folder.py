"""A watched folder: video files that appear in it are handed out once each, after they stopped growing.

What is done is remembered in SQLite (one row per file, committed at once), so a restart does not read a
file again, and a crash before ``mark_done`` does: the caller marks a file only after it committed the
file's results. A file is the triple path + size + mtime, so a file replaced under the same name is new.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from edge.closing import Closing
from edge.errors import SourceError

__all__ = ["VIDEO_SUFFIXES", "FolderWatcher"]

VIDEO_SUFFIXES = (".mp4", ".mkv", ".flv", ".ts", ".mov", ".webm")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS done (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    done_at REAL NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
)
"""

_Identity = tuple[int, int]  # size, mtime_ns


class FolderWatcher(Closing):
    """Hands out the settled, not yet done video files of ``folder`` (not its subfolders), oldest first.

    ``poll()`` scans once: a file comes out when its size and mtime have not changed for ``settle_s``
    seconds (0: at first sight), its suffix is one of ``suffixes`` (any case), its name does not start
    with a dot (partial uploads), and it is neither done nor already handed out by this watcher.
    ``watch()`` repeats that every ``poll_s`` seconds. ``mark_done(path)`` records a file durably.
    """

    def __init__(
        self,
        folder: str | Path,
        state_file: str | Path,
        poll_s: float = 2.0,
        settle_s: float = 2.0,
        suffixes: tuple[str, ...] = VIDEO_SUFFIXES,
    ) -> None:
        if not poll_s > 0 or settle_s < 0:
            raise ValueError(f"poll_s must be positive and settle_s not negative, got {poll_s!r}, {settle_s!r}")
        self.folder = Path(folder).expanduser().absolute()
        self.state_file = Path(state_file)
        self.poll_s = float(poll_s)
        self.settle_s = float(settle_s)
        self.suffixes = tuple(s.lower() for s in suffixes)
        self._check_folder()
        self._seen: dict[Path, tuple[_Identity, float]] = {}  # a file's identity and since when it is unchanged
        self._handed: dict[Path, _Identity] = {}
        self._lock = threading.Lock()
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self._db: sqlite3.Connection | None = sqlite3.connect(self.state_file, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SourceError(str(self.state_file), f"cannot open the watched folder's state: {exc}") from exc

    def poll(self) -> list[Path]:
        """The files ready now, oldest mtime first; each comes out once per watcher (until a restart)."""
        self._check_folder()
        now = time.monotonic()
        found: list[tuple[int, str, Path]] = []
        try:
            entries = list(self.folder.iterdir())
        except OSError as exc:
            raise SourceError(str(self.folder), f"cannot list the watched folder: {exc.strerror or exc}") from exc
        present = set()
        for path in entries:
            if path.name.startswith(".") or path.suffix.lower() not in self.suffixes:
                continue
            try:
                stat = path.stat()
            except OSError:  # gone between listing and stat
                continue
            if not path.is_file():
                continue
            present.add(path)
            identity = (stat.st_size, stat.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen[0] != identity:
                self._seen[path] = (identity, now)
                if self.settle_s > 0:
                    continue
            elif now - seen[1] < self.settle_s:
                continue
            if self._handed.get(path) == identity or self._is_done(path, identity):
                continue
            found.append((stat.st_mtime_ns, path.name, path))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        found.sort()
        ready = [path for _, _, path in found]
        for path in ready:
            self._handed[path] = self._seen[path][0]
        return ready

    def watch(self, stop: threading.Event) -> Iterator[Path]:
        """Ready files, one at a time, scanning every ``poll_s`` s until ``stop`` is set."""
        while not stop.is_set():
            for path in self.poll():
                if stop.is_set():
                    return
                yield path
            stop.wait(self.poll_s)

    def mark_done(self, path: str | Path) -> None:
        """Record ``path`` as done, as it was when handed out (its current state if it never was)."""
        path = Path(path)
        if not path.is_absolute():
            path = self.folder / path
        identity = self._handed.get(path)
        if identity is None:
            try:
                stat = path.stat()
            except OSError as exc:
                raise SourceError(str(path), f"cannot mark as done: {exc.strerror or exc}") from exc
            identity = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            db = self._open_db()
            try:
                db.execute(
                    "INSERT OR REPLACE INTO done (path, size, mtime_ns, done_at) VALUES (?, ?, ?, ?)",
                    (str(path), identity[0], identity[1], time.time()),
                )
            except sqlite3.Error as exc:
                raise SourceError(str(self.state_file), f"cannot record {path.name} as done: {exc}") from exc

    def is_done(self, path: str | Path) -> bool:
        """Whether ``path``, as it is now, was marked done (by this watcher or an earlier one)."""
        path = Path(path)
        try:
            stat = path.stat()
        except OSError:
            return False
        return self._is_done(path, (stat.st_size, stat.st_mtime_ns))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _is_done(self, path: Path, identity: _Identity) -> bool:
        with self._lock:
            row = self._open_db().execute(
                "SELECT 1 FROM done WHERE path = ? AND size = ? AND mtime_ns = ?", (str(path), *identity)
            ).fetchone()
        return row is not None

    def _open_db(self) -> sqlite3.Connection:
        if self._db is None:
            raise ValueError(f"{self.folder}: FolderWatcher is closed")
        return self._db

    def _check_folder(self) -> None:
        if not self.folder.exists():
            raise SourceError(str(self.folder), "watched folder does not exist")
        if not self.folder.is_dir():
            raise SourceError(str(self.folder), "watched folder is not a folder")
