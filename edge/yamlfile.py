"""Reading a YAML file with errors that name the file (and the line and column of a syntax error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edge.errors import LiveGuardError


def read_yaml(path: Path, error: type[LiveGuardError], what: str) -> Any:
    """The parsed document at ``path`` (None for an empty file); ``what`` names it in messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(str(path), f"{what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(str(path), f"cannot read {what} ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(where, f"invalid YAML: {problem}") from None
