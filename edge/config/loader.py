"""Reading, validating and describing configuration files; nothing else reads YAML."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edge.config.models import Config, FunAsrConfig, NoAsrConfig, WhisperAsrConfig
from edge.errors import ConfigError
from edge.yamlfile import read_yaml


_ASR_BACKENDS = {m.model_fields["backend"].default for m in (WhisperAsrConfig, FunAsrConfig, NoAsrConfig)}


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate ``path``; None gives the built-in defaults (the paper's values)."""
    if path is None:
        return Config()
    path = Path(path)
    data = read_yaml(path, ConfigError, "config file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"top level must be a mapping of sections, got {type(data).__name__}")
    return parse_config(data, source=str(path), base_dir=path.parent)


def parse_config(data: dict[str, Any], source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate an already-parsed mapping; errors name ``source``, the key path and the value."""
    try:
        return Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(source, describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line for a person: the first problem's key path, bad value and expectation."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = _key_path(first["loc"])
    key = ".".join(loc) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        text = f"{key}: unknown key"
    elif first["type"] == "missing":
        text = f"{key}: required key is missing"
    elif not loc:  # a rule across sections: its message names the keys itself
        text = msg
    else:
        text = f"{key} = {_short(first.get('input'))}: {msg}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return text


def _key_path(loc: tuple[Any, ...]) -> list[str]:
    """The YAML key path, without the union tags pydantic inserts (``asr.whisper.beam`` -> ``asr.beam``)."""
    path: list[str] = []
    for part in loc:
        if path and path[-1] == "asr" and part in _ASR_BACKENDS:
            continue
        path.append(str(part))
    return path


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def config_schema() -> dict[str, Any]:
    """JSON Schema of the configuration, for editors (yaml-language-server)."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "LiveGuard configuration"
    return schema


def config_hash(config: Config) -> str:
    """sha256 of the canonical JSON of the effective configuration (recorded in evidence)."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
