"""Reading, validating and describing configuration files; nothing else reads YAML."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edge.config.layers import Merged, expand_environment, is_reference_key, masked_yaml, resolve_paths
from edge.config.models import MOVED_KEYS, Config, FunAsrConfig, NoAsrConfig, WhisperAsrConfig
from edge.errors import ConfigError
from edge.validation import describe_validation_error
from edge.yamlfile import read_yaml

_ASR_BACKENDS = {m.model_fields["backend"].default for m in (WhisperAsrConfig, FunAsrConfig, NoAsrConfig)}

ConfigPaths = str | os.PathLike | Sequence[str | os.PathLike] | None


@dataclass(frozen=True)
class LayeredConfig:
    """A configuration merged from several files, with what is needed to explain it.

    ``files`` in the order they were merged; ``expanded`` the key paths whose values came from
    ``${VAR}`` expansion, each with the text as written (the values themselves are not kept here).
    """

    config: Config
    files: tuple[Path, ...]
    expanded: Mapping[tuple[Any, ...], str]

    def effective_yaml(self) -> str:
        """The whole effective configuration as YAML, values from the environment masked."""
        names = ", ".join(str(path) for path in self.files) or "built-in defaults"
        header = f"# effective configuration: built-in defaults, then {names}\n" if self.files else f"# {names}\n"
        if any(not is_reference_key(path) for path in self.expanded):
            header += "# '***': a value taken from the environment (the comment says what the file wrote)\n"
        return header + masked_yaml(self.config.model_dump(mode="json"), self.expanded)


def load_config(paths: ConfigPaths = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Load and validate one YAML file, or several layered in order; None or [] gives the built-in defaults.

    Layering (e.g. ``[site.yaml, device.yaml]``): mappings merge key by key, lists and scalars replace;
    ``${VAR}`` and ``${VAR:-default}`` in string values expand from ``environ`` (default: the process
    environment); relative paths are relative to the file that set them. Errors name that file and the
    key path.
    """
    return load_layers(paths, environ=environ).config


def load_layers(paths: ConfigPaths = None, *, environ: Mapping[str, str] | None = None) -> LayeredConfig:
    """:func:`load_config`, keeping which values came from the environment (``liveguard config check``)."""
    files = _as_paths(paths)
    environ = os.environ if environ is None else environ
    merged = Merged()
    for path in files:
        data = read_yaml(path, ConfigError, "config file")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(str(path), f"top level must be a mapping of sections, got {type(data).__name__}")
        data, expanded = expand_environment(data, str(path), environ)
        merged.add(resolve_paths(data, path.parent), str(path), expanded)
    if not files:
        return LayeredConfig(Config(), (), {})
    try:
        config = Config.model_validate(merged.data, context={"base_dir": None})
    except ValidationError as exc:
        raise _layer_error(exc, merged) from None
    return LayeredConfig(config, files, dict(merged.expanded))


def _as_paths(paths: ConfigPaths) -> tuple[Path, ...]:
    if paths is None:
        return ()
    if isinstance(paths, (str, os.PathLike)):
        return (Path(paths),)
    return tuple(Path(path) for path in paths)


def _layer_error(exc: ValidationError, merged: Merged) -> ConfigError:
    """The first problem, naming the file that set the bad key; a value from the environment is not echoed."""
    loc = tuple(_key_path(exc.errors(include_url=False)[0]["loc"], keep_indices=True))
    written = merged.expanded_at(loc)
    secret_below = any(path[: len(loc)] == loc for path in merged.expanded)
    message = describe_validation_error(exc, _key_path, moved=MOVED_KEYS, show_value=not (written or secret_below))
    if written:
        message += f" (the value came from {' '.join(written.split())})"
    return ConfigError(merged.source_of(loc), message)


def parse_config(data: dict[str, Any], source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate an already-parsed mapping; errors name ``source``, the key path and the value."""
    try:
        return Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(source, describe_validation_error(exc, _key_path, moved=MOVED_KEYS)) from None


def _key_path(loc: Sequence[Any], keep_indices: bool = False) -> list[Any]:
    """The YAML key path, without the union tags pydantic inserts (``asr.whisper.beam`` -> ``asr.beam``)."""
    path: list[Any] = []
    for part in loc:
        if path and path[-1] == "asr" and part in _ASR_BACKENDS:
            continue
        path.append(part if keep_indices and isinstance(part, int) else str(part))
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
