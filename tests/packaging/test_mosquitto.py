"""configs/mosquitto/ against a real mosquitto: the ACL confines each box to its own topics and each
centre service to its role (collectors read through a shared subscription and write nothing; the fusion
worker reads evidence and writes results only); the example broker config starts as shipped (paths and
ports moved) and serves the example boxes over TLS. Client certificates: test_mosquitto_tls.py."""

from __future__ import annotations

import os
import time

import pytest
from broker import Mosquitto, Subscriber, needs_mosquitto
from mqtt_auth import NOT_AUTHORIZED, Client, example_broker, make_ca, make_certificates
from workspace import CONFIGS

from edge.config import load_config
from edge.transport import MqttPublisher, Outbox, Topics

pytestmark = needs_mosquitto

ACL = (CONFIGS / "mosquitto/liveguard.acl").read_text(encoding="utf-8")
USERS = {"cam-a": "pw-a", "cam-b": "pw-b", "collector": "pw-c", "fusion": "pw-f", "operator": "pw-o", "web": "pw-w"}


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "broker", users=USERS, acl=ACL).start()
    clients: list[Client] = []

    def connect(user: str) -> Client:
        clients.append(Client(server.port, user, USERS[user]))
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


def test_keyframe_requests_reach_only_their_box_and_replies_only_their_requesters(broker):
    """The operator page (user web) and an operator console ask cam-b for a keyframe on its cmd/keyframe;
    cam-b answers on its own reply level; cam-a, subscribed to cam-b's requests, is never handed one."""
    web, snoop, operator, cam_a, cam_b = broker("web"), broker("web"), broker("operator"), broker("cam-a"), broker("cam-b")
    request, reply = "liveguard/site-1/cam-b/cmd/keyframe", "liveguard/site-1/cam-b/reply/web/keyframe"
    assert cam_a.subscribe(request) == [1] and cam_a.subscribe("liveguard/+/+/cmd/#") == [1]  # granted; the ACL filters delivery
    assert cam_b.subscribe("liveguard/site-1/cam-b/cmd/#") == [1]
    assert web.subscribe("liveguard/+/+/reply/+/keyframe") == [1] and operator.subscribe("liveguard/+/+/reply/#") == [1]
    assert snoop.subscribe("liveguard/#") == [1]  # granted; the page reads replies and status only
    assert web.publish(request) == 0 and operator.publish(request) == 0
    assert web.publish("liveguard/site-1/cam-b/cmd/reboot") == NOT_AUTHORIZED  # keyframe requests only
    assert web.publish(reply) == NOT_AUTHORIZED  # no forged replies
    assert web.publish("liveguard/site-1/cam-b/status") == NOT_AUTHORIZED
    assert web.publish("liveguard/site-1/web/cam/result") == NOT_AUTHORIZED  # the deny line beats the box pattern
    assert cam_b.wait_for_topics(2) == [request, request]
    assert cam_b.publish(reply) == 0
    assert cam_b.publish("liveguard/site-1/cam-a/reply/web/keyframe") == NOT_AUTHORIZED  # only under its own level
    for topic in ("liveguard/site-1/cam-a/studio/evidence", "liveguard/site-1/cam-a/studio/result", "liveguard/site-1/cam-a/stats"):
        assert cam_a.publish(topic) == 0
    assert cam_a.publish("liveguard/site-1/cam-a/status", retain=True) == 0
    assert web.wait_for_topics(1) == [reply] and operator.wait_for_topics(1) == [reply]
    assert sorted(snoop.wait_for_topics(2)) == sorted([reply, "liveguard/site-1/cam-a/status"])
    time.sleep(0.5)
    assert cam_a.topics() == [], "a box reads no other box's requests"
    assert web.topics() == [reply] and len(snoop.topics()) == 2


SHARED_RESULTS = "$share/collectors/liveguard/+/+/+/result"  # what `liveguard collect` subscribes to (group collectors)
SHARED_EVIDENCE = "$share/fusion/liveguard/+/+/+/evidence"  # what `liveguard fuse --serve` subscribes to (group fusion)


def test_collectors_share_the_results_and_publish_nothing(broker):
    first, second, cam_a = broker("collector"), broker("collector"), broker("cam-a")
    for collector in (first, second):
        assert collector.subscribe(SHARED_RESULTS) == [1]
        assert collector.subscribe("$share/collectors/liveguard/+/+/+/evidence") == [1]
        assert collector.subscribe("$share/collectors/liveguard/+/+/stats") == [1]
    assert first.subscribe("liveguard/+/+/status") == [1]  # not shared: each collector sees every status
    sent = [f"liveguard/lab/cam-a/s{i}/result" for i in range(4)] + ["liveguard/lab/cam-a/s1/evidence", "liveguard/lab/cam-a/stats"]
    for topic in sent:
        assert cam_a.publish(topic) == 0
    assert cam_a.publish("liveguard/lab/cam-a/status", retain=True) == 0
    time.sleep(0.5)
    got = first.topics() + second.topics()
    assert sorted(got) == sorted([*sent, "liveguard/lab/cam-a/status"])  # each message once, to one of the group
    assert first.topics() and second.topics(), (first.topics(), second.topics())  # split between the two
    assert first.topics().count("liveguard/lab/cam-a/status") == 1
    for topic in ("liveguard/lab/cam-a/s1/result", "liveguard/lab/cam-a/s1/evidence", "liveguard/lab/cam-a/status",
                  "liveguard/lab/cam-a/stats", "liveguard/lab/cam-a/cmd/ping", "liveguard/lab/collector/s1/result", "other/topic"):
        assert first.publish(topic) == NOT_AUTHORIZED, topic  # read-only, whatever the topic


def test_the_fusion_worker_reads_only_evidence_and_writes_only_results(broker):
    worker, snoop, collector, cam_a = broker("fusion"), broker("fusion"), broker("collector"), broker("cam-a")
    assert worker.subscribe(SHARED_EVIDENCE) == [1]
    assert snoop.subscribe("liveguard/#") == [1]  # granted; the ACL filters what is delivered
    collector.subscribe("liveguard/#")
    for topic in ("liveguard/lab/cam-a/s1/evidence", "liveguard/lab/cam-a/s1/result", "liveguard/lab/cam-a/stats"):
        assert cam_a.publish(topic) == 0
    assert cam_a.publish("liveguard/lab/cam-a/status", retain=True) == 0
    time.sleep(0.5)
    assert worker.topics() == ["liveguard/lab/cam-a/s1/evidence"]
    assert snoop.topics() == ["liveguard/lab/cam-a/s1/evidence"]  # no results, stats or status of the boxes
    assert worker.publish("liveguard/lab/cam-a/s1/result") == 0  # PUBACK success: the worker's answer
    assert worker.publish("liveguard/lab/cam-a/status") == NOT_AUTHORIZED
    assert worker.publish("liveguard/lab/cam-a/s1/evidence") == NOT_AUTHORIZED
    assert worker.publish("liveguard/lab/cam-a/stats") == NOT_AUTHORIZED
    assert worker.publish("liveguard/lab/cam-a/cmd/ping") == NOT_AUTHORIZED
    assert worker.publish("liveguard/lab/fusion/s1/result") == NOT_AUTHORIZED  # the deny line beats the box pattern
    time.sleep(0.5)
    results = [t for t in collector.topics() if t.endswith("/result")]
    assert results == ["liveguard/lab/cam-a/s1/result"] * 2  # cam-a's own, then the worker's; the refused ones never
    assert sorted(collector.topics()) == sorted(["liveguard/lab/cam-a/s1/evidence", "liveguard/lab/cam-a/stats",
                                                 "liveguard/lab/cam-a/status", *results])


@pytest.mark.parametrize("rule, delivered", [("topic read $share/collectors/liveguard/#", False),
                                             ("topic read $share/+/liveguard/#", False),
                                             ("topic read liveguard/+/+/+/result", True)])
def test_shared_subscriptions_are_checked_against_the_messages_topic(tmp_path, rule, delivered):
    """mosquitto 2.0.11 grants every SUBACK and checks `read` per message, on the message's own topic: a
    `topic read $share/...` line grants nothing, and liveguard.acl needs none for the collectors."""
    acl = f"user collector\n{rule}\n\nuser cam-a\ntopic write liveguard/#\n"
    server = Mosquitto(tmp_path / "broker", users=USERS, acl=acl).start()
    collector, cam_a = Client(server.port, "collector", USERS["collector"]), Client(server.port, "cam-a", USERS["cam-a"])
    try:
        assert collector.subscribe(SHARED_RESULTS) == [1]
        assert cam_a.publish("liveguard/lab/cam-a/s1/result") == 0
        time.sleep(0.5)
        assert collector.topics() == (["liveguard/lab/cam-a/s1/result"] if delivered else [])
    finally:
        collector.close()
        cam_a.close()
        server.stop()


def test_the_example_broker_config_serves_the_example_boxes_over_tls(tmp_path):
    """mosquitto.conf as shipped, only its paths and ports moved here; the box side is site.example.yaml +
    device.example.yaml with its password from a credentials folder, published by the real MqttPublisher."""
    folder = tmp_path / "etc"
    make_certificates(folder / "certs")
    make_ca(folder / "certs", "clients-ca")  # the client-certificate listener's CA (test_mosquitto_tls.py)
    site, device = CONFIGS / "site.example.yaml", CONFIGS / "device.example.yaml"
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mqtt-password").write_text("box-secret\n")
    os.chmod(credentials / "mqtt-password", 0o600)
    config = load_config([site, device], environ={"CREDENTIALS_DIRECTORY": str(credentials)})
    box = config.device.id
    broker = example_broker(folder, users={box: "box-secret", "collector": "pw-c"}, acl=ACL)
    server, tls_port, plain_port = broker.server, broker.ports[8883], broker.ports[1883]
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
