"""`liveguard fuse --serve`: the central fusion worker for boxes in ``fusion.mode: central``.

Evidence comes from a shared subscription (``$share/<group>/<prefix>/+/+/+/evidence``), so that
several workers split the boxes' windows. Each evidence is checked like the collector checks it,
fused by the configured engine (Qwen-Plus over HTTPS with the local rules as fallback, or the
local rules alone) and its result committed to the worker's own durable outbox with
:meth:`Outbox.put_once` before the evidence is acknowledged; the outbox's publisher sends it to the
box's result topic and deletes it on PUBACK. A worker killed between fusing and publishing is
handed the same evidence again on restart: the outbox remembers the evidence id, so nothing is
fused or sent twice; any copy that still slips through (two workers, a lost outbox) carries the
same evidence id, and the collector keeps the first.
"""

from __future__ import annotations

import logging
from collections import Counter

from edge.centre.collector import default_client_id
from edge.centre.documents import classify, topic_filters
from edge.centre.store import Reject
from edge.closing import Closing
from edge.config.models import Config
from edge.evidence.schema import EVIDENCE_SCHEMA, RESULT_SCHEMA
from edge.fusion.engine import FusionEngine
from edge.transport.delivery import compact
from edge.transport.mqtt import MqttPublisher
from edge.transport.outbox import Outbox
from edge.transport.subscriber import Delivery, MqttSubscriber
from edge.transport.topics import Topics
from edge.transport.wire import wire_problem

log = logging.getLogger("liveguard.fuse")


class FusionWorker(Closing):
    """Fuses the evidence of ``config.centre`` with ``fuse`` and publishes each result once."""

    def __init__(self, config: Config, fuse: FusionEngine, client_id: str | None = None) -> None:
        centre = config.centre
        cfg = centre.worker
        self.config = config
        self.broker = centre.mqtt
        self._fuse = fuse
        self._prefix = centre.mqtt.topic_prefix
        self.client_id = client_id or centre.mqtt.client_id or default_client_id("fusion")
        self.totals: Counter[str] = Counter()  # fused, already_fused, rejected, failed
        self.outbox = Outbox.from_config(cfg.outbox)
        # The publisher has no status topic of its own: the ACL lets a worker write results only.
        self.publisher = MqttPublisher(centre.mqtt.model_copy(update={"client_id": f"{self.client_id}-pub"}), self.outbox,
                                       Topics(self._prefix, "centre", "fusion"), birth=None)
        self._subscriber = MqttSubscriber(
            centre.mqtt, self.client_id, topic_filters(self._prefix, ["evidence"], cfg.group), self._handle,
            session_expiry_s=cfg.session_expiry_s, receive_maximum=cfg.receive_maximum, batch_max=1, batch_ms=0,
        )

    def start(self) -> FusionWorker:
        self.publisher.start()
        self._subscriber.start()
        return self

    def wait_subscribed(self, timeout: float) -> bool:
        return self._subscriber.wait_subscribed(timeout)

    def close(self) -> None:
        self._subscriber.close()
        self.publisher.drain(5.0)
        self.publisher.close()
        self.outbox.close()

    def _handle(self, batch: list[Delivery]) -> None:
        max_bytes = self.config.centre.worker.max_payload_kb * 1024
        for delivery in batch:
            item = classify(delivery, self._prefix, max_bytes, 0)
            if isinstance(item, Reject):
                self.totals["rejected"] += 1
                log.warning("fuse: rejected a message on %s: %s", item.topic, item.reason)
                continue
            evidence_id = item.key
            if self.outbox.was_put(evidence_id):
                self.totals["already_fused"] += 1
                log.info("fuse: evidence %s was fused before (a redelivery); not fused or sent again", evidence_id)
                continue
            try:
                result = self._fuse(item.document)
                problem = wire_problem(result, RESULT_SCHEMA)
                if problem is not None:
                    raise ValueError(f"the engine's result does not match {RESULT_SCHEMA}: {problem}")
            except Exception as exc:  # noqa: BLE001 - one evidence that cannot be fused must not stop the others
                reason = " ".join(f"fusion failed: {type(exc).__name__}: {exc}".split())[:300]
                self.outbox.keep_aside(item.topic, delivery.payload, evidence_id, EVIDENCE_SCHEMA, reason)
                self.totals["failed"] += 1
                continue
            topic = f"{self._prefix}/{item.site}/{item.device}/{item.stream}/result"
            if self.outbox.put_once(topic, compact(result), evidence_id, RESULT_SCHEMA) is None:
                self.totals["already_fused"] += 1  # only if the evidence came twice in one batch
                continue
            self.totals["fused"] += 1
        self.publisher.wake()
