"""The documents that travel over MQTT and HTTPS, by schema name, and their validation on either end.

Evidence and result schemas live beside the stages that write them (``edge/evidence``,
``edge/fusion``); the status and stats documents, which only the service and the transport write,
live here.
"""

from __future__ import annotations

import json
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
