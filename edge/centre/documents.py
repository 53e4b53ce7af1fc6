"""What a message on a LiveGuard topic is: a valid document to store, or a reject with its reason.

Checks, cheapest first: the topic fits the layout (``<prefix>/<site>/<device>/<stream>/result|evidence``,
``<prefix>/<site>/<device>/status|stats``); the payload is within the size bound (not parsed
otherwise); it is UTF-8 JSON; its ``schema`` is the one its topic carries and it validates against
that JSON Schema; and what it says about itself agrees with its topic (an evidence of device B on
device A's topic is refused, whatever the broker's ACL let through).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from edge.centre.store import Record, Reject
from edge.evidence.schema import EVIDENCE_SCHEMA, RESULT_SCHEMA
from edge.transport.delivery import stream_level
from edge.transport.subscriber import Delivery
from edge.transport.wire import STATS_SCHEMA, STATUS_SCHEMA, wire_problem

SCHEMA_OF = {"result": RESULT_SCHEMA, "evidence": EVIDENCE_SCHEMA, "status": STATUS_SCHEMA, "stats": STATS_SCHEMA}
PER_STREAM = ("result", "evidence")


def topic_filters(prefix: str, kinds: list[str], group: str | None) -> list[str]:
    """Subscription filters for ``kinds`` (shared in ``group`` when given)."""
    share = f"$share/{group}/" if group else ""
    return [f"{share}{prefix}/+/+/+/{kind}" if kind in PER_STREAM else f"{share}{prefix}/+/+/{kind}" for kind in kinds]


def classify(delivery: Delivery, prefix: str, max_bytes: int, keep_bytes: int) -> Record | Reject:
    """``delivery`` as a :class:`Record` to store, or a :class:`Reject` saying why not (one line)."""
    topic, payload = delivery.topic, delivery.payload

    def reject(kind: str, reason: str) -> Reject:
        return Reject(topic, reason, kind, len(payload), hashlib.sha256(payload).hexdigest(), payload[:keep_bytes], delivery.received)

    levels = topic.split("/")
    prefix_levels = prefix.split("/")
    if levels[: len(prefix_levels)] != prefix_levels:
        return reject("topic", f"topic outside {prefix}/")
    rest = levels[len(prefix_levels):]
    if len(rest) == 4 and rest[3] in PER_STREAM:
        site, device, stream, kind = rest
    elif len(rest) == 3 and rest[2] in ("status", "stats"):
        (site, device, kind), stream = rest, None
    else:
        return reject("topic", "topic does not fit <site>/<device>/<stream>/result|evidence or <site>/<device>/status|stats")
    if len(payload) > max_bytes:
        return reject("oversized", f"payload of {len(payload)} bytes exceeds centre.collector.max_payload_kb ({max_bytes // 1024} KiB)")
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return reject("not_json", f"not UTF-8 JSON: {exc}")
    expected = SCHEMA_OF[kind]
    if not isinstance(document, dict) or document.get("schema") != expected:
        found = document.get("schema") if isinstance(document, dict) else type(document).__name__
        return reject("schema", f"expected a {expected} document on a {kind} topic, found {str(found)[:60]!r}")
    problem = wire_problem(document, expected)
    if problem is not None:
        return reject("schema", f"{expected}: {problem}"[:300])
    mismatch = _identity_mismatch(kind, document, site, device, stream)
    if mismatch:
        return reject("identity", mismatch)
    return Record(kind, _key(kind, document), site, device, stream, topic, delivery.received, document)


def _key(kind: str, document: dict[str, Any]) -> str:
    if kind == "evidence":
        return document["id"]
    if kind == "result":
        return document["evidence_id"]
    if kind == "stats":
        return document["time"]
    return ""


def _identity_mismatch(kind: str, document: dict[str, Any], site: str, device: str, stream: str | None) -> str | None:
    if kind == "evidence":
        said = (document["device"]["site"], document["device"]["id"], stream_level(document["stream"]["id"]))
        if said != (site, device, stream):
            return f"the evidence says site/device/stream {'/'.join(said)}, its topic {site}/{device}/{stream}"
    elif kind == "stats" and (document["site"], document["device"]) != (site, device):
        return f"the stats say site/device {document['site']}/{document['device']}, its topic {site}/{device}"
    return None
