"""The durable outbox: every document is committed here before it is sent, and leaves only when acknowledged.

One SQLite file in WAL mode. A message is a row (topic, payload, document id, schema, created time);
rows go out in insertion order. :meth:`Outbox.ack` deletes a row once the receiver acknowledged it
(an MQTT PUBACK with a success reason code, an HTTPS 2xx); :meth:`Outbox.park` moves a row the
receiver refused (not authorised, too large) to the ``parked`` table, where it is kept and counted
instead of being retried forever. The outbox is bounded by row count, bytes and age: when a bound is
passed the oldest rows are dropped, and every drop is counted by reason, logged and reported in
:meth:`Outbox.stats`. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge.closing import Closing
from edge.config.models import OutboxConfig
from edge.errors import TransportError

log = logging.getLogger("liveguard.outbox")

SCHEMA_VERSION = 2  # 2: the seen table (put_once)
EXPIRY_PERIOD_S = 1.0  # the age bound is applied at most this often, not on every read
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    doc_id TEXT NOT NULL,
    schema TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS parked (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    doc_id TEXT NOT NULL,
    schema TEXT NOT NULL,
    created REAL NOT NULL,
    parked REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen (doc_id TEXT PRIMARY KEY, created REAL NOT NULL);
"""


@dataclass(frozen=True)
class Message:
    """One row of the outbox, in the order it was put."""

    seq: int
    topic: str
    payload: bytes
    doc_id: str
    schema: str
    created: float


@dataclass(frozen=True)
class OutboxStats:
    """What the stats topic and the health endpoint report."""

    depth: int
    bytes: int
    oldest_age_s: float | None
    parked: int
    sent: int
    dropped: dict[str, int]  # reason -> count (max_rows, max_bytes, max_age)


class Outbox(Closing):
    """A bounded, durable FIFO of documents to send; safe to use from several threads."""

    def __init__(
        self,
        path: str | Path,
        max_rows: int = 100_000,
        max_bytes: int = 512 * 1024 * 1024,
        max_age_s: float = 7 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.max_rows, self.max_bytes, self.max_age_s = max_rows, max_bytes, max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._expired_at = -float("inf")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a committed row survives power loss, not only a crash
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise TransportError(str(self.path), f"cannot open the outbox: {exc}") from exc

    @classmethod
    def from_config(cls, config: OutboxConfig) -> Outbox:
        """The outbox ``transport.outbox`` describes."""
        return cls(config.path, config.max_rows, int(config.max_mb * 1024 * 1024), config.max_age_s)

    def put(self, topic: str, payload: bytes, doc_id: str, schema: str) -> int:
        """Commit one message (durable when this returns); returns its sequence number."""
        with self._lock, self._transaction():
            seq = self._insert(topic, payload, doc_id, schema)
            self._enforce_bounds()
        return seq

    def put_once(self, topic: str, payload: bytes, doc_id: str, schema: str) -> int | None:
        """Like :meth:`put`, unless a document with ``doc_id`` was put this way within ``max_age_s``: then None.

        The id is remembered in the same transaction as the row, so a producer that crashed after
        committing and is handed the same input again (a redelivered MQTT message) adds nothing.
        """
        with self._lock, self._transaction():
            if not self._db.execute("INSERT OR IGNORE INTO seen (doc_id, created) VALUES (?, ?)", (doc_id, self._clock())).rowcount:
                return None
            seq = self._insert(topic, payload, doc_id, schema)
            self._enforce_bounds()
        return seq

    def was_put(self, doc_id: str) -> bool:
        """True when :meth:`put_once` took a document with ``doc_id`` within ``max_age_s``."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM seen WHERE doc_id = ?", (doc_id,)).fetchone() is not None

    def keep_aside(self, topic: str, payload: bytes, doc_id: str, schema: str, reason: str) -> None:
        """Keep a document that will never be sent (input that could not be processed) in ``parked``, with why."""
        now = self._clock()
        with self._lock, self._transaction():  # in and out of messages in one transaction: no sender ever sees it
            seq = self._insert(topic, payload, doc_id, schema, now)
            self._db.execute("INSERT INTO parked SELECT seq, topic, payload, doc_id, schema, created, ?, ? FROM messages WHERE seq = ?",
                             (now, reason, seq))
            self._db.execute("DELETE FROM messages WHERE seq = ?", (seq,))
        log.warning("outbox: kept aside %s (%s): %s", doc_id, topic, reason)

    def pending(self, limit: int, after: int = 0) -> list[Message]:
        """Up to ``limit`` messages with a sequence number above ``after``, oldest first."""
        with self._lock:
            self._expire()
            rows = self._db.execute(
                "SELECT seq, topic, payload, doc_id, schema, created FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [Message(seq, topic, bytes(payload), doc_id, schema, created) for seq, topic, payload, doc_id, schema, created in rows]

    def ack(self, seq: int) -> None:
        """The receiver has the message: delete it for good."""
        with self._lock, self._transaction():
            if self._db.execute("DELETE FROM messages WHERE seq = ?", (seq,)).rowcount:
                self._count("sent", 1)

    def park(self, seq: int, reason: str) -> None:
        """The receiver refused the message: keep it aside with the reason, never send it again."""
        with self._lock, self._transaction():
            moved = self._db.execute(
                "INSERT INTO parked SELECT seq, topic, payload, doc_id, schema, created, ?, ? FROM messages WHERE seq = ?",
                (self._clock(), reason, seq),
            ).rowcount
            self._db.execute("DELETE FROM messages WHERE seq = ?", (seq,))
        if moved:
            log.warning("outbox: message %d parked: %s", seq, reason)

    def parked(self) -> list[tuple[Message, str]]:
        """The refused messages with their reasons, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, doc_id, schema, created, reason FROM parked ORDER BY seq"
            ).fetchall()
        return [(Message(r[0], r[1], bytes(r[2]), r[3], r[4], r[5]), r[6]) for r in rows]

    def stats(self) -> OutboxStats:
        with self._lock:
            self._expire()
            depth, size, oldest = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0), MIN(created) FROM messages"
            ).fetchone()
            parked = self._db.execute("SELECT COUNT(*) FROM parked").fetchone()[0]
            counters = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        dropped = {name.removeprefix("dropped:"): value for name, value in counters.items() if name.startswith("dropped:")}
        age = None if oldest is None else max(0.0, self._clock() - oldest)
        return OutboxStats(int(depth), int(size), age, int(parked), int(counters.get("sent", 0)), dropped)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _insert(self, topic: str, payload: bytes, doc_id: str, schema: str, created: float | None = None) -> int:
        """One row into ``messages`` (inside the caller's transaction); its sequence number."""
        created = self._clock() if created is None else created
        return int(self._db.execute("INSERT INTO messages (topic, payload, doc_id, schema, created) VALUES (?, ?, ?, ?, ?)",
                                    (topic, payload, doc_id, schema, created)).lastrowid)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _enforce_bounds(self) -> None:
        """Drop the oldest rows past the row and byte bounds (inside the caller's transaction)."""
        depth, size = self._db.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM messages").fetchone()
        while depth > self.max_rows or (size > self.max_bytes and depth > 1):
            reason = "max_rows" if depth > self.max_rows else "max_bytes"
            seq, length = self._db.execute("SELECT seq, LENGTH(payload) FROM messages ORDER BY seq LIMIT 1").fetchone()
            self._db.execute("DELETE FROM messages WHERE seq = ?", (seq,))
            self._count(f"dropped:{reason}", 1)
            log.warning("outbox: dropped message %d (%s bound reached)", seq, reason)
            depth, size = depth - 1, size - length

    def _expire(self) -> None:
        """Drop rows older than ``max_age_s`` (they would be stale on arrival); counted like any drop.

        At most once per :data:`EXPIRY_PERIOD_S`: the sender reads the outbox many times a second.
        """
        now = self._clock()
        if now - self._expired_at < EXPIRY_PERIOD_S:
            return
        self._expired_at = now
        cutoff = now - self.max_age_s
        with self._transaction():
            gone = self._db.execute("DELETE FROM messages WHERE created < ?", (cutoff,)).rowcount
            self._db.execute("DELETE FROM seen WHERE created < ?", (cutoff,))
            if gone:
                self._count("dropped:max_age", gone)
                log.warning("outbox: dropped %d message(s) older than %.0f s", gone, self.max_age_s)

    def _count(self, name: str, amount: int) -> None:
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?",
            (name, amount, amount),
        )


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); nested use joins the outer transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._outer = False

    def __enter__(self) -> None:
        self._outer = not self._db.in_transaction
        if self._outer:
            self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *exc: object) -> None:
        if self._outer:
            self._db.execute("ROLLBACK" if kind else "COMMIT")
