"""JSON Schemas of the evidence and result documents, and validation against them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource

EVIDENCE_SCHEMA = "liveguard.evidence/1"
RESULT_SCHEMA = "liveguard.result/1"

_FILES = {
    EVIDENCE_SCHEMA: ("edge.evidence", "evidence.schema.json"),
    RESULT_SCHEMA: ("edge.fusion", "result.schema.json"),
}
# Parts both documents refer to by URI (evidence and result carry the same claim flags).
_SHARED = (("edge.evidence", "claim-flag.schema.json"),)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema document for ``name`` (``liveguard.evidence/1`` or ``liveguard.result/1``)."""
    return _read(*_FILES[name])


@cache
def _registry() -> Registry:
    resources_ = [Resource.from_contents(_read(package, filename)) for package, filename in _SHARED]
    return Registry().with_resources((resource.contents["$id"], resource) for resource in resources_)


def _read(package: str, filename: str) -> dict[str, Any]:
    return json.loads(resources.files(package).joinpath(filename).read_text(encoding="utf-8"))


def validator_for(schema: Mapping[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator of ``schema`` that resolves references to the shared parts (the claim flag)."""
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def schema_problem(document: Any, name: str) -> str | None:
    """None when ``document`` is valid, else one line naming the JSON path and the problem."""
    violation = schema_violation(document, load_schema(name))
    return None if violation is None else f"{violation[0]}: {violation[1]}"


def schema_violation(document: Any, schema: Mapping[str, Any]) -> tuple[str, str] | None:
    """None when ``document`` matches ``schema``, else the JSON path and message of the most relevant error."""
    validator = validator_for(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return None
    return json_path(error.absolute_path), error.message


def json_path(path: Iterable[str | int]) -> str:
    """A jsonschema error's ``absolute_path`` as written in messages: ``$.ocr.lines[3].text``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
