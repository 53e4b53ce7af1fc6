"""Draining the outbox to an MQTT v5 broker with paho-mqtt 2.x (QoS 1, in order, nothing lost).

A sender thread hands the outbox's oldest rows to paho while connected, at most ``max_inflight`` at
a time, and remembers which packet id carries which row. Only ``on_publish`` with a success reason
code deletes a row; a refusal (0x87 not authorised, 0x97 quota exceeded, ...) parks it, counted,
and the daemon goes on. A payload above the broker's advertised ``MaximumPacketSize`` is parked before
it is sent: paho would otherwise resend it forever while the broker cuts the connection. While the
broker is away paho keeps the in-flight rows and resends them on reconnect; rows not yet handed to
paho wait in the outbox. After a crash every row still in the outbox is sent again (at least once:
the receiver drops a duplicate by its document id).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.config.models import BrokerConfig
from edge.config.secrets import read_secret
from edge.transport.outbox import Message, Outbox
from edge.transport.topics import Topics
from edge.transport.wire import OFFLINE, ONLINE

log = logging.getLogger("liveguard.mqtt")

CONTENT_TYPE = "application/json"
PACKET_OVERHEAD = 512  # fixed header, topic and properties, on top of the payload
# Reason codes of a PUBACK that will never turn into a success by resending the same message.
REFUSALS = {0x87: "not authorized", 0x90: "topic name invalid", 0x95: "packet too large", 0x97: "quota exceeded",
            0x99: "payload format invalid", 0x83: "implementation specific error", 0x80: "unspecified error"}


class ConnectionListener(Protocol):
    """What shares a publisher's connection hears (on paho's network thread)."""

    def on_connected(self, client: mqtt.Client, properties: Any) -> None: ...
    def on_disconnected(self) -> None: ...
    def on_subscribed(self, mid: int, reason_codes: Any) -> None: ...
    def on_message(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None: ...
    def on_acknowledged(self, mid: int, reason_code: Any) -> bool:
        """True when ``mid`` is one of the listener's own publishes."""
        ...


class MqttPublisher:
    """Sends ``outbox`` to the broker of ``config``; :meth:`start` connects, :meth:`close` stops.

    ``birth`` is the retained status document published on every connect (versions, models, config
    hash); the last will replaces it with :data:`OFFLINE`. None: no status at all (a central fusion
    worker, whose ACL allows it to write results only).
    """

    def __init__(
        self,
        config: BrokerConfig,
        outbox: Outbox,
        topics: Topics,
        birth: Callable[[], bytes] | None = lambda: ONLINE,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.topics = topics
        self._birth = birth
        self._lock = threading.Condition()
        self._inflight: dict[int, int | None] = {}  # packet id -> outbox seq (None: a status document)
        self._early: dict[int, object] = {}  # PUBACKs that arrived before publish() returned their packet id
        self._last_handed = 0  # highest seq handed to paho in this process
        self._connected = False
        self._max_packet: int | None = None
        self._stop = threading.Event()
        self.client_id = config.client_id or f"liveguard-{topics.site}-{topics.device}"
        self._listeners: list[ConnectionListener] = []  # share this connection (the keyframe responder)
        self._client = self._make_client()
        self._sender = threading.Thread(target=self._send_loop, name="liveguard-mqtt-send", daemon=True)

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def inflight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def start(self) -> MqttPublisher:
        """Connect in the background (retrying with back-off while the broker is away) and start sending."""
        self._client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s,
                                   clean_start=mqtt.MQTT_CLEAN_START_FIRST_ONLY)
        self._client.loop_start()
        self._sender.start()
        return self

    def attach(self, listener: ConnectionListener) -> mqtt.Client:
        """Let ``listener`` use this connection (one per box, so that the broker may tie its client id to its user);
        it hears every connect, disconnect, subscription, message and PUBACK. Returns the paho client to publish on."""
        self._listeners.append(listener)
        if self._connected:
            listener.on_connected(self._client, None)
        return self._client

    def detach(self, listener: ConnectionListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def wake(self) -> None:
        """New rows are in the outbox: send them now rather than at the next poll."""
        with self._lock:
            self._lock.notify_all()

    def publish_volatile(self, topic: str, payload: bytes, schema: str) -> bool:
        """Send a report that is only worth its moment (stats) at QoS 1, outside the outbox, if connected now.

        False when the broker is away: the report is skipped (a newer one follows), never queued in memory.
        """
        if not self._connected:
            return False
        properties = Properties(PacketTypes.PUBLISH)
        properties.MessageExpiryInterval = self.config.message_expiry_s
        properties.ContentType = CONTENT_TYPE
        properties.PayloadFormatIndicator = 1
        properties.UserProperty = [("schema", schema)]
        info = self._client.publish(topic, payload, qos=1, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        self._claim(info.mid, None)
        return True

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the outbox to empty while the broker is reachable; True if it did."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.outbox.stats().depth == 0 and self.inflight == 0:
                return True
            if not self._connected and time.monotonic() - start > 2 * self.config.reconnect_min_s:
                return False  # the broker is away: the rows wait in the outbox for the next start
            self.wake()
            time.sleep(0.05)
        return self.outbox.stats().depth == 0

    def close(self, timeout: float = 5.0) -> None:
        """Stop sending; wait up to ``timeout`` for in-flight acknowledgements, then disconnect cleanly.

        What is not acknowledged stays in the outbox for the next start.
        """
        self._stop.set()
        self.wake()
        if self._sender.is_alive():
            self._sender.join(timeout)
        with self._lock:
            self._lock.wait_for(lambda: not self._inflight or not self._connected, timeout)
        offline = Properties(PacketTypes.PUBLISH)
        offline.ContentType = CONTENT_TYPE
        if self._connected and self._birth is not None:
            self._client.publish(self.topics.status, OFFLINE, qos=1, retain=True, properties=offline)
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> MqttPublisher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _make_client(self) -> mqtt.Client:
        client = make_client(self.config, self.client_id, "transport.mqtt")
        if self._birth is not None:
            will = Properties(PacketTypes.WILLMESSAGE)
            will.ContentType = CONTENT_TYPE
            client.will_set(self.topics.status, OFFLINE, qos=1, retain=True, properties=will)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        for listener in self._listeners:  # the publisher subscribes to nothing itself
            listener.on_subscribed(mid, reason_codes)

    def _on_message(self, client, userdata, message) -> None:
        for listener in self._listeners:
            listener.on_message(client, message)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("mqtt %s:%d refused the connection: %s", self.config.host, self.config.port, reason_code)
            return
        limit = getattr(properties, "MaximumPacketSize", None) if properties is not None else None
        status = Properties(PacketTypes.PUBLISH)
        status.ContentType = CONTENT_TYPE
        with self._lock:
            self._max_packet = int(limit) if limit else None
        if self._birth is not None:
            self._claim(client.publish(self.topics.status, self._birth(), qos=1, retain=True, properties=status).mid, None)
        with self._lock:
            self._connected = True
            self._lock.notify_all()
        log.info("mqtt connected to %s:%d as %s", self.config.host, self.config.port, self.client_id)
        for listener in self._listeners:
            listener.on_connected(client, properties)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._lock:
            self._connected = False
            self._lock.notify_all()
        if not self._stop.is_set():
            log.warning("mqtt disconnected from %s:%d (%s); reconnecting", self.config.host, self.config.port, reason_code)
        for listener in self._listeners:
            listener.on_disconnected()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        # paho calls this from its network thread holding its own locks: never call into paho from here
        if any(listener.on_acknowledged(mid, reason_code) for listener in self._listeners):
            return  # a listener's packet (its publishes are made on this thread, so their ids are known by now)
        with self._lock:
            if mid not in self._inflight:
                self._early[mid] = reason_code  # publish() has not returned yet; _claim settles it
                return
            seq = self._inflight.pop(mid)
            self._lock.notify_all()
        self._settle(seq, reason_code)

    def _claim(self, mid: int, seq: int | None) -> None:
        """Register the packet id publish() returned; settle it now if its PUBACK already came."""
        with self._lock:
            reason_code = self._early.pop(mid, None)
            if reason_code is None:
                self._inflight[mid] = seq
                return
            self._lock.notify_all()
        self._settle(seq, reason_code)

    def _settle(self, seq: int | None, reason_code) -> None:
        if seq is None:
            return  # the status document
        if reason_code.is_failure:
            name = REFUSALS.get(reason_code.value, str(reason_code))
            self.outbox.park(seq, f"broker {self.config.host}:{self.config.port} refused it: PUBACK 0x{reason_code.value:02x} {name}")
        else:
            self.outbox.ack(seq)

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._lock.wait_for(
                    lambda: self._stop.is_set() or (self._connected and len(self._inflight) < self.config.max_inflight),
                    timeout=1.0,
                )
                room = self.config.max_inflight - len(self._inflight)
                ready = self._connected and room > 0 and not self._stop.is_set()
                after = self._last_handed
            if not ready:
                continue
            batch = self.outbox.pending(room, after=after)
            if not batch:
                with self._lock:
                    self._lock.wait(0.5)  # until wake() or the next poll
                continue
            for message in batch:
                if not self._hand_over(message):
                    break

    def _hand_over(self, message: Message) -> bool:
        """Publish one row; False when the connection went away (the row is retried after reconnect)."""
        limit = self._max_packet
        if limit is not None and len(message.payload) + len(message.topic) + PACKET_OVERHEAD > limit:
            self.outbox.park(message.seq, f"payload of {len(message.payload)} bytes exceeds the broker's maximum packet size {limit}")
            with self._lock:
                self._last_handed = max(self._last_handed, message.seq)
            return True
        properties = Properties(PacketTypes.PUBLISH)
        properties.MessageExpiryInterval = self.config.message_expiry_s
        properties.ContentType = CONTENT_TYPE
        properties.PayloadFormatIndicator = 1
        properties.UserProperty = [("schema", message.schema), ("id", message.doc_id)]
        info = self._client.publish(message.topic, message.payload, qos=1, properties=properties)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("mqtt publish of message %d failed locally (rc %d); retrying", message.seq, info.rc)
            return False
        with self._lock:
            self._last_handed = max(self._last_handed, message.seq)
        self._claim(info.mid, message.seq)  # rc NO_CONN: paho queued it and sends it on reconnect
        return True


def make_client(config: BrokerConfig, client_id: str, section: str) -> mqtt.Client:
    """A paho MQTT v5 client for ``config``: reconnect back-off, flow control, credentials and TLS set;
    callbacks and the will are the caller's. ``section`` names the config key in secret errors."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.reconnect_delay_set(int(max(1, config.reconnect_min_s)), int(max(config.reconnect_min_s, config.reconnect_max_s)))
    client.max_inflight_messages_set(config.max_inflight)
    password = read_secret(f"{section}.password", config.password_file, config.password_env)
    if config.username is not None or password is not None:
        client.username_pw_set(config.username, password.get_secret_value() if password else None)
    if config.ca_file is not None:
        client.tls_set(ca_certs=str(config.ca_file), certfile=str(config.cert_file) if config.cert_file else None,
                       keyfile=str(config.key_file) if config.key_file else None, cert_reqs=ssl.CERT_REQUIRED)
    return client
