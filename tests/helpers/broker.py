"""A real mosquitto on a free loopback port, and a subscriber with a persistent session that counts what arrives."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
needs_mosquitto = pytest.mark.skipif(
    not Path(MOSQUITTO).is_file(), reason="needs mosquitto (apt-get install -y mosquitto; tools/install.sh --test installs it)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    """``mosquitto -c`` with persistence in ``folder``; stop() and start() again keep its sessions."""

    def __init__(self, folder: Path, extra: str = "", users: dict[str, str] | None = None, acl: str | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        # As root, mosquitto would switch to its own user, which cannot enter pytest's 0700 tmp folders:
        # "user root" keeps it as the test's user (a test process, not a deployment).
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        lines = [f"user {user}", f"listener {self.port} 127.0.0.1", "persistence true", f"persistence_location {folder}/",
                 "autosave_interval 1", "log_dest stderr", "log_type error", "log_type warning", "log_type notice"]
        if users is None:
            lines.append("allow_anonymous true")
        else:
            passwords = folder / "passwords"
            passwords.touch()
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True, capture_output=True)
            os.chmod(passwords, 0o644)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        if acl is not None:
            (folder / "acl").write_text(acl, encoding="utf-8")
            os.chmod(folder / "acl", 0o644)
            lines.append(f"acl_file {folder / 'acl'}")
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
        self.process: subprocess.Popen | None = None

    def start(self, probe_port: int | None = None) -> Mosquitto:
        """Start and wait until ``probe_port`` (default: ``port``) accepts a TCP connection. Probe a plain
        listener when ``port`` speaks TLS: a bare connect and close there logs an OpenSSL error."""
        self.log = open(self.folder / "mosquitto.log", "ab")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.process.returncode}: {self.log_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", probe_port or self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto not listening on {probe_port or self.port} after 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def log_text(self) -> str:
        return (self.folder / "mosquitto.log").read_text(errors="replace")


@dataclass
class Received:
    topic: str
    payload: bytes
    properties: object
    retain: bool


class Subscriber:
    """Subscribes to ``topic`` at QoS 1 with a persistent session, so messages published while it or the
    broker was away still arrive; ``messages`` lists them in arrival order."""

    def __init__(self, port: int, topic: str = "liveguard/#", client_id: str = "test-collector",
                 username: str | None = None, password: str | None = None) -> None:
        self.messages: list[Received] = []
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(1, 1)
        self.topic = topic

        def on_connect(client, userdata, flags, reason_code, properties):
            client.subscribe(topic, qos=1)

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            self._ready.set()

        def on_message(client, userdata, msg):
            with self._lock:
                self.messages.append(Received(msg.topic, msg.payload, msg.properties, msg.retain))

        self.client.on_connect, self.client.on_subscribe, self.client.on_message = on_connect, on_subscribe, on_message
        connect = Properties(PacketTypes.CONNECT)
        connect.SessionExpiryInterval = 3600  # without it, clean_start=False keeps nothing under MQTT v5
        self.client.connect("127.0.0.1", port, keepalive=10, clean_start=False, properties=connect)
        self.client.loop_start()
        assert self._ready.wait(10), "subscriber got no SUBACK"

    def of(self, suffix: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(suffix) and not m.retain]

    def wait_for(self, suffix: str, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(suffix)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.of(suffix)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
