"""Draining an outbox to an HTTPS endpoint: one POST per document, in order, kept until a 2xx.

The sink owns its own :class:`Outbox` file (the MQTT publisher keeps its rows until PUBACK, this one
until the endpoint answers 2xx). A sender thread POSTs the oldest row with ``Idempotency-Key: <document
id>`` (the receiver drops a resend by it), then the next. A reply that may turn into a success later
(408, 425, 429, 5xx) and every network failure (refused, timed out, TLS) keep the row and retry it
after a capped exponential back-off with jitter, honouring ``Retry-After`` up to ``retry_max_s``.
Any other refusal (400, 401, 403, 404, 413, 422, a redirect...) parks the row with a one-line reason
naming the URL and status, and the sink goes on with the next. The bearer token is read once at
construction (``read_secret``) and never logged.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from edge.closing import Closing
from edge.config.models import HttpsSinkConfig
from edge.config.secrets import read_secret
from edge.transport.outbox import Message, Outbox

log = logging.getLogger("liveguard.https")

CONTENT_TYPE = "application/json"
RETRYABLE = frozenset({408, 425, 429})  # plus every 5xx
IDLE_POLL_S = 0.5  # an empty outbox is looked at again this often (wake() is immediate)
BODY_CHARS = 160  # of a refusal's body, quoted in the park reason


class HttpsSink(Closing):
    """Sends ``outbox`` to ``config.url``; :meth:`start` begins, :meth:`close` stops (rows not sent stay)."""

    def __init__(self, config: HttpsSinkConfig, outbox: Outbox) -> None:
        self.config = config
        self.outbox = outbox
        token = read_secret("transport.https.token", config.token_file, config.token_env)
        self._headers = {"Content-Type": CONTENT_TYPE, "User-Agent": "liveguard-https-sink"}
        if token is not None:
            if config.url.startswith("http://"):
                log.warning("https: %s is plain HTTP; the bearer token travels unencrypted", config.url)
            self._headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        verify = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
        self._client = httpx.Client(timeout=config.timeout_s, verify=verify, follow_redirects=False)
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._ok = True
        self._failures = 0  # consecutive failed attempts on the head row
        self._retry_at: float | None = None  # monotonic time of the next attempt while failing
        self.last_error: str | None = None  # one line: the last failure or refusal
        self.delivered = 0  # rows acknowledged in this process
        self.parked = 0  # rows refused and parked in this process
        self.retries = 0  # attempts that failed and will be repeated
        self._sender = threading.Thread(target=self._send_loop, name="liveguard-https-send", daemon=True)

    @property
    def ok(self) -> bool:
        """True when the last attempt delivered its document (and before any attempt)."""
        return self._ok

    def start(self) -> HttpsSink:
        self._sender.start()
        return self

    def wake(self) -> None:
        """New rows are in the outbox: look now rather than at the next poll (a back-off still runs out)."""
        with self._lock:
            self._lock.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the outbox to empty; True if it did.

        Returns False early while the endpoint is failing and its next retry falls after the deadline.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.stats().depth == 0:
                return True
            retry_at = self._retry_at
            if retry_at is not None and retry_at > deadline:
                return False  # the rows wait in the outbox for the next start
            self.wake()
            time.sleep(0.05)
        return self.outbox.stats().depth == 0

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the request in flight (waiting up to ``timeout``); what was not acknowledged stays in the outbox."""
        self._stop.set()
        self.wake()
        if self._sender.is_alive():
            self._sender.join(timeout)
        self._client.close()

    def __enter__(self) -> HttpsSink:
        return self.start()

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self.outbox.pending(1)
                if not batch:
                    with self._lock:
                        self._lock.wait(IDLE_POLL_S)
                    continue
                delay = self._attempt(batch[0])
            except Exception as exc:  # noqa: BLE001 - the sender must outlive any surprise (an outbox error, a bug)
                if self._stop.is_set():
                    break  # closing: the client or the outbox went away under the request
                log.exception("https: unexpected error while sending; retrying")
                delay = self._failed(f"{self.config.url}: {type(exc).__name__}: {exc}", None)
            if delay:
                self._retry_at = time.monotonic() + delay
                self._stop.wait(delay)
                self._retry_at = None

    def _attempt(self, message: Message) -> float:
        """POST one row and settle it; the seconds to wait before the next attempt (0: go on)."""
        headers = dict(self._headers)
        headers["Idempotency-Key"] = message.doc_id
        headers["X-LiveGuard-Schema"] = message.schema
        headers["X-LiveGuard-Topic"] = message.topic
        url = self.config.url
        try:
            reply = self._client.post(url, content=message.payload, headers=headers)
        except httpx.HTTPError as exc:  # refused, timed out, TLS verification, protocol error
            detail = " ".join(str(exc).split()) or type(exc).__name__
            return self._failed(f"{url}: {type(exc).__name__}: {detail}", None)
        status = reply.status_code
        if 200 <= status < 300:
            self.outbox.ack(message.seq)
            self.delivered += 1
            if self._failures:
                log.info("https: %s accepts documents again (after %d failed attempt(s))", url, self._failures)
            self._ok, self._failures = True, 0
            return 0.0
        phrase = f"HTTP {status} {reply.reason_phrase}".strip()
        if status in RETRYABLE or status >= 500:
            return self._failed(f"{url} answered {phrase}", _retry_after(reply.headers.get("Retry-After")))
        body = " ".join(reply.text.split())[:BODY_CHARS]
        where = f" (Location: {reply.headers['Location']})" if 300 <= status < 400 and "Location" in reply.headers else ""
        reason = f"{url} refused it: {phrase}{where}" + (f": {body}" if body else "")
        self.outbox.park(message.seq, reason)
        self.parked += 1
        self.last_error = reason
        self._ok, self._failures = False, 0
        return 0.0

    def _failed(self, line: str, retry_after: float | None) -> float:
        """Count a failed attempt on the head row; the back-off before the next one."""
        self._ok = False
        self._failures += 1
        self.retries += 1
        cfg = self.config
        ceiling = max(cfg.retry_min_s, cfg.retry_max_s)
        base = min(ceiling, cfg.retry_min_s * 2 ** (self._failures - 1))
        delay = max(cfg.retry_min_s, random.uniform(base / 2, base))
        if retry_after is not None:
            delay = max(delay, min(retry_after, ceiling))
        if self._failures == 1 or line != self.last_error:
            log.warning("https: %s; retrying in %.1f s", line, delay)
        else:
            log.debug("https: %s; retry %d in %.1f s", line, self._failures, delay)
        self.last_error = line
        return delay


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
