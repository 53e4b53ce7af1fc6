"""The daemon's HTTP endpoint: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics`` (Prometheus).

Every request takes one snapshot through ``snapshot_fn``. Liveness means "the daemon makes progress":
200 while some stream worker made progress within ``stale_after_s`` (or no stream is meant to run),
else 503 with a one-line reason. Readiness is ``snapshot.ready``. An exception inside ``snapshot_fn``
answers 500 with a one-line message; the server keeps serving.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.exposition import choose_encoder

from edge.closing import Closing
from edge.errors import ConfigError
from edge.service.metrics import registry
from edge.service.snapshot import DaemonSnapshot

log = logging.getLogger("liveguard.health")

STALE_AFTER_S = 120.0
# States in which a stream's worker is not expected to make progress (it finished or was told to stop).
AT_REST = frozenset({"ended", "stopped"})
REQUEST_TIMEOUT_S = 5.0  # a client that connects and says nothing is dropped after this long


def liveness(s: DaemonSnapshot, stale_after_s: float) -> tuple[bool, str]:
    """(alive, one-line reason) for snapshot ``s``."""
    running = [st for st in s.streams if st.state not in AT_REST]
    if not running:
        return True, "ok: no stream to watch" if not s.streams else f"ok: all {len(s.streams)} stream(s) at rest"
    if s.last_progress_age_s is None:
        age, what = max(0.0, s.now - s.started_at), "since start"
        if age <= stale_after_s:
            return True, f"ok: starting, no progress yet {age:.1f} s after start"
    else:
        age, what = s.last_progress_age_s, "ago"
        if age <= stale_after_s:
            return True, f"ok: last progress {age:.1f} s ago"
    return False, f"stale: no stream made progress for {age:.1f} s ({what}; bound {stale_after_s:g} s)"


class HealthServer(Closing):
    """``HealthServer(host, port, snapshot_fn).start()`` serves until :meth:`close`; ``port`` 0 picks a free one."""

    def __init__(
        self,
        host: str,
        port: int,
        snapshot_fn: Callable[[], DaemonSnapshot],
        *,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        self.snapshot_fn = snapshot_fn
        self.stale_after_s = stale_after_s
        self._registry = registry(snapshot_fn)
        self._failing = False
        try:
            self._server = _Server((host, port), _handler(self))
        except OSError as exc:
            raise ConfigError("service.health", f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="liveguard-health", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health: serving /healthz, /readyz and /metrics on %s", self.url)
        return self

    def close(self, timeout: float = 2.0) -> None:
        """Stop serving (within the poll interval) and release the port; requests in flight are abandoned."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server_close()

    def __enter__(self) -> HealthServer:
        return self.start()

    def answer(self, path: str, accept: str = "") -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of ``path``; what the handler sends."""
        route = urlsplit(path).path.rstrip("/") or "/"
        if route not in ("/healthz", "/readyz", "/metrics"):
            return 404, _TEXT, f"not found: {route} (try /healthz, /readyz, /metrics)\n".encode()
        try:
            if route == "/metrics":
                encoder, content_type = choose_encoder(accept)
                body = encoder(self._registry)
                status = 200
            else:
                s = self.snapshot_fn()
                if route == "/healthz":
                    alive, line = liveness(s, self.stale_after_s)
                else:
                    alive, line = s.ready, "ready" if s.ready else "not ready: models loading or stream workers not started"
                status, content_type, body = (200 if alive else 503), _TEXT, f"{line}\n".encode()
        except Exception as exc:  # noqa: BLE001 - a broken snapshot must answer, not kill the server
            message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            if not self._failing:
                log.exception("health: the snapshot failed for %s", route)
            self._failing = True
            return 500, _TEXT, f"error: snapshot failed: {message}\n".encode()
        if self._failing:
            self._failing = False
            log.info("health: snapshots work again")
        return status, content_type, body


_TEXT = "text/plain; charset=utf-8"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(host): a reverse DNS lookup that can hang on a box without DNS
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


def _handler(owner: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "liveguard-health"
        timeout = REQUEST_TIMEOUT_S

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("health: %s " + fmt, self.address_string(), *args)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._reply(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._reply(send_body=False)

        def _reply(self, send_body: bool) -> None:
            status, content_type, body = owner.answer(self.path, self.headers.get("Accept", ""))
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if send_body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client went away
                self.close_connection = True

    return Handler
