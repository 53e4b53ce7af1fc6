"""A pydantic ValidationError as one line for a person: the key path, the value and what was expected.

Shared by the typed documents read from YAML, the configuration and the model pack manifest;
they differ only in how a location reads (``asr.beam_size``, ``models[0] (detector).precision``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

KeyPath = Callable[[Sequence[Any]], list[str]]


def dotted(loc: Sequence[Any]) -> list[str]:
    """pydantic's location as it is: one key per part."""
    return [str(part) for part in loc]


def describe_validation_error(
    error: ValidationError,
    key_path: KeyPath = dotted,
    *,
    show_value: bool = True,
    moved: Mapping[str, str] | None = None,
) -> str:
    """The first problem as ``key = value: expectation``, plus how many more there are.

    ``key_path`` turns a location into the keys a person sees; ``moved`` maps keys that moved to
    their new place, so an old key reads "moved to ..." rather than "unknown key". A rule across
    keys (a model validator) has an empty location: its message names the keys itself.
    """
    errors = error.errors(include_url=False)
    first = errors[0]
    path = key_path(first["loc"])
    key = ".".join(path) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        new = (moved or {}).get(key)
        text = f"{key}: moved to {new}" if new else f"{key}: unknown key"
    elif first["type"] == "missing":
        text = f"{key}: required key is missing"
    elif not path:
        text = message
    elif show_value:
        text = f"{key} = {short_value(first.get('input'))}: {message}"
    else:
        text = f"{key}: {message}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return text


def short_value(value: Any) -> str:
    """``value`` as JSON, cut to 60 characters."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
