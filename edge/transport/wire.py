"""The documents that travel over MQTT and HTTPS, by schema name, and their validation on either end.

Evidence and result schemas live beside the stages that write them (``edge/evidence``,
``edge/fusion``); the status and stats documents, which only the service and the transport write,
live here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from edge.evidence.schema import EVIDENCE_SCHEMA, RESULT_SCHEMA, json_path, load_schema, validator_for

STATUS_SCHEMA = "liveguard.status/1"
STATS_SCHEMA = "liveguard.stats/1"
ONLINE = b'{"schema":"liveguard.status/1","state":"online"}'
OFFLINE = b'{"schema":"liveguard.status/1","state":"offline"}'

_HERE = {STATUS_SCHEMA: "status.schema.json", STATS_SCHEMA: "stats.schema.json"}
SCHEMAS = (EVIDENCE_SCHEMA, RESULT_SCHEMA, STATUS_SCHEMA, STATS_SCHEMA)


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    if name in _HERE:
        schema = json.loads(resources.files("edge.transport").joinpath(_HERE[name]).read_text(encoding="utf-8"))
    else:
        schema = load_schema(name)
    return validator_for(schema)


def wire_problem(document: Any, name: str) -> str | None:
    """None when ``document`` is a valid ``name`` document, else ``$.path: message`` (the most relevant error)."""
    if name not in SCHEMAS:
        raise ValueError(f"unknown document schema {name!r}")
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(document))
    return None if error is None else f"{json_path(error.absolute_path)}: {error.message}"


# -- requests to a box (MQTT v5 request/response; edge.transport.commands answers them) ----------------

KEYFRAME_COMMAND = "keyframe"  # <root>/cmd/keyframe, answered on <root>/reply/<requester>/keyframe
JPEG_CONTENT_TYPE = "image/jpeg"
JSON_CONTENT_TYPE = "application/json"
REQUEST_MAX_BYTES = 1024
REPLY_OUTCOMES = ("keyframe", "not-found", "bad-request", "too-large")  # answered: the JPEG, or {"error": <outcome>, ...}
REQUEST_DROPS = ("response-topic", "retained", "busy", "refused")  # not answered (refused: the broker refused the reply)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CommandStats:
    """A box's command responder at one instant; the counters grow while it runs."""

    connected: bool
    replies: dict[str, int]  # outcome of REPLY_OUTCOMES -> requests answered so
    dropped: dict[str, int]  # reason of REQUEST_DROPS -> requests not answered


def keyframe_request(sha256: str) -> bytes:
    """The payload that asks a box for the keyframe JPEG named ``sha256`` (ResponseTopic and CorrelationData go
    in the MQTT v5 properties)."""
    return json.dumps({"sha256": sha256}, separators=(",", ":")).encode()


def parse_keyframe_request(payload: bytes) -> tuple[str | None, str | None]:
    """``(sha256, None)`` for a valid request payload, else ``(None, what is wrong)`` in a few words."""
    if len(payload) > REQUEST_MAX_BYTES:
        return None, f"payload of {len(payload)} bytes; a request is {{\"sha256\": \"<64 hex>\"}}"
    try:
        request = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "payload is not UTF-8 JSON"
    if not isinstance(request, dict):
        return None, "payload is not a JSON object"
    sha = request.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        return None, "sha256 must be 64 lowercase hex digits"
    return sha, None
