"""Reading, validating and describing configuration files; nothing else reads YAML."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edge.config.models import MOVED_KEYS, Config, FunAsrConfig, NoAsrConfig, WhisperAsrConfig
from edge.errors import ConfigError
from edge.validation import describe_validation_error
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
        raise ConfigError(source, describe_validation_error(exc, _key_path, moved=MOVED_KEYS)) from None


def _key_path(loc: Sequence[Any]) -> list[str]:
    """The YAML key path, without the union tags pydantic inserts (``asr.whisper.beam`` -> ``asr.beam``)."""
    path: list[str] = []
    for part in loc:
        if path and path[-1] == "asr" and part in _ASR_BACKENDS:
            continue
        path.append(str(part))
    return path


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
