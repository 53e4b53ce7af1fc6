"""Busy seconds per pipeline stage (``--timings``)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("decode", "detect", "score", "ocr", "asr", "fusion")


class StageTimer:
    """Adds up the seconds each stage spends working; safe to use from several threads."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self._seconds[name] += seconds

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {name: round(self._seconds.get(name, 0.0), 4) for name in (*STAGES, *sorted(set(self._seconds) - set(STAGES)))}
