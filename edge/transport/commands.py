"""Answering the centre's requests to this box over MQTT v5 request/response: ``<root>/cmd/keyframe``.

On the box a :class:`CommandResponder` shares the publisher's connection (``connection=``: one client
id per box, so that the broker may tie it to the box's user name) and subscribes at QoS 1 to
``<root>/cmd/keyframe``; the centre gives each request a message expiry of its own timeout, so what is
sent while the box is away is not answered late. Without a connection it opens its own paho client
(a clean session; tests use it so). A request is::

    topic    <prefix>/<site>/<device>/cmd/keyframe
    payload  {"sha256": "<64 lowercase hex>"}              (JSON, at most 1 kB)
    MQTT v5  ResponseTopic  <prefix>/<site>/<device>/reply/<requester>/keyframe
             CorrelationData  any bytes, echoed in the reply

and its reply, at QoS 1 on the ResponseTopic with the same CorrelationData and a 60 s message expiry:

- found: ContentType ``image/jpeg``, the JPEG's bytes (they hash to the sha256 asked for);
- not held (rotated out, or never had it): ContentType ``application/json``,
  ``{"error": "not-found", "sha256": "..."}``;
- malformed (no CorrelationData, payload not JSON, no or a bad sha256): ``{"error": "bad-request",
  "detail": "..."}`` (without CorrelationData when the request had none);
- a JPEG larger than the broker's advertised maximum packet size: ``{"error": "too-large", "sha256":
  "...", "bytes": N}`` (the broker would cut the connection over it).

A request whose ResponseTopic is missing or is not a reply topic of this box's own device level is
not answered (the ACL would refuse the publish anyway), nor is a retained request (it would be
answered again on every connect). Every request ends in exactly one counted outcome, and each refusal
is one warning line naming the request's topic and what was wrong (at most one line per outcome every
10 s, the lines held back counted in the next).

Requests are answered on paho's network thread: a keyframe is one local file of 50-200 kB, read and
hashed in well under a millisecond, less than paho spends sending it, so a worker thread would only add
a second queue to bound. What needs a bound is paho's own outgoing queue: at most
:data:`MAX_OUTSTANDING` replies wait for their PUBACK, and a request beyond that is dropped, counted
(``busy``), so a flood of requests holds at most that many JPEGs in memory.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.closing import Closing
from edge.config.models import BrokerConfig
from edge.transport.mqtt import PACKET_OVERHEAD, MqttPublisher, make_client
from edge.transport.topics import Topics
from edge.transport.wire import JPEG_CONTENT_TYPE as JPEG
from edge.transport.wire import JSON_CONTENT_TYPE as JSON
from edge.transport.wire import KEYFRAME_COMMAND as KEYFRAME
from edge.transport.wire import REPLY_OUTCOMES, REQUEST_DROPS, CommandStats, parse_keyframe_request

log = logging.getLogger("liveguard.commands")

REPLY_EXPIRY_S = 60
MAX_OUTSTANDING = 8
LOG_EVERY_S = 10.0

Lookup = Callable[[str], "bytes | None"]


@dataclass(frozen=True)
class _Answer:
    outcome: str
    payload: bytes
    content_type: str
    correlation: bytes | None


class CommandResponder(Closing):
    """Answers ``<root>/cmd/keyframe`` from ``lookup`` (sha256 -> JPEG bytes or None); see the module."""

    def __init__(self, config: BrokerConfig, topics: Topics, lookup: Lookup, client_id: str,
                 section: str = "transport.mqtt", connection: MqttPublisher | None = None) -> None:
        self.config = config
        self.topics = topics
        self.lookup = lookup
        self.client_id = client_id
        self.request_topic = topics.command(KEYFRAME)
        self._lock = threading.Lock()
        self._replies = dict.fromkeys(REPLY_OUTCOMES, 0)
        self._dropped = dict.fromkeys(REQUEST_DROPS, 0)
        self._outstanding: set[int] = set()  # packet ids of replies waiting for their PUBACK
        self._connected = False
        self._subscribed = threading.Event()
        self._max_packet: int | None = None
        self._stopping = False
        self._throttle = _Throttle(LOG_EVERY_S)
        self._connection = connection
        self._client: mqtt.Client | None = None
        if connection is None:  # a connection of its own
            self._client = make_client(config, client_id, section)
            self._client.on_connect = self._on_connect
            self._client.on_disconnect = lambda client, userdata, flags, reason_code, properties: self._gone(reason_code)
            self._client.on_subscribe = lambda client, userdata, mid, codes, properties: self.on_subscribed(mid, codes)
            self._client.on_message = lambda client, userdata, message: self.on_message(client, message)
            self._client.on_publish = lambda client, userdata, mid, reason_code, properties: self.on_acknowledged(mid, reason_code)

    # -- control -------------------------------------------------------------------------------

    def start(self) -> CommandResponder:
        """Answer on the publisher's connection, or connect in the background (retrying with back-off) on its own."""
        if self._connection is not None:
            self._client = self._connection.attach(self)
            return self
        assert self._client is not None
        self._client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s, clean_start=True)
        self._client.loop_start()
        return self

    def close(self) -> None:
        self._stopping = True
        if self._connection is not None:
            self._connection.detach(self)
            return
        assert self._client is not None
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> CommandResponder:
        return self.start()

    @property
    def connected(self) -> bool:
        return self._connected

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the broker granted the subscription on the current connection."""
        return self._subscribed.wait(timeout)

    def stats(self) -> CommandStats:
        with self._lock:
            return CommandStats(self._connected, dict(self._replies), dict(self._dropped))

    # -- paho callbacks (its network thread) -------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("mqtt %s:%d refused %s: %s", self.config.host, self.config.port, self.client_id, reason_code)
            return
        self.on_connected(client, properties)

    # -- what it hears of the connection (paho's network thread; see edge.transport.mqtt.ConnectionListener) --------

    def on_connected(self, client: mqtt.Client, properties: Any) -> None:
        limit = getattr(properties, "MaximumPacketSize", None) if properties is not None else None
        with self._lock:
            self._max_packet = int(limit) if limit else None
            self._connected = True
        client.subscribe(self.request_topic, qos=1)
        log.info("mqtt %s connected to %s:%d; answering %s", self.client_id, self.config.host, self.config.port, self.request_topic)

    def on_subscribed(self, mid: int, reason_codes: Any) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error("mqtt %s: the broker refused the subscription to %s (%s); keyframe requests cannot reach this box",
                      self.client_id, self.request_topic, refused[0])
            return
        self._subscribed.set()

    def on_disconnected(self) -> None:
        self._subscribed.clear()
        with self._lock:
            self._connected = False

    def _gone(self, reason_code: Any) -> None:
        self.on_disconnected()
        if not self._stopping:
            log.warning("mqtt %s disconnected from %s:%d (%s); reconnecting", self.client_id, self.config.host,
                        self.config.port, reason_code)

    def on_acknowledged(self, mid: int, reason_code: Any) -> bool:
        with self._lock:
            if mid not in self._outstanding:
                return False
            self._outstanding.discard(mid)
            if reason_code.is_failure:
                self._dropped["refused"] += 1
        if reason_code.is_failure:
            self._throttle.warn("refused", "keyframe reply refused by the broker: PUBACK %s", reason_code)
        return True

    def on_message(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None:
        try:
            self._handle(message)
        except Exception as exc:  # noqa: BLE001 - paho's thread must survive any request
            log.error("keyframe request on %s failed: %s: %s", message.topic, type(exc).__name__, exc)

    # -- requests --------------------------------------------------------------------------------

    def _handle(self, message: mqtt.MQTTMessage) -> None:
        topic, props = message.topic, message.properties
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        if message.retain:
            self._drop("retained", "keyframe request on %s not answered: it is retained (answer it once, not on every connect)",
                       topic)
            return
        if topic != self.request_topic:  # the subscription is this one topic; nothing else should come
            self._drop("response-topic", "message on %s not answered: this box answers %s only", topic, self.request_topic)
            return
        if not response_topic:
            self._drop("response-topic", "keyframe request on %s not answered: it has no ResponseTopic", topic)
            return
        if self.topics.requester_of(response_topic, KEYFRAME) is None:
            self._drop("response-topic", "keyframe request on %s not answered: ResponseTopic %r is not %s",
                       topic, response_topic[:200], f"{self.topics.root}/reply/<requester>/{KEYFRAME}")
            return
        with self._lock:
            busy = len(self._outstanding) >= MAX_OUTSTANDING
        if busy:
            self._drop("busy", "keyframe request on %s for %s not answered: %d replies still wait for the broker",
                       topic, response_topic, MAX_OUTSTANDING)
            return
        answer = self._answer(topic, response_topic, bytes(message.payload), getattr(props, "CorrelationData", None))
        self._publish(response_topic, answer)

    def _answer(self, topic: str, response_topic: str, payload: bytes, correlation: bytes | None) -> _Answer:
        sha, problem = parse_keyframe_request(payload)
        if correlation is None:
            problem = "no CorrelationData: the reply could not be matched to the request"
        if problem is not None:
            self._throttle.warn("bad-request", "keyframe request on %s: bad request: %s", topic, problem)
            return _error("bad-request", correlation, detail=problem)
        assert sha is not None
        jpeg = self.lookup(sha)
        if jpeg is None:
            self._throttle.info("not-found", "keyframe request on %s: %s not held (rotated out, or never had it)", topic, sha)
            return _error("not-found", correlation, sha256=sha)
        limit = self._max_packet
        if limit is not None and len(jpeg) + len(response_topic.encode()) + PACKET_OVERHEAD > limit:
            self._throttle.warn("too-large", "keyframe request on %s: %s is %d bytes, above the broker's maximum packet size %d",
                                topic, sha, len(jpeg), limit)
            return _error("too-large", correlation, sha256=sha, bytes=len(jpeg))
        return _Answer("keyframe", jpeg, JPEG, correlation)

    def _publish(self, response_topic: str, answer: _Answer) -> None:
        properties = Properties(PacketTypes.PUBLISH)
        properties.ContentType = answer.content_type
        properties.MessageExpiryInterval = REPLY_EXPIRY_S
        if answer.content_type == JSON:
            properties.PayloadFormatIndicator = 1
        if answer.correlation is not None:
            properties.CorrelationData = answer.correlation
        assert self._client is not None
        info = self._client.publish(response_topic, answer.payload, qos=1, properties=properties)
        with self._lock:
            self._replies[answer.outcome] += 1
            if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                self._outstanding.add(info.mid)

    def _drop(self, reason: str, line: str, *args: Any) -> None:
        with self._lock:
            self._dropped[reason] += 1
        self._throttle.warn(reason, line, *args)


def _error(outcome: str, correlation: bytes | None, **fields: Any) -> _Answer:
    payload = json.dumps({"error": outcome, **fields}, separators=(",", ":")).encode()
    return _Answer(outcome, payload, JSON, correlation)


class _Throttle:
    """At most one log line per key every ``every_s`` seconds; the next one says how many were held back."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warn(self, key: str, line: str, *args: Any) -> None:
        self._log(logging.WARNING, key, line, *args)

    def info(self, key: str, line: str, *args: Any) -> None:
        self._log(logging.INFO, key, line, *args)

    def _log(self, level: int, key: str, line: str, *args: Any) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.every_s:
                self._held[key] = self._held.get(key, 0) + 1
                return
            self._last[key] = now
            held = self._held.pop(key, 0)
        if held:
            line += f" ({held} more like it in the last {self.every_s:.0f} s)"
        log.log(level, line, *args)
