"""Reading a model's JSON answer: parse, normalise lightly, check against a schema.

Every problem comes back as one line for a repair prompt and for the result's ``failures``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from edge.evidence.schema import schema_violation

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)
_QUOTE = 80  # characters of a bad answer quoted in a problem line


def parse_object(text: str, *, embedded: bool = False) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON object in ``text`` (a Markdown code fence around it is fine), or None and the problem.

    ``embedded``: also accept prose around the object (for replies that had no JSON mode).
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    if embedded and not stripped.startswith("{") and "{" in stripped:
        stripped = stripped[stripped.index("{") : stripped.rindex("}") + 1] if "}" in stripped else stripped[stripped.index("{") :]
    if not stripped:
        return None, "empty answer"
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg}, character {exc.pos} of {len(stripped)}): {_quote(stripped)}"
    if not isinstance(value, dict):
        return None, f"expected one JSON object, got a JSON {type(value).__name__}: {_quote(stripped)}"
    return value, None


def shape_problem(value: Any, schema: dict[str, Any]) -> str | None:
    """None when ``value`` matches ``schema``, else the JSON path and what is wrong."""
    violation = schema_violation(value, schema)
    if violation is None:
        return None
    path, message = violation
    return f"wrong shape at {path}: {_quote(message)}"


def blank_to_none(value: Any) -> Any:
    """'' and whitespace-only strings become None; other strings are stripped."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE else text[: _QUOTE - 3] + "..."
