"""systemd's notify protocol without a library: one datagram per message to ``$NOTIFY_SOCKET``.

``Type=notify`` units wait for ``READY=1``; ``WatchdogSec=`` kills a daemon that stops sending
``WATCHDOG=1`` for that long (systemd passes it as ``WATCHDOG_USEC``, and ``WATCHDOG_PID`` names the
process meant to ping). ``NOTIFY_SOCKET`` is a path or ``@name`` (the abstract namespace). systemd
takes the sender's pid from the socket's credentials, so the daemon's own process must send
(threads are fine; with ``NotifyAccess=main`` a child's message is ignored). Without
``NOTIFY_SOCKET`` (not under systemd) every call does nothing. A send that fails (the socket
vanished) is logged once per run of failures and never raises.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("liveguard.notify")

STATUS_CHARS = 400  # systemctl status shows one line; a datagram stays far below any limit


class Notifier:
    """Sends notify messages to ``address`` (``/run/systemd/notify``, ``@name``); ``None``: a no-op notifier."""

    def __init__(self, address: str | None, environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self.address = address or None
        self._target: str | bytes | None = None
        if self.address is not None:
            if self.address.startswith("@"):
                self._target = "\0" + self.address[1:]
            elif self.address.startswith("/"):
                self._target = self.address
            else:
                log.warning("notify: NOTIFY_SOCKET=%s is neither a path nor @abstract; not notifying systemd", self.address)
        self._failing = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier ``$NOTIFY_SOCKET`` names (``environ`` defaults to ``os.environ``)."""
        environ = os.environ if environ is None else environ
        return cls(environ.get("NOTIFY_SOCKET"), environ)

    @property
    def enabled(self) -> bool:
        """True when a message would reach a socket (we run under systemd's notify protocol)."""
        return self._target is not None

    def ready(self, status: str = "") -> bool:
        """Startup is done (models loaded, workers started); systemd marks the unit active."""
        return self._send("READY=1", status)

    def status(self, text: str) -> bool:
        """A one-line status shown by ``systemctl status``."""
        return self._send(None, text)

    def watchdog(self) -> bool:
        """Still alive: send every half :meth:`watchdog_interval_s`, only while workers make progress."""
        return self._send("WATCHDOG=1", "")

    def reloading(self, status: str = "") -> bool:
        """A SIGHUP reload began; send :meth:`ready` when it is done."""
        return self._send("RELOADING=1", status)

    def stopping(self, status: str = "") -> bool:
        """Shutdown began (SIGTERM): systemd waits for the exit instead of treating it as a crash."""
        return self._send("STOPPING=1", status)

    def watchdog_interval_s(self) -> float | None:
        """``WatchdogSec=`` in seconds (from ``WATCHDOG_USEC``) when it applies to this process; None: no watchdog.

        systemd kills the unit when no ``WATCHDOG=1`` arrived for this long, so ping at half of it.
        ``WATCHDOG_PID``, when set, must be our pid (else the watchdog is meant for another process).
        """
        raw = self._environ.get("WATCHDOG_USEC", "").strip()
        pid = self._environ.get("WATCHDOG_PID", "").strip()
        if not raw or (pid and pid != str(os.getpid())):
            return None
        try:
            usec = int(raw)
        except ValueError:
            log.warning("notify: WATCHDOG_USEC=%r is not a number of microseconds; no watchdog pings", raw)
            return None
        return usec / 1e6 if usec > 0 else None

    def _send(self, field: str | None, status: str) -> bool:
        lines = [field] if field else []
        if status:
            lines.append("STATUS=" + " ".join(status.split())[:STATUS_CHARS])
        if self._target is None or not lines:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self._target)
                sock.sendall("\n".join(lines).encode("utf-8"))
        except OSError as exc:
            if not self._failing:
                log.warning("notify: cannot send to NOTIFY_SOCKET=%s (%s); systemd does not hear us until it is back",
                            self.address, exc.strerror or exc)
            self._failing = True
            return False
        if self._failing:
            self._failing = False
            log.info("notify: NOTIFY_SOCKET=%s reachable again", self.address)
        return True
