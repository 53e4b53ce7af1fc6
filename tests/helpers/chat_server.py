"""A scripted OpenAI-compatible endpoint on loopback, for fault injection.

Each POST takes the next :class:`Step` (the last one repeats): a status, headers, a body, an
optional delay before answering (to outlast the client's timeout) and an optional truncation
of the body on the wire. Every request is recorded with its arrival time.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


@dataclass
class Step:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str/bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut_body_at: int | None = None  # send Content-Length of the whole body but only this many bytes


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


def completion(content: str, finish_reason: str = "stop", model: str = "fake-qwen") -> dict[str, Any]:
    """A chat-completions response whose first choice says ``content``."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def error_body(code: str, message: str, kind: str | None = None) -> dict[str, Any]:
    """An OpenAI-style error body (DashScope compatible mode answers the same way)."""
    return {"error": {"code": code, "message": message, "param": None, "type": kind or code}, "request_id": "req-test"}


_S = TypeVar("_S", bound="_LoopbackServer")


class _LoopbackServer:
    """A threaded HTTP server on a free loopback port, serving ``handler`` inside a ``with`` block."""

    def _serve(self, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=name, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self: _S) -> _S:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _read_body(handler: BaseHTTPRequestHandler) -> tuple[bytes, Any]:
    """The request body, raw and parsed (``{"_raw": text}`` when it is not JSON)."""
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    try:
        return raw, json.loads(raw) if raw else {}
    except ValueError:
        return raw, {"_raw": raw.decode("utf-8", "replace")}


class ChatServer(_LoopbackServer):
    """``with ChatServer([Step(...), ...]) as server:`` then point the client at ``server.base_url``."""

    def __init__(self, steps: list[Step]) -> None:
        if not steps:
            raise ValueError("at least one step")
        self.steps = list(steps)
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                _, body = _read_body(self)
                with owner._lock:
                    owner.requests.append(Recorded(self.path, dict(self.headers.items()), body, time.monotonic()))
                    step = owner.steps.pop(0) if len(owner.steps) > 1 else owner.steps[0]
                if step.delay:
                    time.sleep(step.delay)
                payload = step.body
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload, ensure_ascii=False).encode()
                elif isinstance(payload, str):
                    data = payload.encode()
                else:
                    data = payload or b""
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in step.headers.items():
                        self.send_header(key, value)
                    if step.cut_body_at is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data if step.cut_body_at is None else data[: step.cut_body_at])
                    self.wfile.flush()
                    if step.cut_body_at is not None:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.close_connection = True

        self._serve(Handler, "chat-server")

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests (the client's waits plus each attempt's own time)."""
        times = [r.at for r in self.requests]
        return [b - a for a, b in zip(times, times[1:])]


class RecordingProxy(_LoopbackServer):
    """Forwards every request to ``upstream`` (a real server) and records it as it went on the wire."""

    def __init__(self, upstream: str) -> None:
        import http.client
        from urllib.parse import urlsplit

        target = urlsplit(upstream)
        self.requests: list[Recorded] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                raw, body = _read_body(self)
                owner.requests.append(Recorded(self.path, dict(self.headers.items()), body, time.monotonic()))
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                try:
                    conn.request(self.command, self.path, body=raw or None, headers=headers)
                    reply = conn.getresponse()
                    data = reply.read()
                except (OSError, http.client.HTTPException) as exc:  # the upstream died: a gateway error, no traceback
                    self.send_error(502, f"upstream {upstream} unreachable: {type(exc).__name__}")
                    conn.close()
                    return
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = _forward  # noqa: N815

        self._serve(Handler, "recording-proxy")
