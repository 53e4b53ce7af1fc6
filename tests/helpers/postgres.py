"""A throwaway PostgreSQL server on a free loopback port (Debian's binaries), one fresh database per test.

initdb and the server refuse to run as root: as root they run as the ``postgres`` user the Debian
package creates (``runuser``), in a folder that user owns. fsync is off: a test server, not a store.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from itertools import count
from pathlib import Path

import pytest
from broker import free_port

_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
BIN = Path(_BINS[-1]) if _BINS else None
needs_postgres = pytest.mark.skipif(
    BIN is None or not (BIN / "pg_ctl").is_file(),
    reason="needs PostgreSQL server binaries (apt-get install -y postgresql; tools/install.sh --test installs them)",
)


class Postgres:
    """``initdb`` + ``pg_ctl start`` in a temporary folder; :meth:`database` makes an empty database."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="liveguard-pg-"))
        os.chmod(self.folder, 0o755)
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._names = count(1)

    def _run(self, *args: str) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")

    def start(self) -> Postgres:
        self._run("initdb", "-D", str(self.folder / "db"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.resume()
        return self

    def halt(self) -> None:
        """Stop the server (its data kept): every connection breaks, new ones are refused."""
        self._run("pg_ctl", "-D", str(self.folder / "db"), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server on its data (again)."""
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        self._run("pg_ctl", "-D", str(self.folder / "db"), "-l", str(self.folder / "server.log"), "-w", "-t", "30", "-o", options,
                  "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "db"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
