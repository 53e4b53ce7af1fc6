"""What a window hands the transport: its evidence and its result, committed to the outbox in that order."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from edge.transport.outbox import Outbox
from edge.transport.topics import Topics
from edge.transport.wire import STATUS_SCHEMA
from edge.types import ModelInfo

_NOT_A_LEVEL = re.compile(r"[/#+$\s]+")


def stream_level(stream_id: str) -> str:
    """A stream id as one MQTT topic level: separators, wildcards and blanks become '_'."""
    return _NOT_A_LEVEL.sub("_", stream_id).strip("_") or "stream"


def compact(document: Mapping[str, Any]) -> bytes:
    """The wire form of a document: UTF-8 JSON without blanks."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def birth_document(version: str, config_hash: str, models: Mapping[str, ModelInfo | None]) -> bytes:
    """The retained status a box publishes on every connect: what runs there, and how it is configured."""
    identities = {role: asdict(info) if info is not None else None for role, info in models.items()}
    return compact({"schema": STATUS_SCHEMA, "state": "online", "version": version, "config_hash": config_hash, "models": identities})


def enqueue_window(
    outbox: Outbox, topics: Topics, evidence: Mapping[str, Any], result: Mapping[str, Any] | None, stream: str | None = None
) -> None:
    """Commit the window's evidence, then its result (both keyed by the evidence id) to the outbox.

    ``result`` None: fusion mode central, the evidence goes alone. ``stream``: the topic level of the
    stream (the configured stream id); by default the evidence's stream id.
    """
    level = stream_level(stream or evidence["stream"]["id"])
    outbox.put(topics.document(level, "evidence"), compact(evidence), evidence["id"], evidence["schema"])
    if result is not None:
        outbox.put(topics.document(level, "result"), compact(result), result["evidence_id"], result["schema"])
