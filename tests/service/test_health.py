"""The health endpoint over real HTTP: liveness and readiness follow the snapshot, a failing snapshot answers 500."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from edge.errors import ConfigError
from edge.service.health import HealthServer


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Holder:
    """The snapshot the server sees, replaced by the test."""

    def __init__(self, snapshot) -> None:
        self.snapshot = snapshot

    def __call__(self):
        if isinstance(self.snapshot, Exception):
            raise self.snapshot
        return self.snapshot


def test_healthz_follows_progress_and_readyz_follows_ready(snapshot):
    holder = Holder(snapshot(ready=False, last_progress_age_s=None, now=snapshot().started_at + 5))
    with HealthServer("127.0.0.1", 0, holder, stale_after_s=30) as server:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        status, body = get(server.url + "/healthz")
        assert status == 200 and body.startswith("ok: starting")  # no progress yet, but only 5 s after start
        assert get(server.url + "/readyz")[0] == 503

        holder.snapshot = snapshot(ready=True, last_progress_age_s=2.0)
        assert get(server.url + "/healthz") == (200, "ok: last progress 2.0 s ago\n")
        assert get(server.url + "/readyz") == (200, "ready\n")

        holder.snapshot = snapshot(last_progress_age_s=31.0)
        status, body = get(server.url + "/healthz")
        assert status == 503 and body.count("\n") == 1 and "no stream made progress for 31.0 s" in body and "bound 30 s" in body

        holder.snapshot = snapshot(last_progress_age_s=None, now=snapshot().started_at + 45)
        status, body = get(server.url + "/healthz")
        assert status == 503 and "45.0 s (since start" in body

        holder.snapshot = snapshot(streams=(), last_progress_age_s=None)
        assert get(server.url + "/healthz") == (200, "ok: no stream to watch\n")

        ended = tuple(dataclasses.replace(st, state="ended") for st in snapshot().streams)
        holder.snapshot = snapshot(streams=ended, last_progress_age_s=500.0)
        assert get(server.url + "/healthz")[0] == 200  # finished streams are not expected to progress


def test_an_exception_in_the_snapshot_answers_500_and_the_server_lives_on(snapshot, caplog):
    holder = Holder(RuntimeError("outbox locked\nsecond line"))
    with HealthServer("127.0.0.1", 0, holder) as server:
        for path in ("/healthz", "/readyz", "/metrics"):
            status, body = get(server.url + path)
            assert status == 500 and body == "error: snapshot failed: RuntimeError: outbox locked second line\n"
        assert sum("snapshot failed" in r.getMessage() for r in caplog.records) == 1  # logged once, not per scrape
        holder.snapshot = snapshot()
        assert get(server.url + "/healthz")[0] == 200
        assert get(server.url + "/metrics")[0] == 200


def test_unknown_paths_are_404_and_queries_are_ignored(snapshot):
    snap = snapshot()
    with HealthServer("127.0.0.1", 0, lambda: snap) as server:
        assert get(server.url + "/")[0] == 404
        assert get(server.url + "/healthz?verbose=1")[0] == 200


def test_start_and_close_are_bounded_and_release_the_port(snapshot):
    entered, release = threading.Event(), threading.Event()

    def stuck_snapshot():
        entered.set()
        release.wait(10)  # a snapshot that hangs (a lock held elsewhere)
        return snapshot()

    server = HealthServer("127.0.0.1", 0, stuck_snapshot).start()
    idle = socket.create_connection(("127.0.0.1", server.port))  # a client that connects and says nothing
    outcome = []
    stuck = threading.Thread(target=lambda: outcome.append(_quietly(get, server.url + "/healthz")), daemon=True)
    stuck.start()
    assert entered.wait(5)
    began = time.monotonic()
    server.close()
    assert time.monotonic() - began < 2  # neither the idle client nor the request in flight holds it up
    release.set()
    idle.close()
    stuck.join(5)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT may stay; a listener would not
        sock.bind(("127.0.0.1", server.port))
        sock.listen()  # the port is free again


def _quietly(fn, *args):
    try:
        return fn(*args)
    except OSError as exc:
        return exc


def test_a_port_in_use_is_a_one_line_config_error(snapshot):
    with HealthServer("127.0.0.1", 0, lambda: snapshot()) as first:
        with pytest.raises(ConfigError, match=r"^service.health: cannot listen on 127.0.0.1:\d+: Address already in use$"):
            HealthServer("127.0.0.1", first.port, lambda: snapshot())


def test_ipv6_loopback_works(snapshot):
    snap = snapshot()
    try:
        server = HealthServer("::1", 0, lambda: snap)
    except ConfigError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    with server:
        assert server.url == f"http://[::1]:{server.port}" and get(server.url + "/readyz")[0] == 200
