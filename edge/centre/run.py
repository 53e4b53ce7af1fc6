"""Running a centre program in the foreground until SIGTERM or SIGINT, with a line of totals now and then."""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

log = logging.getLogger("liveguard.centre")

SUBSCRIBE_WARN_S = 30.0  # not subscribed after this long: say so (the program keeps retrying)


def run_until_stopped(program: Any, name: str, totals: Callable[[], Counter[str]], report_s: float = 60.0) -> int:
    """Start ``program`` (a collector or a worker), log its totals every ``report_s`` while they change,
    close it on SIGTERM/SIGINT (the batch in hand is finished and acknowledged) and return 0."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with program:
            program.start()
            if not program.wait_subscribed(SUBSCRIBE_WARN_S) and not stop.is_set():
                log.warning("%s: not subscribed after %.0f s (is the broker at %s:%d up?); still trying", name, SUBSCRIBE_WARN_S,
                            program.broker.host, program.broker.port)
            else:
                log.info("%s: subscribed as %s", name, program.client_id)
            last: dict[str, int] = {}
            while not stop.wait(report_s):
                now = dict(totals())
                if now != last:
                    log.info("%s: %s", name, ", ".join(f"{key} {value}" for key, value in sorted(now.items())) or "nothing yet")
                    last = now
        log.info("%s: stopped; %s", name, ", ".join(f"{key} {value}" for key, value in sorted(totals().items())) or "nothing handled")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
