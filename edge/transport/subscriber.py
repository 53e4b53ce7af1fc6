"""Taking documents off an MQTT v5 broker so that none is lost: acknowledged only once handled.

An :class:`MqttSubscriber` holds a persistent session (``clean_start=False`` with a
``SessionExpiryInterval``: under MQTT v5 the first alone keeps nothing) on shared subscriptions
(``$share/<group>/...``), with paho's manual acknowledgement. paho hands each QoS 1 message to a
queue; one thread takes them in batches (up to ``batch_max``, waiting ``batch_ms`` for more), calls
``handle(batch)``, and only when that returns sends the PUBACKs, in the order the messages came. A
handler that raises (a database that is away) leaves the batch unacknowledged and is retried with
back-off, so a consumer killed at any point loses nothing: the broker sends again whatever it did not
see acknowledged. The price is at-least-once: the handler must ignore a document it already has.

The broker's ``Receive Maximum`` (sent in CONNECT) bounds how many unacknowledged messages it hands
this client, which is the back-pressure. A PUBACK must go out on the connection that received its
message: after a reconnect the broker resends the old ones (with the same packet ids), so the stale
acknowledgements are skipped instead.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.closing import Closing
from edge.config.models import BrokerConfig
from edge.transport.mqtt import make_client

log = logging.getLogger("liveguard.subscriber")

RETRY_MIN_S = 0.5  # first wait after a failed handle(); doubles up to RETRY_MAX_S
RETRY_MAX_S = 15.0


@dataclass(frozen=True)
class Delivery:
    """One message as the broker delivered it."""

    topic: str
    payload: bytes
    properties: Any  # paho Properties (UserProperty, ContentType, ...), or None
    received: float  # wall-clock seconds
    dup: bool  # the broker says it may have sent it before
    mid: int
    connection: int  # which connection it came on (acknowledgements go back on that one only)

    def user_property(self, name: str) -> str | None:
        for key, value in getattr(self.properties, "UserProperty", None) or []:
            if key == name:
                return value
        return None


Handler = Callable[[list[Delivery]], None]


class MqttSubscriber(Closing):
    """Subscribes ``client_id`` to ``filters`` (QoS 1) and feeds ``handle`` in batches; see the module."""

    def __init__(
        self,
        config: BrokerConfig,
        client_id: str,
        filters: Sequence[str],
        handle: Handler,
        *,
        section: str = "centre.mqtt",
        session_expiry_s: int = 7 * 24 * 3600,
        receive_maximum: int = 100,
        batch_max: int = 100,
        batch_ms: int = 100,
    ) -> None:
        self.config = config
        self.client_id = client_id
        self.filters = list(filters)
        self._handle = handle
        self._session_expiry_s = session_expiry_s
        self._receive_maximum = receive_maximum
        self._batch_max = batch_max
        self._batch_s = batch_ms / 1000
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._connection = 0  # incremented on every (re)connect
        self._lock = threading.Lock()
        self.received = 0
        self.acknowledged = 0
        self.redelivered = 0  # messages the broker marked DUP
        self.failures = 0  # handle() calls that raised
        self.last_error: str | None = None
        self._client = make_client(config, client_id, section)
        self._client.manual_ack_set(True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._worker = threading.Thread(target=self._work, name=f"liveguard-sub-{client_id}", daemon=True)

    @property
    def subscribed(self) -> bool:
        """True once the broker granted the subscriptions on the current connection."""
        return self._subscribed.is_set()

    def start(self) -> MqttSubscriber:
        """Connect in the background (retrying while the broker is away) and start handling."""
        connect = Properties(PacketTypes.CONNECT)
        connect.SessionExpiryInterval = self._session_expiry_s
        connect.ReceiveMaximum = self._receive_maximum
        self._client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s,
                                   clean_start=False, properties=connect)
        self._client.loop_start()
        self._worker.start()
        return self

    def wait_subscribed(self, timeout: float) -> bool:
        return self._subscribed.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand (its acknowledgements sent), then disconnect; the session stays on the broker."""
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> MqttSubscriber:
        return self.start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("mqtt %s:%d refused %s: %s", self.config.host, self.config.port, self.client_id, reason_code)
            return
        with self._lock:
            self._connection += 1
        log.info("mqtt %s connected to %s:%d (session %s)", self.client_id, self.config.host, self.config.port,
                 "resumed" if flags.session_present else "new")
        # Subscribing again on a resumed session changes nothing; on a new one (expired, broker lost it) it is needed.
        client.subscribe([(topic, 1) for topic in self.filters])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [f"{topic} ({code})" for topic, code in zip(self.filters, reason_codes) if code.is_failure]
        if refused:
            log.error("mqtt %s: the broker refused the subscription to %s", self.client_id, ", ".join(refused))
        self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._subscribed.clear()
        if not self._stop.is_set():
            log.warning("mqtt %s disconnected from %s:%d (%s); reconnecting", self.client_id, self.config.host,
                        self.config.port, reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            connection = self._connection
        self._queue.put(Delivery(message.topic, bytes(message.payload), message.properties, time.time(),
                                 bool(message.dup), message.mid, connection))

    def _next_batch(self) -> list[Delivery]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._batch_s
        while len(batch) < self._batch_max:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _work(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if batch:
                self._settle(batch)

    def _settle(self, batch: list[Delivery]) -> None:
        """Handle ``batch`` until it succeeds (or the consumer stops), then acknowledge it in order."""
        delay = RETRY_MIN_S
        while True:
            try:
                self._handle(batch)
                break
            except Exception as exc:  # noqa: BLE001 - the consumer outlives a store that is away; nothing is acknowledged
                self.failures += 1
                line = " ".join(f"{type(exc).__name__}: {exc}".split())
                if line != self.last_error:
                    log.warning("mqtt %s: %d message(s) not handled (%s); retrying, unacknowledged", self.client_id, len(batch), line)
                self.last_error = line
                if self._stop.wait(random.uniform(delay / 2, delay)):
                    return  # stopping: the broker sends them again to the next session
                delay = min(RETRY_MAX_S, delay * 2)
        self.last_error = None
        with self._lock:
            connection = self._connection
        self.received += len(batch)
        self.redelivered += sum(d.dup for d in batch)
        for delivery in batch:
            if delivery.connection == connection:  # else the broker resends it on this connection: acknowledged then
                self._client.ack(delivery.mid, 1)
                self.acknowledged += 1
