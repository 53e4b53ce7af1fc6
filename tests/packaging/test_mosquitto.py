"""configs/mosquitto/ against a real mosquitto: the ACL confines each box to its own topics; the example
broker config starts as shipped (paths and ports moved) and serves the example boxes over TLS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from broker import Mosquitto, Subscriber, free_port, needs_mosquitto
from workspace import CONFIGS

from edge.config import load_config
from edge.transport import MqttPublisher, Outbox, Topics

pytestmark = needs_mosquitto

ACL = (CONFIGS / "mosquitto/liveguard.acl").read_text(encoding="utf-8")
USERS = {"cam-a": "pw-a", "cam-b": "pw-b", "collector": "pw-c", "fusion": "pw-f", "operator": "pw-o"}
NOT_AUTHORIZED = 0x87


class Client:
    """A paho MQTT v5 client that waits for each PUBACK and SUBACK and keeps what it receives."""

    count = 0

    def __init__(self, port: int, user: str, **tls) -> None:
        Client.count += 1
        self.acks: dict[int, object] = {}
        self.messages: list[mqtt.MQTTMessage] = []
        self._event = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{Client.count}", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, USERS[user])
        self.connack = None

        def on_connect(client, userdata, flags, reason_code, properties):
            self._note(lambda: setattr(self, "connack", reason_code))

        self.client.on_connect = on_connect
        self.client.on_publish = lambda c, u, mid, rc, p: self._note(lambda: self.acks.__setitem__(mid, rc))
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._note(lambda: self.acks.__setitem__(mid, rcs))
        self.client.on_message = lambda c, u, msg: self._note(lambda: self.messages.append(msg))
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        assert self._wait(lambda: self.connack is not None) and not self.connack.is_failure, self.connack

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

    def subscribe(self, topic: str) -> None:
        _, mid = self.client.subscribe(topic, qos=1)
        assert self._wait(lambda: mid in self.acks), f"no SUBACK for {topic}"

    def topics(self) -> list[str]:
        with self._event:
            return [m.topic for m in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "broker", users=USERS, acl=ACL).start()
    clients: list[Client] = []

    def connect(user: str) -> Client:
        clients.append(Client(server.port, user))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()
    server.stop()


def test_a_box_writes_only_under_its_own_device_level(broker):
    collector, shared, cam_a, cam_b = broker("collector"), broker("collector"), broker("cam-a"), broker("cam-b")
    collector.subscribe("liveguard/#")
    shared.subscribe("$share/collectors/liveguard/+/+/+/evidence")  # how collectors scale out
    cam_b.subscribe("liveguard/#")  # granted, but the ACL filters what is delivered
    own, forged = "liveguard/site-1/cam-a/studio/evidence", "liveguard/site-1/cam-b/studio/evidence"
    assert cam_a.publish(own) == 0
    assert cam_a.publish("liveguard/site-1/cam-a/status", retain=True) == 0
    assert cam_a.publish(forged) == NOT_AUTHORIZED  # MQTT v5: the box is told, and parks the document
    time.sleep(0.5)
    assert sorted(collector.topics()) == sorted([own, "liveguard/site-1/cam-a/status"])
    assert shared.topics() == [own]
    assert cam_b.topics() == []  # a box reads nothing of another box's


def test_services_have_their_own_rights(broker):
    collector, fusion, operator = broker("collector"), broker("fusion"), broker("operator")
    cam_a, cam_b = broker("cam-a"), broker("cam-b")
    for box in (cam_a, cam_b):
        box.subscribe("liveguard/+/+/cmd/#")
    assert collector.publish("liveguard/site-1/cam-a/studio/result") == NOT_AUTHORIZED  # the collector is read-only
    assert collector.publish("liveguard/site-1/collector/x/result") == NOT_AUTHORIZED  # the ACL's deny beats the box pattern
    assert fusion.publish("liveguard/site-1/cam-a/studio/result") == 0
    assert fusion.publish("liveguard/site-1/cam-a/studio/evidence") == NOT_AUTHORIZED
    assert cam_a.publish("liveguard/site-1/cam-b/cmd/reboot") == NOT_AUTHORIZED
    assert operator.publish("liveguard/site-1/cam-b/cmd/ping") == 0
    time.sleep(0.5)
    assert cam_b.topics() == ["liveguard/site-1/cam-b/cmd/ping"] and cam_a.topics() == []


def make_certificates(folder: Path) -> None:
    """A throwaway CA and a broker certificate for 127.0.0.1 and localhost."""
    folder.mkdir(parents=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=30)
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=liveguard test CA")
    run("req", *ec, "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "broker.pem",
        "-days", "2", "-extfile", "san.ext")
    for name in ("broker.key", "ca.pem", "broker.pem"):
        os.chmod(folder / name, 0o644)


def test_the_example_broker_config_serves_the_example_boxes_over_tls(tmp_path):
    """mosquitto.conf as shipped, only its paths and ports moved here; the box side is site.example.yaml +
    device.example.yaml with its password from a credentials folder, published by the real MqttPublisher."""
    folder = tmp_path / "etc"
    make_certificates(folder / "certs")
    site, device = CONFIGS / "site.example.yaml", CONFIGS / "device.example.yaml"
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mqtt-password").write_text("box-secret\n")
    os.chmod(credentials / "mqtt-password", 0o600)
    config = load_config([site, device], environ={"CREDENTIALS_DIRECTORY": str(credentials)})
    box = config.device.id
    server = Mosquitto(folder, users={box: "box-secret", "collector": "pw-c"}, acl=ACL)
    (folder / "liveguard.passwd").write_bytes((folder / "passwords").read_bytes())
    (folder / "liveguard.acl").write_text(ACL)
    tls_port, plain_port = server.port, free_port()
    text = (CONFIGS / "mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    text = text.replace("/etc/mosquitto/", f"{folder}/").replace("/var/lib/mosquitto/", f"{folder}/")
    text = re.sub(r"^listener 8883$", f"listener {tls_port} 127.0.0.1", text, flags=re.M)
    text = re.sub(r"^listener 1883 127.0.0.1$", f"listener {plain_port} 127.0.0.1", text, flags=re.M)
    settings = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert sum(str(folder) in line for line in settings) == 6 and f"listener {tls_port}" in text and f"listener {plain_port}" in text
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")  # as the test's user (see broker.py)
    server.config.write_text(f"user {user}\n" + text)
    server.start(probe_port=plain_port)  # the TLS listener opens first; a bare probe there would log an error
    try:
        collector = Subscriber(plain_port, username="collector", password="pw-c")
        mqtt_config = config.transport.mqtt.model_copy(update={"host": "localhost", "port": tls_port,
                                                                "ca_file": folder / "certs/ca.pem", "reconnect_max_s": 1})
        topics = Topics.of(config.device, mqtt_config)
        assert topics.root == f"liveguard/{config.device.site}/{box}"
        with Outbox(tmp_path / "outbox.sqlite") as outbox:
            outbox.put(topics.document("studio-a", "evidence"), b'{"schema": "liveguard.evidence/1"}', "ev-1",
                       "liveguard.evidence/1")
            with MqttPublisher(mqtt_config, outbox, topics) as publisher:
                publisher.wake()
                got = collector.wait_for("/studio-a/evidence", 1)
                assert [m.topic for m in got] == [topics.document("studio-a", "evidence")]
                deadline = time.monotonic() + 10
                while outbox.stats().depth and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert outbox.stats().depth == 0
        collector.close()
    finally:
        server.stop()
    log = server.log_text()
    assert "Error" not in log, log[-2000:]
