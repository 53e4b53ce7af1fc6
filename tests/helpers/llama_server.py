"""llama-cpp-python's OpenAI-compatible server as a test peer, with its death reported in one line.

A server that crashes (a native build tuned to another CPU dies with SIGSEGV on its first batched
prompt) must show up as that, not as an assertion about which fusion engine answered afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LOG_TAIL_LINES = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def exit_description(code: int) -> str:
    """'exit 1', or 'killed by SIGSEGV (exit -11)' for a signal."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name} (exit {code})"
    return f"exit {code}"


class LlamaServer:
    """``python -m llama_cpp.server`` on a free loopback port; :meth:`death` says whether and how it died."""

    def __init__(self, model: Path, alias: str, api_key: str, log_path: Path, n_ctx: int = 4096) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.api_key = api_key
        self.log_path = log_path
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", alias,
            "--host", "127.0.0.1", "--port", str(self.port), "--api_key", api_key, "--n_ctx", str(n_ctx),
            # one thread: on a busy 2-core machine two spinning threads are many times slower
            "--n_threads", "1", "--n_threads_batch", "1", "--logits_all", "False", "--verbose", "False",
        ]
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"}
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self) -> str:
        """The server log's last lines joined with ' | ' (one line), or '(empty log)'."""
        try:
            lines = [line.strip() for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        return " | ".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"

    def death(self) -> str | None:
        """None while the server runs; else one line: how it ended and the tail of its log."""
        code = self.process.poll()
        if code is None:
            return None
        return f"llama server (pid {self.pid}) died, {exit_description(code)}; log tail: {self.log_tail()}"

    def wait_ready(self, timeout_s: float) -> str | None:
        """Wait until ``/v1/models`` answers 200; None when ready, else why not (one line)."""
        deadline = time.monotonic() + timeout_s
        while True:
            died = self.death()
            if died:
                return died
            try:
                reply = httpx.get(f"{self.base_url}/models", headers={"Authorization": f"Bearer {self.api_key}"}, timeout=1)
                if reply.status_code == 200:
                    return None
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                return f"llama server (pid {self.pid}) not ready after {timeout_s:.0f}s; log tail: {self.log_tail()}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
