"""JSON Schemas of the evidence and result documents, and validation against them."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

EVIDENCE_SCHEMA = "liveguard.evidence/1"
RESULT_SCHEMA = "liveguard.result/1"

_FILES = {
    EVIDENCE_SCHEMA: ("edge.evidence", "evidence.schema.json"),
    RESULT_SCHEMA: ("edge.fusion", "result.schema.json"),
}


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema document for ``name`` (``liveguard.evidence/1`` or ``liveguard.result/1``)."""
    package, filename = _FILES[name]
    return json.loads(resources.files(package).joinpath(filename).read_text(encoding="utf-8"))


def schema_problem(document: Any, name: str) -> str | None:
    """None when ``document`` is valid, else one line naming the JSON path and the problem."""
    validator = jsonschema.Draft202012Validator(load_schema(name))
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return None
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"{path}: {error.message}"
