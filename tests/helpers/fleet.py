"""A simulated fleet for the centre's tests: real documents, real publishers, real collector processes.

The documents come from one real run of the pipeline on the demo clip (evidence) and the local
fusion rules (result); copies differ in device, stream and window, hence in evidence id. A box
publishes the way a box does: its own outbox drained by :class:`edge.transport.MqttPublisher`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from daemon import wait_until
from workspace import DEMO, REPO

from edge.config.models import FusionConfig, MqttConfig
from edge.fusion import create_fusion
from edge.transport import MqttPublisher, Outbox, Topics
from edge.transport.delivery import enqueue_window


@cache
def _template(folder: str) -> dict[str, Any]:
    """The demo clip's evidence, made once per test session by ``liveguard run --evidence`` (no detector, no ASR)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    config = out / "run.yaml"
    config.write_text(yaml.safe_dump({"detector": {"model": None}, "asr": {"backend": "none"}}), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "edge.cli", "run", str(DEMO), "-c", str(config), "--evidence", str(out)],
                   cwd=REPO, check=True, capture_output=True, timeout=300)
    return json.loads(next(out.glob("*.evidence.json")).read_text(encoding="utf-8"))


class Fleet:
    """Makes valid evidence and result documents for any site/device/stream/window."""

    def __init__(self, folder: Path) -> None:
        self.template = _template(str(folder))
        self._fuse = create_fusion(FusionConfig(mode="local"))
        self._result = self._fuse(self.template)

    def evidence(self, device: str, stream: str, index: int, site: str = "lab") -> dict[str, Any]:
        doc = copy.deepcopy(self.template)
        doc["device"] = {"id": device, "site": site}
        doc["stream"]["id"] = stream
        doc["window"] = {"start": float(index * 10), "end": float(index * 10 + 10)}
        doc["id"] = hashlib.sha256(f"{site}/{device}/{stream}/{index}".encode()).hexdigest()[:32]
        return doc

    def result(self, evidence: dict[str, Any]) -> dict[str, Any]:
        return {**self._result, "evidence_id": evidence["id"]}

    def fuse(self, evidence: dict[str, Any]) -> dict[str, Any]:
        return self._fuse(evidence)


class Box:
    """One simulated box: an outbox and its MQTT publisher (user name = device id when the broker has users)."""

    def __init__(self, folder: Path, port: int, device: str, site: str = "lab", password: str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        env = None
        if password is not None:
            env = f"LIVEGUARD_TEST_PW_{device.replace('-', '_').upper()}"
            os.environ[env] = password
        self.config = MqttConfig(enabled=True, port=port, client_id=f"box-{device}", reconnect_min_s=1, reconnect_max_s=1,
                                 keepalive_s=5, username=device if password else None, password_env=env)
        self.outbox = Outbox(folder / f"{device}.sqlite")
        self.topics = Topics("liveguard", site, device)
        self.publisher = MqttPublisher(self.config, self.outbox, self.topics).start()

    def send(self, evidence: dict[str, Any], result: dict[str, Any] | None) -> None:
        enqueue_window(self.outbox, self.topics, evidence, result)
        self.publisher.wake()

    def raw(self, topic: str, payload: bytes, doc_id: str, schema: str = "x") -> None:
        """Put any payload on any topic (through the same durable path)."""
        self.outbox.put(topic, payload, doc_id, schema)
        self.publisher.wake()

    def drained(self, timeout: float = 60) -> bool:
        return self.publisher.drain(timeout)

    def close(self) -> None:
        self.publisher.close()
        self.outbox.close()


def centre_config(folder: Path, port: int, store_url: str, **centre: Any) -> Path:
    """A YAML file for `liveguard collect` / `fuse --serve` against the loopback broker and ``store_url``."""
    section: dict[str, Any] = {
        "mqtt": {"port": port, "reconnect_min_s": 1.0, "reconnect_max_s": 1.0, "keepalive_s": 5},
        "store": {"url": store_url},
        "collector": {"batch_ms": 50},
        "worker": {"outbox": {"path": str(folder / "fusion-outbox.sqlite")}},
    }
    for key, values in centre.items():
        section[key] = {**section.get(key, {}), **values}
    extra = section.pop("top", {})
    path = folder / f"centre-{time.monotonic_ns()}.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"centre": section, **extra}, sort_keys=False), encoding="utf-8")
    return path


class CentreProcess:
    """``liveguard collect`` or ``liveguard fuse --serve`` as a child process, its log in a file."""

    def __init__(self, folder: Path, config: Path, client_id: str, command: str = "collect", env: dict[str, str] | None = None) -> None:
        self.log_path = folder / f"{client_id}-{time.monotonic_ns()}.log"
        args = [sys.executable, "-m", "edge.cli", *(["fuse", "--serve"] if command == "fuse" else [command]), "-c", str(config),
                "--client-id", client_id]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        assert wait_until(lambda: "subscribed as" in self.log() or self.process.poll() is not None, 60), self.log()
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no batch finished, nothing acknowledged that was not committed."""
        self.process.kill()
        self.process.wait(10)
        self._log.close()

    def stop(self, timeout: float = 30) -> str:
        """SIGTERM and wait; the log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout)
        self._log.close()
        return self.log()

    def __enter__(self) -> CentreProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.kill()
