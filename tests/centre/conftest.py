"""The centre's tests run against SQLite and a real PostgreSQL on loopback alike (``store_url``)."""

from __future__ import annotations

import pytest
from broker import Mosquitto, needs_mosquitto
from postgres import Postgres, needs_postgres


@pytest.fixture(scope="session")
def postgres():
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def store_url(request, tmp_path) -> str:
    """An empty store: a SQLite file, or a fresh database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'centre.sqlite'}"
    return request.getfixturevalue("postgres").database()


@pytest.fixture
def broker(tmp_path):
    if needs_mosquitto.args[0]:
        pytest.skip(needs_mosquitto.kwargs["reason"])
    server = Mosquitto(tmp_path / "broker").start()
    yield server
    server.stop()
