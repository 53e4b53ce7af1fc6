"""The MQTT v5 publisher against a real mosquitto on loopback: order, acknowledgement, outages, refusals, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from broker import Mosquitto, Subscriber, needs_mosquitto

from edge.config.models import MqttConfig
from edge.transport import MqttPublisher, Outbox, Topics

pytestmark = needs_mosquitto

TOPICS = Topics("liveguard", "site-a", "box-1")


def config(port: int, **extra) -> MqttConfig:
    return MqttConfig(enabled=True, port=port, reconnect_min_s=1, reconnect_max_s=1, keepalive_s=5, **extra)


def put(outbox: Outbox, stream: str, n: int, size: int = 40) -> str:
    doc_id = f"{stream}-{n:04d}"
    body = json.dumps({"schema": "liveguard.result/1", "evidence_id": doc_id, "pad": "x" * size}).encode()
    outbox.put(TOPICS.document(stream, "result"), body, doc_id, "liveguard.result/1")
    return doc_id


def ids(messages) -> list[str]:
    return [json.loads(m.payload)["evidence_id"] for m in messages]


def wait_until(predicate, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "broker").start()
    yield server
    server.stop()


def test_documents_arrive_in_order_with_their_properties_and_leave_the_outbox(broker, tmp_path):
    collector = Subscriber(broker.port)
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        sent = [put(outbox, "cam1", i) for i in range(30)]
        with MqttPublisher(config(broker.port), outbox, TOPICS, birth=lambda: b'{"state": "online", "config_hash": "abc"}'):
            got = collector.wait_for("/cam1/result", 30)
            assert wait_until(lambda: outbox.stats().depth == 0)
        assert ids(got) == sent
        first = got[0].properties
        assert first.ContentType == "application/json" and ("schema", "liveguard.result/1") in first.UserProperty
        assert ("id", sent[0]) in first.UserProperty and 0 < first.MessageExpiryInterval <= 7 * 24 * 3600
        assert outbox.stats().sent == 30
    statuses = [json.loads(m.payload)["state"] for m in collector.messages if m.topic == TOPICS.status]
    assert statuses[0] == "online" and statuses[-1] == "offline"
    collector.close()


def test_a_broker_outage_loses_nothing_and_duplicates_nothing(broker, tmp_path):
    collector = Subscriber(broker.port)
    with Outbox(tmp_path / "outbox.sqlite") as outbox, MqttPublisher(config(broker.port), outbox, TOPICS) as publisher:
        sent = {"cam1": [], "cam2": []}
        for i in range(10):
            for stream in sent:
                sent[stream].append(put(outbox, stream, i))
        publisher.wake()
        assert wait_until(lambda: outbox.stats().depth == 0)
        broker.stop()  # windows keep completing while the broker is away
        assert wait_until(lambda: not publisher.connected)
        for i in range(10, 25):
            for stream in sent:
                sent[stream].append(put(outbox, stream, i))
            time.sleep(0.1)
        assert outbox.stats().depth == 30  # committed, waiting
        broker.start()
        for stream, expected in sent.items():
            got = collector.wait_for(f"/{stream}/result", len(expected), timeout=30)
            assert ids(got) == expected, stream  # all of them, in order, none twice
        assert wait_until(lambda: outbox.stats().depth == 0)
    collector.close()


def test_a_message_the_broker_refuses_is_parked_and_the_rest_still_flow(tmp_path):
    acl = "user collector\ntopic read liveguard/#\n\nuser box-1\ntopic write liveguard/site-a/box-1/#\n"
    broker = Mosquitto(tmp_path / "broker", users={"box-1": "pw-box", "collector": "pw-col"}, acl=acl).start()
    try:
        collector = Subscriber(broker.port, username="collector", password="pw-col")
        os.environ["LIVEGUARD_TEST_MQTT_PW"] = "pw-box"
        with Outbox(tmp_path / "outbox.sqlite") as outbox:
            first = put(outbox, "cam1", 0)
            outbox.put("liveguard/site-a/box-2/cam1/result", b'{"evidence_id": "foreign"}', "foreign", "liveguard.result/1")
            last = put(outbox, "cam1", 1)
            cfg = config(broker.port, username="box-1", password_env="LIVEGUARD_TEST_MQTT_PW")
            with MqttPublisher(cfg, outbox, TOPICS):
                assert ids(collector.wait_for("/cam1/result", 2)) == [first, last]
                assert wait_until(lambda: outbox.stats().depth == 0)
            ((message, reason),) = outbox.parked()
            assert message.doc_id == "foreign" and "PUBACK 0x87 not authorized" in reason
            assert "pw-box" not in reason
            assert outbox.stats().parked == 1 and outbox.stats().sent == 2
        collector.close()
    finally:
        broker.stop()
        os.environ.pop("LIVEGUARD_TEST_MQTT_PW", None)


def test_a_payload_above_the_brokers_maximum_is_parked_not_resent_forever(tmp_path):
    broker = Mosquitto(tmp_path / "broker", extra="max_packet_size 4096\n").start()
    try:
        collector = Subscriber(broker.port)
        with Outbox(tmp_path / "outbox.sqlite") as outbox:
            big = put(outbox, "cam1", 0, size=10_000)
            small = put(outbox, "cam1", 1)
            with MqttPublisher(config(broker.port), outbox, TOPICS):
                assert ids(collector.wait_for("/cam1/result", 1)) == [small]
                assert wait_until(lambda: outbox.stats().depth == 0)
            ((message, reason),) = outbox.parked()
            assert message.doc_id == big and "exceeds the broker's maximum packet size 4096" in reason
        collector.close()
    finally:
        broker.stop()


PUBLISHER = textwrap.dedent("""
    import json, sys, time
    from edge.config.models import MqttConfig
    from edge.transport import MqttPublisher, Outbox, Topics
    port, path, start, stop = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    topics = Topics("liveguard", "site-a", "box-1")
    outbox = Outbox(path)
    cfg = MqttConfig(enabled=True, port=port, reconnect_min_s=1, reconnect_max_s=1, client_id="box-1")
    publisher = MqttPublisher(cfg, outbox, topics).start()
    for n in range(start, stop):
        doc = f"cam1-{n:04d}"
        outbox.put(topics.document("cam1", "result"), json.dumps({"evidence_id": doc}).encode(), doc, "liveguard.result/1")
        publisher.wake()
        time.sleep(0.02)
    while outbox.stats().depth:
        time.sleep(0.05)
    publisher.close()
    print("drained", flush=True)
""")


def test_a_publisher_killed_mid_stream_resends_what_was_not_acknowledged_and_nothing_else(broker, tmp_path):
    collector = Subscriber(broker.port)
    path = tmp_path / "outbox.sqlite"
    run = [sys.executable, "-c", PUBLISHER, str(broker.port), str(path)]
    first = subprocess.Popen([*run, "0", "200"], stdout=subprocess.PIPE, text=True)
    assert wait_until(lambda: len(collector.of("/cam1/result")) >= 40)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    with Outbox(path) as outbox:  # what the killed process had committed and not yet seen acknowledged
        unacknowledged = {m.doc_id for m in outbox.pending(1000)}
    numbers = [int(doc.split("-")[1]) for doc in ids(collector.of("/cam1/result")) + sorted(unacknowledged)]
    resume = max(numbers) + 1  # the restarted box goes on with the windows after the last one it committed
    second = subprocess.run([*run, str(resume), "230"], capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "drained" in second.stdout, second.stderr[-2000:]
    expected = [f"cam1-{n:04d}" for n in range(230)]
    got = ids(collector.wait_for("/cam1/result", 230))
    assert set(got) == set(expected)  # nothing committed before the kill, nor after the restart, was lost
    twice = {doc for doc in got if got.count(doc) > 1}
    assert twice <= unacknowledged, "a message acknowledged before the kill was sent again"
    collector.close()
