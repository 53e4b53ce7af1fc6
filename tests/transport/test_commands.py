"""The box's command responder against a real mosquitto: a keyframe request (MQTT v5 ResponseTopic and
CorrelationData) gets the JPEG, or a JSON error; a response topic outside the box's own reply level, a
retained request and a flood beyond the reply bound are not answered; every outcome is counted, and each
refusal is one log line naming the topic."""

from __future__ import annotations

import hashlib
import json
import logging
import time

import pytest
from broker import Mosquitto, needs_mosquitto
from keyframe_requester import Requester

from edge.config.models import MqttConfig
from edge.transport import Topics
from edge.transport import commands as commands_module
from edge.transport.commands import CommandResponder
from edge.transport.wire import keyframe_request, parse_keyframe_request

pytestmark = needs_mosquitto

TOPICS = Topics("liveguard", "lab", "box-1")
REQUEST = TOPICS.command("keyframe")
REPLY = TOPICS.reply("web", "keyframe")
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 400 + b"\xff\xd9"  # ~100 kB, as a keyframe is
SHA = hashlib.sha256(JPEG).hexdigest()


def config(port: int) -> MqttConfig:
    return MqttConfig(enabled=True, port=port, reconnect_min_s=1, reconnect_max_s=1, keepalive_s=5)


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "broker").start()
    yield server
    server.stop()


@pytest.fixture
def responder(broker):
    with CommandResponder(config(broker.port), TOPICS, {SHA: JPEG}.get, "liveguard-lab-box-1-cmd") as box:
        assert box.wait_subscribed(10)
        yield box


@pytest.fixture
def web(broker):
    requester = Requester(broker.port)
    yield requester
    requester.close()


def test_a_request_gets_the_jpeg_with_its_correlation_data(responder, web):
    reply = web.ask(REQUEST, SHA, REPLY, correlation=b"req-1")
    assert reply is not None, "no reply"
    assert (reply.topic, reply.content_type, reply.correlation) == (REPLY, "image/jpeg", b"req-1")
    assert hashlib.sha256(reply.payload).hexdigest() == SHA and reply.payload == JPEG
    assert 0 < reply.expiry <= 60  # a reply nobody fetched does not linger on the broker
    assert responder.stats().replies["keyframe"] == 1 and responder.stats().connected


def test_an_unknown_keyframe_is_not_found(responder, web):
    other = hashlib.sha256(b"rotated out long ago").hexdigest()
    reply = web.ask(REQUEST, other, REPLY, correlation=b"req-2")
    assert (reply.content_type, reply.correlation) == ("application/json", b"req-2")
    assert reply.json() == {"error": "not-found", "sha256": other}
    assert responder.stats().replies["not-found"] == 1


@pytest.mark.parametrize("payload, detail", [
    (b"not json", "payload is not UTF-8 JSON"),
    (b'["a"]', "payload is not a JSON object"),
    (b'{"sha": "x"}', "sha256 must be 64 lowercase hex digits"),
    (json.dumps({"sha256": SHA.upper()}).encode(), "sha256 must be 64 lowercase hex digits"),
    (b"{" + b" " * 2000 + b"}", "payload of 2002 bytes"),
])
def test_a_malformed_request_is_answered_with_bad_request(responder, web, caplog, payload, detail):
    with caplog.at_level(logging.WARNING, "liveguard.commands"):
        reply = web.ask(REQUEST, response_topic=REPLY, correlation=b"req-3", payload=payload)
    assert reply.correlation == b"req-3" and reply.json()["error"] == "bad-request"
    assert reply.json()["detail"].startswith(detail)
    assert responder.stats().replies["bad-request"] == 1
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"keyframe request on {REQUEST}: bad request: {detail}")


def test_a_request_without_correlation_data_is_answered_with_bad_request(responder, web):
    reply = web.ask(REQUEST, SHA, REPLY, correlation=b"")
    assert reply is not None and reply.correlation is None
    assert reply.json() == {"error": "bad-request", "detail": "no CorrelationData: the reply could not be matched to the request"}


@pytest.mark.parametrize("response_topic", [
    None,  # nowhere to answer
    "liveguard/lab/box-2/reply/web/keyframe",  # another box's level
    "liveguard/lab/box-1/cam1/result",  # the box's own result topic: a forged result
    "liveguard/lab/box-1/reply/web/other",  # not a keyframe reply
    "liveguard/lab/box-1/reply/keyframe",  # no requester level
    "liveguard/lab/box-1/reply/a/b/keyframe",  # two levels
    "elsewhere/lab/box-1/reply/web/keyframe",
])
def test_a_response_topic_outside_the_boxs_reply_level_is_not_answered(broker, responder, caplog, response_topic):
    snoop = Requester(broker.port, replies="#")  # sees anything the box would publish anywhere
    try:
        with caplog.at_level(logging.WARNING, "liveguard.commands"):
            assert snoop.ask(REQUEST, SHA, response_topic, correlation=b"bad", timeout=0.1) is None
            # the responder answers in order: once a good request's reply is back, the bad one was handled
            assert snoop.ask(REQUEST, SHA, REPLY, correlation=b"good") is not None
        assert [r.topic for r in snoop.received if r.topic != REQUEST] == [REPLY]
        stats = responder.stats()
        assert stats.dropped["response-topic"] == 1 and sum(stats.replies.values()) == 1
        (line,) = [r.getMessage() for r in caplog.records]
        assert line.startswith(f"keyframe request on {REQUEST} not answered: ")
        assert (repr(response_topic) in line) if response_topic else "no ResponseTopic" in line
    finally:
        snoop.close()


def test_a_retained_request_is_not_answered_again_on_every_connect(broker, web):
    assert web.send(REQUEST, keyframe_request(SHA), REPLY, b"stale", retain=True) == 0
    with CommandResponder(config(broker.port), TOPICS, {SHA: JPEG}.get, "box-cmd") as box:
        assert box.wait_subscribed(10)
        assert web.ask(REQUEST, SHA, REPLY, correlation=b"fresh") is not None
        assert [r.correlation for r in web.received] == [b"fresh"]
        assert box.stats().dropped["retained"] == 1


def test_requests_beyond_the_reply_bound_are_dropped_and_counted(responder, web, monkeypatch):
    monkeypatch.setattr(commands_module, "MAX_OUTSTANDING", 0)  # as if every reply still waited for its PUBACK
    assert web.ask(REQUEST, SHA, REPLY, correlation=b"flood", timeout=1) is None
    assert responder.stats().dropped["busy"] == 1 and sum(responder.stats().replies.values()) == 0


def test_a_jpeg_above_the_brokers_packet_limit_is_refused_in_words(tmp_path):
    server = Mosquitto(tmp_path / "small", extra="max_packet_size 65536\n").start()
    try:
        with CommandResponder(config(server.port), TOPICS, {SHA: JPEG}.get, "box-cmd") as box:
            assert box.wait_subscribed(10)
            web = Requester(server.port)
            reply = web.ask(REQUEST, SHA, REPLY, correlation=b"big")
            web.close()
            assert reply.json() == {"error": "too-large", "sha256": SHA, "bytes": len(JPEG)}
            assert box.stats().replies["too-large"] == 1 and box.stats().connected  # not cut off for an oversized packet
    finally:
        server.stop()


def test_the_responder_reconnects_after_the_broker_returns(broker, responder, web):
    assert web.ask(REQUEST, SHA, REPLY) is not None
    web.close()
    broker.stop()
    time.sleep(1.5)
    assert not responder.stats().connected
    broker.start()
    assert responder.wait_subscribed(15)
    again = Requester(broker.port)
    try:
        assert again.ask(REQUEST, SHA, REPLY) is not None
    finally:
        again.close()


def test_the_request_payload_round_trips():
    assert parse_keyframe_request(keyframe_request(SHA)) == (SHA, None)
    assert parse_keyframe_request(b'{"sha256": "%s", "more": 1}' % SHA.encode()) == (SHA, None)  # extra keys: ignored
