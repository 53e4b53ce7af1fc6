"""Who may do what on a real mosquitto: a paho client that reports each PUBACK and SUBACK reason code,
throwaway certificates made with the openssl CLI, and configs/mosquitto/mosquitto.conf as shipped with
only its paths and ports moved (tests/packaging/test_mosquitto*.py)."""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from broker import Mosquitto, free_port
from workspace import CONFIGS

NOT_AUTHORIZED = 0x87


class Client:
    """A paho MQTT v5 client that waits for each PUBACK and SUBACK and keeps what it receives.

    ``tls``: keyword arguments of paho's ``tls_set`` (ca_certs, certfile, keyfile). ``refused``: expect
    the broker to turn the connection down; then :attr:`refusal` says how (a CONNACK failure, the TLS
    handshake's error, or the connection closed before any CONNACK), and the client is left stopped.
    """

    count = 0

    def __init__(self, port: int, user: str | None = None, password: str | None = None, tls: dict | None = None,
                 host: str = "127.0.0.1", refused: bool = False) -> None:
        Client.count += 1
        self.acks: dict[int, object] = {}
        self.messages: list[mqtt.MQTTMessage] = []
        self.connack = None
        self.disconnects: list[object] = []
        self.refusal: str | None = None
        self._event = threading.Condition()
        name = user or ("cert" if tls and tls.get("certfile") else "anonymous")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{name}-{Client.count}", protocol=mqtt.MQTTv5)
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls is not None:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED, **tls)
        self.client.on_connect = lambda c, u, flags, rc, p: self._note(lambda: setattr(self, "connack", rc))
        self.client.on_disconnect = lambda c, u, flags, rc, p: self._note(lambda: self.disconnects.append(rc))
        self.client.on_publish = lambda c, u, mid, rc, p: self._note(lambda: self.acks.__setitem__(mid, rc))
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._note(lambda: self.acks.__setitem__(mid, rcs))
        self.client.on_message = lambda c, u, msg: self._note(lambda: self.messages.append(msg))
        try:
            self.client.connect(host, port, keepalive=10)
        except (ssl.SSLError, OSError) as exc:  # the TLS handshake failed inside connect()
            assert refused, f"connect failed: {exc!r}"
            self.refusal = f"handshake: {exc!r}"
            return
        self.client.loop_start()
        answered = self._wait(lambda: self.connack is not None or self.disconnects, timeout=10)
        if not refused:
            assert answered and self.connack is not None and not self.connack.is_failure, (self.connack, self.disconnects)
            return
        self.client.loop_stop()  # no automatic reconnects
        assert answered, "the broker neither answered nor closed the connection"
        if self.connack is not None and not self.connack.is_failure:
            raise AssertionError(f"the broker accepted the connection: CONNACK {self.connack}")
        self.refusal = f"CONNACK {self.connack}" if self.connack is not None else f"closed before CONNACK: {self.disconnects}"

    def _note(self, change) -> None:
        with self._event:
            change()
            self._event.notify_all()

    def _wait(self, predicate, timeout: float = 10) -> bool:
        with self._event:
            return self._event.wait_for(predicate, timeout)

    def publish(self, topic: str, retain: bool = False) -> int:
        """The PUBACK's reason code, 0 for any success (0x10 "No matching subscribers" included)."""
        info = self.client.publish(topic, json.dumps({"topic": topic}).encode(), qos=1, retain=retain)
        assert self._wait(lambda: info.mid in self.acks), f"no PUBACK for {topic}"
        code = self.acks[info.mid].value
        return 0 if code < 0x80 else code

    def subscribe(self, topic: str) -> list[int]:
        """The SUBACK's reason codes (the granted QoS, or a failure code)."""
        _, mid = self.client.subscribe(topic, qos=1)
        assert self._wait(lambda: mid in self.acks), f"no SUBACK for {topic}"
        return [code.value for code in self.acks[mid]]

    def topics(self) -> list[str]:
        with self._event:
            return [m.topic for m in self.messages]

    def wait_for_topics(self, count: int, timeout: float = 10) -> list[str]:
        self._wait(lambda: len(self.messages) >= count, timeout)
        return self.topics()

    def close(self) -> None:
        if self.refusal is None:
            self.client.disconnect()
            self.client.loop_stop()


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=30)


EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def make_ca(folder: Path, name: str = "ca", subject: str = "liveguard test CA") -> Path:
    """A throwaway self-signed CA: ``<name>.pem`` and ``<name>.key`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(folder, "req", "-x509", *EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={subject}")
    os.chmod(folder / f"{name}.pem", 0o644)
    return folder / f"{name}.pem"


def sign(folder: Path, name: str, common_name: str, ca: str = "ca", extensions: str = "") -> tuple[Path, Path]:
    """A key and a certificate for ``/CN=<common_name>`` signed by ``ca``: ``<name>.pem``, ``<name>.key``."""
    _openssl(folder, "req", *EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={common_name}")
    extra = []
    if extensions:
        (folder / f"{name}.ext").write_text(extensions + "\n")
        extra = ["-extfile", f"{name}.ext"]
    _openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-out", f"{name}.pem", "-days", "2", *extra)
    for path in (f"{name}.pem", f"{name}.key"):  # the broker runs as the test's user; 0644 as field-facts §1 found
        os.chmod(folder / path, 0o644)
    return folder / f"{name}.pem", folder / f"{name}.key"


def make_certificates(folder: Path) -> None:
    """A throwaway CA (ca.pem) and a broker certificate (broker.pem, broker.key) for 127.0.0.1 and localhost."""
    make_ca(folder)
    sign(folder, "broker", "localhost", extensions="subjectAltName=IP:127.0.0.1,DNS:localhost")


def make_client_certificate(folder: Path, common_name: str, ca: str = "ca", name: str | None = None) -> dict[str, str]:
    """A client certificate for TLS client authentication; returns paho's tls_set keywords for it
    (the broker's CA, ca.pem, as ca_certs)."""
    cert, key = sign(folder, name or common_name, common_name, ca=ca, extensions="extendedKeyUsage=clientAuth")
    return {"ca_certs": str(folder / "ca.pem"), "certfile": str(cert), "keyfile": str(key)}


PATH_SETTINGS = {"password_file", "acl_file", "cafile", "capath", "certfile", "keyfile", "crlfile", "persistence_location"}


@dataclass
class ExampleBroker:
    """configs/mosquitto/mosquitto.conf started here: ``ports`` maps each listener's shipped port to this run's."""

    server: Mosquitto
    folder: Path
    ports: dict[int, int]

    def stop(self) -> None:
        self.server.stop()


def example_broker(folder: Path, users: dict[str, str], acl: str) -> ExampleBroker:
    """mosquitto.conf as shipped, with /etc/mosquitto/ and /var/lib/mosquitto/ moved into ``folder`` (its
    certificates under ``folder/certs``: the caller makes them first) and each listener on a free loopback
    port, started as the test's user. Users go in liveguard.passwd, ``acl`` in liveguard.acl."""
    server = Mosquitto(folder, users=users, acl=acl)
    (folder / "liveguard.passwd").write_bytes((folder / "passwords").read_bytes())
    (folder / "liveguard.acl").write_text(acl)
    os.chmod(folder / "liveguard.acl", 0o644)
    text = (CONFIGS / "mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    text = text.replace("/etc/mosquitto/", f"{folder}/").replace("/var/lib/mosquitto/", f"{folder}/")
    ports: dict[int, int] = {}

    def move(match: re.Match) -> str:
        ports[int(match.group(1))] = free_port()
        return f"listener {ports[int(match.group(1))]} 127.0.0.1"

    text = re.sub(r"^listener (\d+)(?: 127\.0\.0\.1)?$", move, text, flags=re.M)
    settings = [line for line in text.splitlines() if line and not line.startswith("#")]
    listeners = [line for line in settings if line.startswith("listener ")]
    assert len(listeners) == len(ports) and ports, listeners  # every listener moved
    paths = [line.split(" ", 1)[1] for line in settings if line.split(" ", 1)[0] in PATH_SETTINGS]
    assert len(paths) >= 6 and all(path.startswith(f"{folder}/") for path in paths), paths  # nothing left outside folder
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")  # as the test's user (see broker.py)
    server.config.write_text(f"user {user}\n" + text)
    # probe the plain loopback listener: a bare connect and close on a TLS one logs an OpenSSL error
    server.start(probe_port=ports[1883])
    return ExampleBroker(server, folder, ports)
