"""The centre's store: what the boxes published, in SQLite (one host) or PostgreSQL (a fleet).

One schema for both, created and changed only by the numbered :data:`MIGRATIONS`, which run on
open (serialised between collectors starting together) and are recorded in ``schema_migrations``;
a store newer than this program is refused. Evidence and results are keyed by the evidence id,
stats by (site, device, time): an ``INSERT ... ON CONFLICT DO NOTHING`` keeps the first copy, so a
message the broker sends twice is stored once and counted as a duplicate. A device's status is its
newest document. Every batch of a collector is one transaction, counters included, so that the
acknowledgement that follows it never covers a row that is not there.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from edge.closing import Closing
from edge.config.models import StoreConfig
from edge.config.secrets import read_secret
from edge.errors import ConfigError, TransportError


@dataclass(frozen=True)
class Record:
    """One valid document with where it came from; ``key`` is its id within its kind."""

    kind: str  # result | evidence | status | stats
    key: str
    site: str
    device: str
    stream: str | None
    topic: str
    received: float
    document: dict[str, Any]


@dataclass(frozen=True)
class Reject:
    """A message that was not stored: too large, not JSON, against its schema, or on a foreign topic."""

    topic: str
    reason: str  # one line
    kind: str  # oversized | not_json | schema | topic | identity
    size: int
    sha256: str
    excerpt: bytes
    received: float


@dataclass
class Written:
    """What one :meth:`Store.write` did."""

    stored: dict[str, int] = field(default_factory=dict)  # kind -> new rows
    duplicates: dict[str, int] = field(default_factory=dict)  # kind -> copies ignored
    rejected: dict[str, int] = field(default_factory=dict)  # reject kind -> count
    keys: list[tuple[str, str]] = field(default_factory=list)  # (kind, key) of every new row


def instant(text: str) -> float:
    """An ISO 8601 time (UTC when it names no zone; ``Z`` allowed) as epoch seconds; ValueError otherwise."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


@dataclass(frozen=True)
class ResultQuery:
    """Filters of ``liveguard results`` (all optional; ``text`` matches brand or product name, any case)."""

    site: str | None = None
    device: str | None = None
    stream: str | None = None
    since: float | None = None  # received at or after (epoch seconds)
    until: float | None = None  # received before
    text: str | None = None
    engine: str | None = None
    limit: int | None = None
    after: float | None = None  # received strictly after (a live page asks for what is new)
    low_confidence: float | None = None  # only results with a field that has a value below this confidence
    flagged: bool = False  # only results with claim flags


# (version, what it does, SQLite statements, PostgreSQL statements). Append only; never edit a shipped one.
MIGRATIONS: list[tuple[int, str, list[str], list[str]]] = [
    (1, "results, evidence, device status, stats, rejects, counters",
     [
         "CREATE TABLE evidence (id TEXT PRIMARY KEY, site TEXT NOT NULL, device TEXT NOT NULL, stream TEXT NOT NULL,"
         " window_start REAL, window_end REAL, created_at TEXT, topic TEXT NOT NULL, received REAL NOT NULL,"
         " stored REAL NOT NULL, document TEXT NOT NULL)",
         "CREATE TABLE results (evidence_id TEXT PRIMARY KEY, site TEXT NOT NULL, device TEXT NOT NULL, stream TEXT NOT NULL,"
         " engine TEXT, brand TEXT, product_name TEXT, category TEXT, price TEXT, topic TEXT NOT NULL,"
         " received REAL NOT NULL, stored REAL NOT NULL, document TEXT NOT NULL)",
         "CREATE INDEX results_received ON results (received)",
         "CREATE INDEX results_where ON results (site, device, stream, received)",
         "CREATE TABLE device_status (site TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL, topic TEXT NOT NULL,"
         " received REAL NOT NULL, document TEXT NOT NULL, PRIMARY KEY (site, device))",
         "CREATE TABLE stats (site TEXT NOT NULL, device TEXT NOT NULL, time TEXT NOT NULL, topic TEXT NOT NULL,"
         " received REAL NOT NULL, document TEXT NOT NULL, PRIMARY KEY (site, device, time))",
         "CREATE TABLE rejects (id INTEGER PRIMARY KEY AUTOINCREMENT, received REAL NOT NULL, topic TEXT NOT NULL,"
         " kind TEXT NOT NULL, reason TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, excerpt BLOB NOT NULL)",
         "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
     ],
     [
         "CREATE TABLE evidence (id TEXT PRIMARY KEY, site TEXT NOT NULL, device TEXT NOT NULL, stream TEXT NOT NULL,"
         " window_start DOUBLE PRECISION, window_end DOUBLE PRECISION, created_at TEXT, topic TEXT NOT NULL,"
         " received DOUBLE PRECISION NOT NULL, stored DOUBLE PRECISION NOT NULL, document JSONB NOT NULL)",
         "CREATE TABLE results (evidence_id TEXT PRIMARY KEY, site TEXT NOT NULL, device TEXT NOT NULL, stream TEXT NOT NULL,"
         " engine TEXT, brand TEXT, product_name TEXT, category TEXT, price TEXT, topic TEXT NOT NULL,"
         " received DOUBLE PRECISION NOT NULL, stored DOUBLE PRECISION NOT NULL, document JSONB NOT NULL)",
         "CREATE INDEX results_received ON results (received)",
         "CREATE INDEX results_where ON results (site, device, stream, received)",
         "CREATE TABLE device_status (site TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL, topic TEXT NOT NULL,"
         " received DOUBLE PRECISION NOT NULL, document JSONB NOT NULL, PRIMARY KEY (site, device))",
         "CREATE TABLE stats (site TEXT NOT NULL, device TEXT NOT NULL, time TEXT NOT NULL, topic TEXT NOT NULL,"
         " received DOUBLE PRECISION NOT NULL, document JSONB NOT NULL, PRIMARY KEY (site, device, time))",
         "CREATE TABLE rejects (id BIGSERIAL PRIMARY KEY, received DOUBLE PRECISION NOT NULL, topic TEXT NOT NULL,"
         " kind TEXT NOT NULL, reason TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, excerpt BYTEA NOT NULL)",
         "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
     ]),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

_INSERT = {
    "evidence": "INSERT INTO evidence (id, site, device, stream, window_start, window_end, created_at, topic, received, stored,"
                " document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {doc}) ON CONFLICT (id) DO NOTHING",
    "result": "INSERT INTO results (evidence_id, site, device, stream, engine, brand, product_name, category, price, topic,"
              " received, stored, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {doc}) ON CONFLICT (evidence_id) DO NOTHING",
    "stats": "INSERT INTO stats (site, device, time, topic, received, document) VALUES (?, ?, ?, ?, ?, {doc})"
             " ON CONFLICT (site, device, time) DO NOTHING",
    "status": "INSERT INTO device_status (site, device, state, topic, received, document) VALUES (?, ?, ?, ?, ?, {doc})"
              " ON CONFLICT (site, device) DO UPDATE SET state = excluded.state, topic = excluded.topic,"
              " received = excluded.received, document = excluded.document WHERE excluded.received >= device_status.received",
}


def _row(record: Record, stored: float) -> tuple[Any, ...]:
    doc, text = record.document, json.dumps(record.document, ensure_ascii=False, separators=(",", ":"))
    if record.kind == "evidence":
        window = doc.get("window", {})
        return (record.key, record.site, record.device, record.stream, window.get("start"), window.get("end"),
                doc.get("created_at"), record.topic, record.received, stored, text)
    if record.kind == "result":
        return (record.key, record.site, record.device, record.stream, doc.get("engine"), doc.get("brand"),
                doc.get("product_name"), doc.get("category"), doc.get("price"), record.topic, record.received, stored, text)
    if record.kind == "stats":
        return (record.site, record.device, record.key, record.topic, record.received, text)
    return (record.site, record.device, doc.get("state"), record.topic, record.received, text)


class _Dialect(Protocol):
    name: str
    placeholder: str  # how a parameter is written
    document: str  # how a JSON parameter is written
    like: str  # case-insensitive LIKE

    def connect(self) -> Any: ...
    def begin(self, connection: Any) -> None: ...
    def lock_migrations(self, connection: Any) -> None: ...


class _Sqlite:
    name, placeholder, document, like = "sqlite", "?", "?", "LIKE"  # SQLite's LIKE ignores ASCII case

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # committed = on disk: the PUBACK that follows may be the last copy
        connection.execute("PRAGMA busy_timeout=30000")  # several collectors may share the file
        return connection

    def begin(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")

    def lock_migrations(self, connection: sqlite3.Connection) -> None:
        pass  # BEGIN IMMEDIATE already serialises writers


class _Postgres:
    name, placeholder, document, like = "postgresql", "%s", "%s::jsonb", "ILIKE"

    def __init__(self, url: str, password: str | None, timeout: float) -> None:
        self.url, self.password, self.timeout = url, password, timeout

    def connect(self) -> Any:
        import psycopg  # the centre's extra; a box never needs it

        extra = {"password": self.password} if self.password else {}
        return psycopg.connect(self.url, connect_timeout=max(1, int(self.timeout)), autocommit=True, **extra)

    def begin(self, connection: Any) -> None:
        connection.execute("BEGIN")

    def lock_migrations(self, connection: Any) -> None:
        connection.execute("SELECT pg_advisory_xact_lock(740213)")  # collectors starting together migrate one at a time


class Store(Closing):
    """A connection to the centre's database, migrated to :data:`SCHEMA_VERSION`; one per thread of use."""

    def __init__(self, dialect: _Dialect, where: str) -> None:
        self._dialect = dialect
        self.where = where  # the URL without credentials, for messages
        self._lock = threading.Lock()
        self._db: Any = None
        self._connect()
        self._migrate()

    @property
    def dialect(self) -> str:
        return self._dialect.name

    def _connect(self) -> Any:
        """The open connection; a new one when the last was lost (a database restarted under a collector)."""
        if self._db is None:
            try:
                self._db = self._dialect.connect()
            except Exception as exc:  # noqa: BLE001 - sqlite3.Error, psycopg.Error, OSError: one line naming the store
                raise TransportError(self.where, f"cannot open the store: {' '.join(str(exc).split())}") from exc
        return self._db

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT under the lock; on any error ROLLBACK, and a connection that cannot even roll back
        is dropped so that the next call opens a new one."""
        with self._lock:
            db = self._connect()
            try:
                self._dialect.begin(db)
                yield
                db.execute("COMMIT")
            except BaseException:
                try:
                    db.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - the connection is gone: reopen next time
                    self._drop()
                raise

    def _drop(self) -> None:
        with suppress(Exception):  # closing a dead connection may fail too; it is dropped either way
            self._db.close()
        self._db = None

    def _sql(self, text: str) -> str:
        return text.replace("?", self._dialect.placeholder).replace("{doc}", self._dialect.document)

    def _execute(self, text: str, parameters: Sequence[Any] = ()) -> Any:
        """One statement on the open connection (the caller holds the lock)."""
        return self._connect().execute(self._sql(text), tuple(parameters))

    def _migrate(self) -> None:
        with self._transaction():
            self._dialect.lock_migrations(self._db)  # first: two collectors starting together must not race on CREATE
            self._execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied REAL NOT NULL,"
                          " description TEXT NOT NULL)")
            current = self._execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise TransportError(self.where, f"the store is at schema version {current}, newer than this "
                                     f"program's {SCHEMA_VERSION}: upgrade liveguard")
            for version, description, sqlite_sql, postgres_sql in MIGRATIONS:
                if version <= current:
                    continue
                for statement in sqlite_sql if self._dialect.name == "sqlite" else postgres_sql:
                    self._db.execute(statement)
                self._execute("INSERT INTO schema_migrations (version, applied, description) VALUES (?, ?, ?)",
                              (version, time.time(), description))

    def version(self) -> int:
        with self._lock:
            return int(self._execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])

    def write(self, records: Sequence[Record], rejects: Sequence[Reject] = ()) -> Written:
        """Store ``records`` (first copy wins) and ``rejects``, with the counters, in one transaction."""
        written = Written()
        with self._transaction():
            stored = time.time()  # after BEGIN: the wait for another collector's lock counts
            # Rows and counters in one global order (kind, then key): two collectors writing overlapping batches
            # take their row locks in the same order and cannot deadlock (PostgreSQL did, in the load tool).
            for record in sorted(records, key=lambda r: (r.kind, r.key, r.site, r.device, r.received)):
                new = self._execute(_INSERT[record.kind], _row(record, stored)).rowcount > 0
                if record.kind == "status":
                    new = True  # newest wins; an older copy is simply not applied
                bucket = written.stored if new else written.duplicates
                bucket[record.kind] = bucket.get(record.kind, 0) + 1
                if new:
                    written.keys.append((record.kind, record.key))
            for reject in rejects:
                self._execute("INSERT INTO rejects (received, topic, kind, reason, size, sha256, excerpt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (reject.received, reject.topic, reject.kind, reject.reason, reject.size, reject.sha256, reject.excerpt))
                written.rejected[reject.kind] = written.rejected.get(reject.kind, 0) + 1
            counts = [(f"stored:{k}", n) for k, n in written.stored.items()]
            counts += [(f"duplicate:{k}", n) for k, n in written.duplicates.items()]
            counts += [(f"rejected:{k}", n) for k, n in written.rejected.items()]
            for name, amount in sorted(counts):
                self._execute("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                              " SET value = counters.value + excluded.value", (name, amount))
        return written

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {name: int(value) for name, value in self._execute("SELECT name, value FROM counters").fetchall()}

    def count(self, table: str) -> int:
        if table not in ("results", "evidence", "device_status", "stats", "rejects"):
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            return int(self._execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def keys(self, table: str) -> list[str]:
        """Every evidence id of ``results`` or ``evidence`` (tests, the load tool)."""
        column = {"results": "evidence_id", "evidence": "id"}[table]
        with self._lock:
            return [row[0] for row in self._execute(f"SELECT {column} FROM {table}").fetchall()]

    def stored_times(self) -> dict[str, float]:
        """evidence id -> when its result was committed (the load tool's end-to-end latency)."""
        with self._lock:
            return {key: float(at) for key, at in self._execute("SELECT evidence_id, stored FROM results").fetchall()}

    def rejects(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._execute("SELECT received, topic, kind, reason, size, sha256 FROM rejects ORDER BY id").fetchall()
        return [dict(zip(("received", "topic", "kind", "reason", "size", "sha256"), row)) for row in rows]

    def devices(self) -> list[dict[str, Any]]:
        """Each device's newest status document, with where and when it came."""
        with self._lock:
            rows = self._execute("SELECT site, device, state, received, document FROM device_status ORDER BY site, device").fetchall()
        return [{"site": s, "device": d, "state": st, "received": r, "status": _document(doc)} for s, d, st, r, doc in rows]

    def results(self, query: ResultQuery = ResultQuery()) -> Iterator[dict[str, Any]]:
        """Stored results, newest first, each with its evidence (None until that has arrived)."""
        where, parameters = [], []
        for column, value in (("r.site", query.site), ("r.device", query.device), ("r.stream", query.stream), ("r.engine", query.engine)):
            if value is not None:
                where.append(f"{column} = ?")
                parameters.append(value)
        if query.since is not None:
            where.append("r.received >= ?")
            parameters.append(query.since)
        if query.until is not None:
            where.append("r.received < ?")
            parameters.append(query.until)
        if query.after is not None:
            where.append("r.received > ?")
            parameters.append(query.after)
        if query.text:
            pattern = "%" + query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            like = self._dialect.like
            where.append(f"(r.brand {like} ? ESCAPE '\\' OR r.product_name {like} ? ESCAPE '\\')")
            parameters += [pattern, pattern]
        text = ("SELECT r.site, r.device, r.stream, r.received, r.document, e.document FROM results r"
                " LEFT JOIN evidence e ON e.id = r.evidence_id")
        if where:
            text += " WHERE " + " AND ".join(where)
        text += " ORDER BY r.received DESC, r.evidence_id"
        in_python = query.low_confidence is not None or query.flagged  # tests on the document: SQL cannot limit
        if query.limit is not None and not in_python:
            text += f" LIMIT {int(query.limit)}"
        with self._lock:
            rows = self._execute(text, parameters).fetchall()
        kept = 0
        for site, device, stream, received, result, evidence in rows:
            row = {"site": site, "device": device, "stream": stream, "received": received,
                   "result": _document(result), "evidence": _document(evidence)}
            if in_python and not _wanted(row["result"], query):
                continue
            yield row
            kept += 1
            if query.limit is not None and kept >= query.limit:
                return

    def result(self, evidence_id: str) -> dict[str, Any] | None:
        """One stored result with its evidence (None until that has arrived); None if there is no such result."""
        text = ("SELECT r.site, r.device, r.stream, r.received, r.document, e.document FROM results r"
                " LEFT JOIN evidence e ON e.id = r.evidence_id WHERE r.evidence_id = ?")
        with self._lock:
            row = self._execute(text, (evidence_id,)).fetchone()
        if row is None:
            return None
        site, device, stream, received, result, evidence = row
        return {"site": site, "device": device, "stream": stream, "received": received,
                "result": _document(result), "evidence": _document(evidence)}

    def latest_stats(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(site, device) -> its newest stats document."""
        text = ("SELECT s.site, s.device, s.received, s.document FROM stats s JOIN (SELECT site, device, MAX(received) AS newest"
                " FROM stats GROUP BY site, device) m ON m.site = s.site AND m.device = s.device AND m.newest = s.received")
        with self._lock:
            rows = self._execute(text).fetchall()
        return {(site, device): {"received": received, "stats": _document(doc)} for site, device, received, doc in rows}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._drop()


def low_fields(result: dict[str, Any], below: float) -> list[str]:
    """The fields of ``result`` that have a value and a confidence below ``below`` (a field without a value is 0, not low)."""
    confidence = result.get("confidence") or {}
    return sorted(field for field, value in confidence.items() if result.get(field) not in (None, "", {}) and value < below)


def _wanted(result: dict[str, Any], query: ResultQuery) -> bool:
    """The filters SQL leaves to Python: a field with a value below ``low_confidence``; claim flags."""
    if query.flagged and not result.get("claims"):
        return False
    return query.low_confidence is None or bool(low_fields(result, query.low_confidence))


def _document(value: Any) -> Any:
    """A stored document as a dict: SQLite keeps text, psycopg decodes JSONB itself."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def open_store(config: StoreConfig, create: bool = True) -> Store:
    """The store ``config.url`` names, migrated; ConfigError for an unknown scheme, TransportError if unreachable.

    ``create`` False (a query): a SQLite file that does not exist is an error rather than a new empty store.
    """
    url = config.url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not create and not path.is_file():
            raise TransportError(str(path), "no store here (centre.store.url): has `liveguard collect` run with this configuration?")
        return Store(_Sqlite(path), str(path))
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigError("centre.store.url", f"{url}: PostgreSQL needs psycopg: pip install 'liveguard[centre]'") from None
        password = read_secret("centre.store.password", config.password_file, config.password_env)
        return Store(_Postgres(url, password.get_secret_value() if password else None, config.connect_timeout_s), url)
    raise ConfigError("centre.store.url", f"{url}: expected sqlite:///PATH or postgresql://USER@HOST/DB")
