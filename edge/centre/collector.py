"""`liveguard collect`: the fleet's documents from the broker into the store, each once, none lost.

Results, evidence and stats come through a plain subscription, or, with ``centre.collector.group``,
a shared one (``$share/<group>/...``) so that the collectors of the group split the load; status
always comes to every collector without sharing (it is retained, and a shared subscription is never
sent retained messages). Plain is the default because mosquitto 2.0 does not restore shared
subscriptions of persistent sessions when it restarts: what boxes publish between its start and
the collectors' return is dropped (``tests/centre/test_broker_facts.py``). Each batch is classified
(:func:`edge.centre.documents.classify`), written in one transaction (rejects and counters included)
and only then acknowledged to the broker (:class:`edge.transport.subscriber.MqttSubscriber`).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter

from edge.centre.documents import classify, topic_filters
from edge.centre.store import Record, Reject, Store
from edge.closing import Closing
from edge.config.models import CentreConfig
from edge.transport.subscriber import Delivery, MqttSubscriber

log = logging.getLogger("liveguard.collect")


def default_client_id(role: str) -> str:
    return f"liveguard-{role}-{socket.gethostname()}"


class Collector(Closing):
    """Subscribes per ``config`` and writes into ``store``; :meth:`start`, then :meth:`close`."""

    def __init__(self, config: CentreConfig, store: Store, client_id: str | None = None) -> None:
        self.config = config
        self.broker = config.mqtt
        self.store = store
        cfg = config.collector
        prefix = config.mqtt.topic_prefix
        shared = [kind for kind in cfg.kinds if kind != "status"]
        filters = topic_filters(prefix, shared, cfg.group) + topic_filters(prefix, [k for k in cfg.kinds if k == "status"], None)
        self.client_id = client_id or config.mqtt.client_id or default_client_id("collector")
        self.totals: Counter[str] = Counter()  # stored:<kind>, duplicate:<kind>, rejected:<kind> in this process
        self._lock = threading.Lock()
        self._subscriber = MqttSubscriber(
            config.mqtt, self.client_id, filters, self._handle, session_expiry_s=cfg.session_expiry_s,
            receive_maximum=cfg.receive_maximum, batch_max=cfg.batch_max, batch_ms=cfg.batch_ms,
        )

    def start(self) -> Collector:
        self._subscriber.start()
        return self

    def wait_subscribed(self, timeout: float) -> bool:
        return self._subscriber.wait_subscribed(timeout)

    def close(self) -> None:
        self._subscriber.close()

    def _handle(self, batch: list[Delivery]) -> None:
        cfg = self.config.collector
        records: list[Record] = []
        rejects: list[Reject] = []
        for delivery in batch:
            item = classify(delivery, self.config.mqtt.topic_prefix, cfg.max_payload_kb * 1024, cfg.keep_reject_kb * 1024)
            (records if isinstance(item, Record) else rejects).append(item)
        written = self.store.write(records, rejects)
        for reject in rejects:
            log.warning("collect: rejected a message on %s: %s", reject.topic, reject.reason)
        with self._lock:
            for prefix, counts in (("stored", written.stored), ("duplicate", written.duplicates), ("rejected", written.rejected)):
                for kind, amount in counts.items():
                    self.totals[f"{prefix}:{kind}"] += amount
        if written.duplicates:
            log.info("collect: ignored %d copy/copies already stored", sum(written.duplicates.values()))
