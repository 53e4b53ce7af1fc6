"""Fleet layering: the YAML files of one box (defaults, a site, a device) merged into one mapping.

Each file is read on its own: ``${VAR}`` and ``${VAR:-default}`` in its string values are expanded from
the environment, and its relative paths are made absolute against its own folder, before it is merged
onto the files before it. Mappings merge key by key; lists and scalars replace. Every key path that
ends up in the merged mapping remembers which file set it, so that a validation error names that file,
and which values came from the environment, so that they can be printed masked.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from edge import bundled
from edge.config.models import Config, ConfigPath
from edge.errors import ConfigError

KeyPath = tuple[Any, ...]  # ("transport", "mqtt", "host"), ("streams", 0, "url")

# ${NAME} or ${NAME:-default} (the default when NAME is unset or empty, as in a shell); $${ is a literal ${
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_PATH_MARK = get_args(ConfigPath)[1]  # the validator that makes a Path field relative to its file


def dotted(path: KeyPath) -> str:
    """``("streams", 0, "url")`` -> ``streams.0.url`` (the form pydantic errors take too)."""
    return ".".join(str(part) for part in path) or "(top level)"


def is_reference_key(path: KeyPath) -> bool:
    """``*_file`` and ``*_env`` values name where a secret is, never the secret itself."""
    return bool(path) and isinstance(path[-1], str) and path[-1].endswith(("_file", "_env"))


def expand_environment(data: Any, source: str, environ: Mapping[str, str]) -> tuple[Any, dict[KeyPath, str]]:
    """``data`` with every ``${VAR}`` in its string values replaced; and the key paths so expanded, each
    with the text as written (for masking). A variable that is unset and has no default is an error
    naming ``source``, the key path and the variable."""
    expanded: dict[KeyPath, str] = {}

    def expand(value: Any, path: KeyPath) -> Any:
        if isinstance(value, dict):
            return {key: expand(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [expand(item, (*path, index)) for index, item in enumerate(value)]
        if not isinstance(value, str) or "${" not in value:
            return value

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, default = match.group(1), match.group(2)
            found = environ.get(name)
            if default is not None and not found:
                return default
            if found is None:
                raise ConfigError(
                    source, f"{dotted(path)}: environment variable {name} is not set (write ${{{name}:-default}} to give a default)"
                )
            return found

        if "${" in _REFERENCE.sub("", value):
            raise ConfigError(
                source, f"{dotted(path)}: malformed ${{...}} reference (write ${{NAME}} or ${{NAME:-default}}; $${{ is a literal ${{)"
            )
        result = _REFERENCE.sub(substitute, value)
        if any(match.group(1) for match in _REFERENCE.finditer(value)):
            expanded[path] = value
        return result

    return expand(data, ()), expanded


# -- relative paths, resolved per file ------------------------------------------------------------------

Shape = Any  # "path" | {"key": Shape} | ("list", Shape) | None


def _shape(annotation: Any, metadata: Any = ()) -> Shape:
    """Where path values sit in a field of type ``annotation``: "path", a mapping of sub-shapes, a list's."""
    if any(item == _PATH_MARK for item in metadata):
        return "path"
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _shape(base, extra)
    if origin in (Union, types.UnionType):
        shapes = [_shape(arg) for arg in get_args(annotation) if arg is not type(None)]
        if "path" in shapes:
            return "path"
        merged: dict[str, Shape] = {}
        for shape in shapes:  # a discriminated union (asr): the keys of every member
            if isinstance(shape, dict):
                merged.update(shape)
        return merged or None
    if origin in (list, tuple):  # list[X], tuple[X, ...]
        item = get_args(annotation)[0]
        inner = _shape(item)
        return ("list", inner) if inner is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        shapes = {name: _shape(info.annotation, info.metadata) for name, info in annotation.model_fields.items()}
        return {name: shape for name, shape in shapes.items() if shape is not None}
    return None


_CONFIG_SHAPE: Shape = None


def _config_shape() -> Shape:
    global _CONFIG_SHAPE
    if _CONFIG_SHAPE is None:
        shape = _shape(Config)
        # a stream's url may be a plain path (a video file, a watched folder): relative to its file too
        streams = shape.get("streams")
        shape["streams"] = ("list", {**(streams[1] if streams else {}), "url": "url"})
        _CONFIG_SHAPE = shape
    return _CONFIG_SHAPE


def _absolute(value: str, base_dir: Path) -> str:
    if bundled.is_bundled(value):  # bundled:NAME names a file of the package, not of the config's folder
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base_dir / path)


def resolve_paths(data: Any, base_dir: Path, shape: Shape = None) -> Any:
    """``data`` with its relative path values (the ConfigPath fields) joined to ``base_dir``: the folder of
    the file that set them, so that once merged a path still means what it meant in its own file."""
    shape = _config_shape() if shape is None else shape
    if shape == "path":
        return _absolute(data, base_dir) if isinstance(data, str) and data else data
    if shape == "url":
        return _absolute(data, base_dir) if isinstance(data, str) and data and not _SCHEME.match(data) else data
    if isinstance(shape, tuple) and isinstance(data, list):
        return [resolve_paths(item, base_dir, shape[1]) for item in data]
    if isinstance(shape, dict) and isinstance(data, dict):
        return {key: resolve_paths(value, base_dir, shape[key]) if key in shape else value for key, value in data.items()}
    return data


# -- merging --------------------------------------------------------------------------------------------


@dataclass
class Merged:
    """The merged mapping; which file set each key path (leaves, and lists as a whole); the values that
    came from ``${VAR}`` expansion, by key path, as written."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[KeyPath, int] = field(default_factory=dict)
    expanded: dict[KeyPath, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def add(self, data: dict[str, Any], source: str, expanded: Mapping[KeyPath, str]) -> None:
        """Merge one file's mapping (already expanded and resolved) onto what came before."""
        index = len(self.sources)
        self.sources.append(source)
        self._merge(self.data, data, (), index, expanded)

    def _merge(self, into: dict[str, Any], layer: dict[str, Any], prefix: KeyPath, index: int, expanded: Mapping[KeyPath, str]) -> None:
        for key, value in layer.items():
            path = (*prefix, key)
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                self._merge(into[key], value, path, index, expanded)
                continue
            for table in (self.origins, self.expanded):
                for old in [p for p in table if p[: len(path)] == path]:
                    del table[old]
            into[key] = value
            self._record(value, path, index, expanded)

    def _record(self, value: Any, path: KeyPath, index: int, expanded: Mapping[KeyPath, str]) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                self._record(item, (*path, key), index, expanded)
        else:
            self.origins[path] = index
            self.expanded.update({p: text for p, text in expanded.items() if p[: len(path)] == path})

    def source_of(self, path: KeyPath) -> str:
        """The file that set ``path``, else the last file that set a key under it, or under its parents."""
        for length in range(len(path), -1, -1):
            prefix = path[:length]
            if prefix in self.origins:
                return self.sources[self.origins[prefix]]
            below = [index for p, index in self.origins.items() if p[:length] == prefix]
            if below:
                return self.sources[max(below)]
        return self.sources[-1] if self.sources else "<defaults>"

    def expanded_at(self, path: KeyPath) -> str | None:
        """The text as written (with its ``${VAR}``) of the value at ``path`` or above it, if expanded."""
        for length in range(len(path), 0, -1):
            if path[:length] in self.expanded:
                return self.expanded[path[:length]]
        return None


# -- printing -------------------------------------------------------------------------------------------

MASK = "***"


def masked_yaml(data: dict[str, Any], expanded: Mapping[KeyPath, str]) -> str:
    """``data`` as YAML, each value that came from ``${VAR}`` printed as ``'***'`` with what was written
    (the variable's name) in a comment; ``*_file``/``*_env`` values are references and print as they are."""
    import yaml

    comments: dict[str, str] = {}

    def mask(value: Any, path: KeyPath) -> Any:
        if isinstance(value, dict):
            return {key: mask(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [mask(item, (*path, index)) for index, item in enumerate(value)]
        if path in expanded and not is_reference_key(path):
            token = f"__liveguard_masked_{len(comments)}__"
            comments[token] = " ".join(expanded[path].split())
            return token
        return value

    text = yaml.safe_dump(mask(data, ()), sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    for token, written in comments.items():
        text = text.replace(token, f"'{MASK}'  # {written}", 1)
    return text
