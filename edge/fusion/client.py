"""A small client for OpenAI-compatible chat completions (DashScope compatible mode by default).

One call, :meth:`ChatClient.complete`, with the retry policy of the box's unreliable uplink:
429, 5xx, timeouts and connection errors back off exponentially with jitter (a server's
Retry-After is honoured) inside a bounded budget of attempts and total waiting; any other 4xx,
``data_inspection_failed`` (content moderation) included, is final. Every failed attempt is
reported as one line, so that the result can record it. The API key travels only in the
Authorization header; it is never logged and is scrubbed from every message this module makes.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from edge import __version__
from edge.config.models import CloudConfig
from edge.config.secrets import read_api_key
from edge.errors import FusionError
from edge.fusion.engine import Closing
from edge.fusion.prompt import decoding_schema

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))
JITTER = 0.5  # a back-off step waits between (1 - JITTER) and 1 times its exponential value
_BODY_CHARS = 200  # of an error body quoted in a failure line


@dataclass(frozen=True)
class Reply:
    """The first choice of a successful completion and what it took to get it."""

    content: str
    finish_reason: str | None
    model: str | None
    attempts: int
    waited_s: float
    failures: tuple[str, ...] = ()  # the attempts that failed before this reply
    usage: dict[str, Any] = field(default_factory=dict)


class CloudError(FusionError):
    """A call that produced no answer: a final refusal, or a retry budget spent.

    ``failures`` has one line per failed attempt; ``code`` is the API's error code when it gave
    one (``data_inspection_failed``, ...); ``retryable`` tells whether the last failure was of the
    kind that backs off (the cloud may be away) rather than a refusal.
    """

    def __init__(self, culprit: str, message: str, failures: tuple[str, ...], code: str | None, retryable: bool,
                 attempts: int, waited_s: float) -> None:
        super().__init__(culprit, message)
        self.failures = failures
        self.code = code
        self.retryable = retryable
        self.attempts = attempts
        self.waited_s = waited_s


@dataclass(frozen=True)
class _Failure:
    line: str
    retryable: bool
    code: str | None = None
    retry_after: float | None = None


class ChatClient(Closing):
    """``POST {base_url}/chat/completions`` with JSON mode, temperature 0 and a fixed seed."""

    def __init__(
        self,
        cloud: CloudConfig,
        api_key: SecretStr | None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.cloud = cloud
        self.url = cloud.base_url.rstrip("/") + "/chat/completions"
        self._key = api_key
        self._sleep = sleep
        self._rng = rng or random.Random()
        headers = {"User-Agent": f"liveguard/{__version__}", "Accept": "application/json"}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
        timeout = httpx.Timeout(cloud.read_timeout_s, connect=cloud.connect_timeout_s)
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str | None = None,
        json_schema: dict[str, Any] | None = None,
        json_mode: bool = True,
        max_tokens: int | None = None,
    ) -> Reply:
        """The model's answer to ``messages``; raises :class:`CloudError` when there is none.

        ``json_mode`` asks for JSON mode (``response_format`` ``json_object``; the prompt must say
        "json"); ``json_schema`` goes inside it when the config asks for schema-constrained
        decoding (``cloud.json_schema``).
        """
        model = model or self.cloud.model
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": 0,
            "seed": self.cloud.seed,
            "max_tokens": max_tokens or self.cloud.max_tokens,
            "stream": False,
        }
        if json_mode:
            body["response_format"] = {"type": "json_object"}
            if json_schema is not None and self.cloud.json_schema:
                body["response_format"]["schema"] = decoding_schema(json_schema)
        retry = self.cloud.retry
        culprit = f"{model} at {self.url}"
        failures: list[str] = []
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(body, attempt, retry.max_attempts)
            if isinstance(outcome, Reply):
                return Reply(outcome.content, outcome.finish_reason, outcome.model, attempt, round(waited, 3),
                             tuple(failures), outcome.usage)
            failures.append(outcome.line)
            log.info("%s: %s", culprit, outcome.line)
            give_up = None
            if not outcome.retryable:
                give_up = "not retried"
            elif attempt >= retry.max_attempts:
                give_up = f"{attempt} attempt(s) spent"
            else:
                delay = self._delay(attempt, outcome.retry_after)
                left = retry.max_wait_s - waited
                if outcome.retry_after is not None and outcome.retry_after > left + 1e-9:
                    give_up = f"Retry-After {outcome.retry_after:g}s exceeds the {max(left, 0):.1f}s left of the retry budget"
                elif left <= 1e-9:
                    give_up = f"retry budget of {retry.max_wait_s:g}s waiting spent"
                else:
                    delay = min(delay, left)
                    self._sleep(delay)
                    waited += delay
                    continue
            raise CloudError(
                culprit,
                f"{outcome.line}; {give_up} (attempt {attempt}, waited {waited:.1f}s)",
                tuple(failures), outcome.code, outcome.retryable, attempt, round(waited, 3),
            )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server gave one, else exponential back-off with jitter."""
        if retry_after is not None:
            return retry_after
        retry = self.cloud.retry
        step = min(retry.max_delay_s, retry.base_delay_s * 2 ** (attempt - 1))
        return step * (1 - JITTER * self._rng.random())

    def _attempt(self, body: dict[str, Any], attempt: int, of: int) -> Reply | _Failure:
        where = f"attempt {attempt}/{of}"
        try:
            response = self._http.post(self.url, json=body)
        except httpx.TimeoutException as exc:
            kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read" if isinstance(exc, httpx.ReadTimeout) else "request"
            limit = self.cloud.connect_timeout_s if kind == "connect" else self.cloud.read_timeout_s
            return _Failure(f"{where}: {kind} timeout after {limit:g}s", retryable=True)
        except httpx.TransportError as exc:  # connection refused or reset, DNS, TLS: the uplink may come back
            return _Failure(f"{where}: {type(exc).__name__}: {self._scrub(str(exc))}", retryable=True)
        except httpx.HTTPError as exc:  # redirects, undecodable bodies: the endpoint is wrong, not away
            return _Failure(f"{where}: {type(exc).__name__}: {self._scrub(str(exc))}", retryable=False)
        status = response.status_code
        if status == 200:
            return self._parse(response, where)
        code, message = _error_of(response)
        text = f"{where}: HTTP {status}" + (f" {code}" if code else "") + (f": {self._scrub(message)}" if message else "")
        retryable = status in RETRYABLE_STATUS and code != "data_inspection_failed"
        retry_after = _retry_after(response.headers.get("retry-after")) if retryable else None
        if retry_after is not None:
            text += f" (Retry-After {retry_after:g}s)"
        return _Failure(text, retryable, code, retry_after)

    def _parse(self, response: httpx.Response, where: str) -> Reply | _Failure:
        """A 200 whose envelope is broken is a glitch of the server (or a proxy), not of the model: retried."""
        try:
            data = response.json()
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            snippet = self._scrub(response.text[:_BODY_CHARS])
            return _Failure(f"{where}: HTTP 200 without a chat completion ({type(exc).__name__}): {snippet}", retryable=True)
        if not isinstance(content, str):
            return _Failure(f"{where}: HTTP 200 with no text content (finish_reason {choice.get('finish_reason')})", retryable=False)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Reply(content, choice.get("finish_reason"), data.get("model"), 0, 0.0, (), usage)

    def _scrub(self, text: str) -> str:
        """One line, short, without the key (a server may echo a header back)."""
        text = " ".join(text.split())
        if self._key is not None:
            text = text.replace(self._key.get_secret_value(), "***")
        return text[:_BODY_CHARS]


def cloud_client(cloud: CloudConfig, **options: Any) -> ChatClient:
    """A client of ``cloud`` with its API key read now (ConfigError naming the variable or file if missing).

    ``options`` go to :class:`ChatClient` (tests pass a transport).
    """
    return ChatClient(cloud, read_api_key(cloud), **options)


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from an OpenAI-style ``{"error": {...}}`` or a DashScope ``{"code", "message"}`` body."""
    try:
        data = response.json()
    except ValueError:
        return None, response.text
    if not isinstance(data, dict):
        return None, response.text
    error = data.get("error") if isinstance(data.get("error"), dict) else data
    code = error.get("code") or error.get("type")
    message = error.get("message") or ""
    return (str(code) if code else None), str(message)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if seconds == seconds else None  # NaN is unreadable

