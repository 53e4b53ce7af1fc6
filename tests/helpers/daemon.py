"""Running `liveguard serve` in tests: a small fast configuration, in a thread or as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from edge.service.daemon import Daemon
from tests.helpers.workspace import REPO


def wait_until(condition: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    """Poll ``condition`` until it is truthy (returned) or ``timeout`` s pass (the last value is returned)."""
    deadline = time.monotonic() + timeout
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = condition()
    return value


def serve_config(folder: Path, streams: list[dict[str, Any]], broker_port: int | None = None, **sections: Any) -> dict[str, Any]:
    """A configuration that serves ``streams`` fast on 2 cores: 3 s windows at 2 fps, no detector and no
    ASR (the OCR reader is real), short source timeouts, stats every second, health on a free port."""
    config: dict[str, Any] = {
        "device": {"id": "box-1", "site": "lab"},
        "sampling": {"fps": 2.0},
        "detector": {"model": None},
        "asr": {"backend": "none"},
        "windows": {"window_s": 3.0, "overlap_s": 0.0},
        "sources": {"open_timeout_s": 5.0, "read_timeout_s": 2.0, "stall_s": 4.0, "reconnect_min_s": 0.5,
                    "reconnect_max_s": 2.0, "folder_poll_s": 0.5, "folder_settle_s": 0.5},
        "service": {"state_dir": str(folder / "state"), "shutdown_s": 15.0, "stats_interval_s": 1.0,
                    "health": {"enabled": True, "port": 0}},
        "transport": {"outbox": {"path": str(folder / "outbox.sqlite")},
                      "mqtt": {"enabled": broker_port is not None, "port": broker_port or 1883, "reconnect_min_s": 1.0,
                               "reconnect_max_s": 1.0, "keepalive_s": 5}},
        "streams": streams,
    }
    for name, values in sections.items():
        merged = dict(config.get(name, {}))
        merged.update(values)
        config[name] = merged
    return config


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


class ThreadedDaemon:
    """A :class:`Daemon` run in a thread of the test process (signals are driven through its methods)."""

    def __init__(self, config_file: Path) -> None:
        self.daemon = Daemon([config_file])
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="test-daemon", daemon=True)

    def _run(self) -> None:
        try:
            self.daemon.run()
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def __enter__(self) -> ThreadedDaemon:
        self.thread.start()
        assert wait_until(lambda: self.daemon.ready or not self.thread.is_alive(), 60), "daemon not ready after 60 s"
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 60) -> float:
        """Stop and wait; returns the seconds it took."""
        start = time.monotonic()
        self.daemon.stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"daemon still running {timeout} s after stop()"
        if self.error is not None:
            raise self.error
        return time.monotonic() - start

    def stream(self, stream_id: str):
        """The stream's snapshot while the daemon runs."""
        snapshot = next(s for s in self.daemon.snapshot().streams if s.id == stream_id)
        return snapshot


class ServeProcess:
    """``liveguard serve -c FILE...`` as a child process; its stderr (the log) goes to a file."""

    def __init__(self, folder: Path, *config_files: Path) -> None:
        self.log_path = folder / f"serve-{time.monotonic_ns()}.log"
        self.config_files = config_files
        self.process: subprocess.Popen | None = None

    def start(self) -> ServeProcess:
        args = [sys.executable, "-m", "edge.cli", "serve"]
        for path in self.config_files:
            args += ["-c", str(path)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text: str, timeout: float) -> bool:
        return bool(wait_until(lambda: text in self.log() or self.process.poll() is not None, timeout)) and text in self.log()

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
        self._log.close()


def documents(messages: list, kind: str) -> list[dict[str, Any]]:
    """The JSON documents among ``messages`` whose topic ends with ``/<kind>``."""
    return [json.loads(m.payload) for m in messages if m.topic.endswith(f"/{kind}") and not m.retain]
