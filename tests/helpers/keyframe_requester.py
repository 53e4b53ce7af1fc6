"""The centre's side of a keyframe request, as a test drives it: a paho MQTT v5 client that publishes
``{"sha256": ...}`` on a box's ``cmd/keyframe`` with a ResponseTopic and CorrelationData, and keeps every
message it receives on its reply subscription (the real centre page is written elsewhere)."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass
class Reply:
    topic: str
    payload: bytes
    content_type: str | None
    correlation: bytes | None
    expiry: int | None

    def json(self) -> dict:
        return json.loads(self.payload)


class Requester:
    """Subscribes to ``replies`` (QoS 1) and sends requests; :meth:`ask` waits for the reply to one of them."""

    def __init__(self, port: int, user: str | None = None, password: str | None = None,
                 replies: str = "liveguard/+/+/reply/+/keyframe") -> None:
        self.received: list[Reply] = []
        self.acks: dict[int, int] = {}
        self._event = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-requester-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        if user is not None:
            self.client.username_pw_set(user, password)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        self.client.subscribe(replies, qos=1)
        assert subscribed.wait(10), "no SUBACK for the reply subscription"

    def _on_message(self, client, userdata, message) -> None:
        props = message.properties
        reply = Reply(message.topic, bytes(message.payload), getattr(props, "ContentType", None),
                      getattr(props, "CorrelationData", None), getattr(props, "MessageExpiryInterval", None))
        with self._event:
            self.received.append(reply)
            self._event.notify_all()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._event:
            self.acks[mid] = reason_code.value
            self._event.notify_all()

    def send(self, topic: str, payload: bytes, response_topic: str | None, correlation: bytes | None,
             retain: bool = False) -> int:
        """Publish one request at QoS 1; the PUBACK's reason code (0 for any success)."""
        properties = Properties(PacketTypes.PUBLISH)
        if response_topic is not None:
            properties.ResponseTopic = response_topic
        if correlation is not None:
            properties.CorrelationData = correlation
        info = self.client.publish(topic, payload, qos=1, retain=retain, properties=properties)
        with self._event:
            assert self._event.wait_for(lambda: info.mid in self.acks, 10), f"no PUBACK for {topic}"
            code = self.acks[info.mid]
        return 0 if code < 0x80 else code

    def ask(self, topic: str, sha256: str | None = None, response_topic: str | None = None, correlation: bytes | None = None,
            payload: bytes | None = None, timeout: float = 10) -> Reply | None:
        """Send a keyframe request and wait for the reply carrying its CorrelationData (a fresh one unless
        given; b"" sends none and waits for any new message on ``response_topic``); None if none came."""
        correlation = uuid.uuid4().bytes if correlation is None else correlation
        if payload is None:
            payload = json.dumps({"sha256": sha256}).encode()
        before = len(self.received)
        assert self.send(topic, payload, response_topic, correlation or None) == 0

        def match() -> Reply | None:
            for reply in self.received[before:]:
                if reply.topic == topic:
                    continue  # the request itself, to a requester that reads everything
                if (reply.correlation == correlation) if correlation else reply.topic == response_topic:
                    return reply
            return None

        with self._event:
            self._event.wait_for(lambda: match() is not None, timeout)
            return match()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
