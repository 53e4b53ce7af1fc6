"""Operators' logins: scrypt password hashes read from a file or the environment, server-side sessions
that expire when unused, and a pause after repeated failures.

A users line is ``name:scrypt$<n>$<r>$<p>$<salt>$<hash>`` (salt and hash in URL-safe base64), written by
``liveguard web passwd NAME``; the file holds no password, and neither does the configuration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from edge.config.models import WebConfig
from edge.errors import ConfigError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MAX_FAILURES = 5  # in a row, per name and address
PAUSE_S = 60.0


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password``."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, encoded: str) -> bool:
    """Does ``password`` match the hash ``encoded`` (constant time)?"""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def user_line(name: str, password: str) -> str:
    if not _NAME.match(name):
        raise ConfigError("web passwd", f"{name!r}: a user name is 1-64 letters, digits or . _ @ -")
    return f"{name}:{hash_password(password)}"


def parse_users(text: str, where: str) -> dict[str, str]:
    """name -> hash from ``name:scrypt$...`` lines (blank lines and ``#`` comments skipped); a malformed line
    is an error naming ``where`` and the line number, never its content (it could be a pasted password)."""
    users: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, encoded = line.partition(":")
        if not _NAME.match(name) or not encoded.startswith("scrypt$") or encoded.count("$") != 5:
            raise ConfigError(where, f"line {number}: expected name:scrypt$... (write it with `liveguard web passwd NAME`)")
        users[name] = encoded
    return users


def load_users(config: WebConfig, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The operators of ``config.users_file`` and ``config.users_env``; an error when there are none
    (a page nobody can log in to is a misconfiguration, not a locked door)."""
    environ = dict(os.environ) if environ is None else environ
    users: dict[str, str] = {}
    if config.users_file is not None:
        path = Path(config.users_file)
        try:
            users.update(parse_users(path.read_text(encoding="utf-8"), str(path)))
        except OSError as exc:
            raise ConfigError("centre.web.users_file", f"{path}: cannot read ({exc.strerror})") from None
    if config.users_env is not None:
        if config.users_env not in environ:
            raise ConfigError("centre.web.users_env", f"environment variable {config.users_env} is not set")
        users.update(parse_users(environ[config.users_env], f"${config.users_env}"))
    if not users:
        raise ConfigError("centre.web", "no operators: set users_file or users_env (lines from `liveguard web passwd NAME`)")
    return users


@dataclass
class _Session:
    user: str
    expires: float


class Sessions:
    """Logins by random token; a session expires ``lifetime_s`` after its last use."""

    def __init__(self, users: dict[str, str], lifetime_s: float, clock=time.monotonic) -> None:
        self._users = users
        self._lifetime = lifetime_s
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._failures: dict[tuple[str, str], tuple[int, float]] = {}
        self._lock = threading.Lock()

    def login(self, name: str, password: str, address: str) -> str | None:
        """A new session token, or None (unknown name, wrong password, or paused after failures)."""
        key = (name, address)
        now = self._clock()
        with self._lock:
            count, since = self._failures.get(key, (0, now))
            if count >= MAX_FAILURES and now - since < PAUSE_S:
                return None
        encoded = self._users.get(name)
        ok = check_password(password, encoded) if encoded else check_password(password, _DUMMY)  # same cost either way
        with self._lock:
            if not (ok and encoded):
                count, since = self._failures.get(key, (0, now))
                self._failures[key] = (1, now) if now - since >= PAUSE_S else (count + 1, since)
                return None
            self._failures.pop(key, None)
            token = secrets.token_urlsafe(32)
            self._sessions[token] = _Session(name, now + self._lifetime)
            self._expire(now)
            return token

    def paused(self, name: str, address: str) -> bool:
        with self._lock:
            count, since = self._failures.get((name, address), (0, 0.0))
            return count >= MAX_FAILURES and self._clock() - since < PAUSE_S

    def user(self, token: str | None) -> str | None:
        """The operator of a live session (its expiry pushed back), None otherwise."""
        if not token:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None or session.expires <= now:
                self._sessions.pop(token, None)
                return None
            session.expires = now + self._lifetime
            return session.user

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def _expire(self, now: float) -> None:
        for token in [t for t, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[token]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_DUMMY = hash_password(secrets.token_hex(8), b"liveguard-dummy!")
