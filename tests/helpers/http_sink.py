"""A real HTTPS endpoint on loopback for the HTTPS sink: TLS from a self-signed certificate, scripted replies.

``make_certificate`` runs the openssl CLI (a self-signed certificate for 127.0.0.1 and localhost; the
certificate is its own CA file). :class:`HttpsEndpoint` is a stdlib ThreadingHTTPServer with that
certificate: each POST takes the next :class:`Reply` (the last one repeats) and is recorded. It can
stop and start again on the same port (an endpoint that goes away and comes back).
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl CLI (apt-get install -y openssl)")


def make_certificate(folder: Path, name: str = "server") -> tuple[Path, Path]:
    """(certificate, key) PEM files of a new self-signed P-256 certificate for 127.0.0.1 and localhost."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        [OPENSSL or "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN=liveguard-test-{name}",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str = b""
    delay: float = 0.0  # seconds before answering


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    status: int  # what the endpoint answered
    at: float  # time.monotonic()


class HttpsEndpoint:
    """``with HttpsEndpoint(cert, key, [Reply(503), Reply(200)]) as endpoint:`` then POST to ``endpoint.url``."""

    def __init__(self, cert: Path, key: Path, replies: list[Reply] | None = None, port: int | None = None) -> None:
        self.replies = list(replies or [Reply()])
        self.received: list[Received] = []
        self.handshake_failures = 0
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(str(cert), str(key))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/ingest"

    def bodies(self, status: int | None = 200) -> list[bytes]:
        """The bodies of the requests answered with ``status`` (None: all), in arrival order."""
        return [r.body for r in self.received if status is None or r.status == status]

    def start(self) -> HttpsEndpoint:
        self._server = _TlsServer(("127.0.0.1", self.port), self._handler(), self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="https-endpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> HttpsEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = owner._next_reply()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with owner._lock:
                    owner.received.append(Received(self.path, headers, body, reply.status, time.monotonic()))
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):  # the client gave up (timeout)
                    self.close_connection = True

        return Handler


class _TlsServer(ThreadingHTTPServer):
    """TLS on each accepted connection, the handshake in the connection's own thread (not the accept loop)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: HttpsEndpoint) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        return self.owner._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(10)
            request.do_handshake()
        except (ssl.SSLError, OSError):  # the client refused our certificate (a wrong CA), or hung up
            with self.owner._lock:
                self.owner.handshake_failures += 1
            return
        super().finish_request(request, client_address)
