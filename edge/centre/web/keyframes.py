"""Keyframes for the page, asked of the box that kept them (MQTT v5 request/response) and cached here.

The evidence names each keyframe by the sha256 of its JPEG; the box keeps the JPEGs in a bounded store.
A request goes to ``<prefix>/<site>/<device>/cmd/keyframe`` with payload ``{"sha256": ...}``, a response
topic under the box's own level (``<prefix>/<site>/<device>/reply/<requester>/keyframe``: the only place
the broker's ACL lets the box write) and correlation data; the box answers there with the JPEG
(content type ``image/jpeg``) or a JSON error (``not-found`` once it has rotated the frame out). What
arrives is checked against the sha256 before it is cached or shown.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.closing import Closing
from edge.config.models import BrokerConfig, WebConfig
from edge.service.keyframes import KeyframeStore
from edge.transport.mqtt import make_client

log = logging.getLogger("liveguard.web")

CACHE_MAX_FILES = 1_000_000  # bounded by centre.web.cache_max_mb; the count only keeps the index small


class Unavailable(Exception):
    """Why the page cannot show a keyframe: ``offline``, ``rotated``, ``no-answer``, ``mismatch``, ``error``."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = " ".join(detail.split())
        super().__init__(f"{reason}: {self.detail}")


@dataclass
class _Pending:
    done: threading.Event
    payload: bytes | None = None
    content_type: str = ""


class KeyframeFetcher(Closing):
    """One MQTT client for the page's requests; :meth:`fetch` waits for the box's answer."""

    def __init__(self, broker: BrokerConfig, web: WebConfig, client_id: str) -> None:
        if web.mqtt_username is not None:
            broker = broker.model_copy(update={"username": web.mqtt_username, "password_env": web.mqtt_password_env,
                                               "password_file": web.mqtt_password_file})
        self.prefix = broker.topic_prefix
        self.requester = client_id
        self.timeout = web.keyframe_timeout_s
        # the box's own store serves as the cache: <sha256>.jpg files, bounded, checked against their name when read
        self.cache = KeyframeStore(web.cache_dir, CACHE_MAX_FILES, int(web.cache_max_mb * 1024 * 1024))
        self._pending: dict[bytes, _Pending] = {}
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client = make_client(broker, client_id, "centre.web.mqtt")
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *args: self._connected.clear()
        self._client.on_message = self._on_message
        self._broker = broker

    def start(self) -> KeyframeFetcher:
        self._client.connect_async(self._broker.host, self._broker.port, keepalive=self._broker.keepalive_s)
        self._client.loop_start()
        return self

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def reply_topic(self, site: str, device: str) -> str:
        return f"{self.prefix}/{site}/{device}/reply/{self.requester}/keyframe"

    def fetch(self, site: str, device: str, sha256: str) -> bytes:
        """The JPEG whose sha256 is ``sha256``, from the cache or from the box; :class:`Unavailable` says why not."""
        cached = self.cache.get(sha256)
        if cached is not None:
            return cached
        if not self._connected.is_set():
            raise Unavailable("error", "the centre is not connected to the broker")
        correlation = secrets.token_bytes(16)
        pending = _Pending(threading.Event())
        with self._lock:
            self._pending[correlation] = pending
        try:
            properties = Properties(PacketTypes.PUBLISH)
            properties.ResponseTopic = self.reply_topic(site, device)
            properties.CorrelationData = correlation
            properties.MessageExpiryInterval = max(1, int(self.timeout))  # an answer after the page gave up is of no use
            payload = json.dumps({"sha256": sha256}).encode()
            self._client.publish(f"{self.prefix}/{site}/{device}/cmd/keyframe", payload, qos=1, properties=properties)
            if not pending.done.wait(self.timeout):
                raise Unavailable("no-answer", f"{site}/{device} did not answer within {self.timeout:g} s")
        finally:
            with self._lock:
                self._pending.pop(correlation, None)
        data = pending.payload or b""
        if pending.content_type != "image/jpeg":
            error = _error_of(data)
            if error == "not-found":
                raise Unavailable("rotated", f"{site}/{device} no longer keeps this keyframe (rotated out of its store)")
            raise Unavailable("error", f"{site}/{device} answered {error}")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise Unavailable("mismatch", f"{site}/{device} sent a JPEG whose sha256 is not the evidence's")
        self.cache.put(data)
        return data

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("web: broker refused the connection: %s", reason_code)
            return
        client.subscribe(f"{self.prefix}/+/+/reply/{self.requester}/keyframe", qos=1)
        self._connected.set()

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        props = message.properties
        correlation = getattr(props, "CorrelationData", None) if props else None
        with self._lock:
            pending = self._pending.get(bytes(correlation)) if correlation else None
        if pending is None:
            log.info("web: an answer on %s matches no open request (late, or not ours)", message.topic)
            return
        pending.payload = bytes(message.payload)
        pending.content_type = getattr(props, "ContentType", "") or ""
        pending.done.set()


def _error_of(data: bytes) -> str:
    try:
        answer = json.loads(data)
    except ValueError:
        return "something that is neither a JPEG nor a JSON error"
    return str(answer.get("error", "an unknown error")) if isinstance(answer, dict) else "an unknown error"
