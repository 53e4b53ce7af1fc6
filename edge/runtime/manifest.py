"""The model pack: a YAML manifest naming every model file the edge loads, with its identity.

Each entry gives a name, a role (detector or quality), a file relative to the manifest, the
file's sha256, its precision, its input/output signature and where it came from. A TensorRT
entry also names the ONNX entry it is built from and, once built, the TensorRT version, GPU
and compute capability it was built for and the sha256 of that ONNX, so that a changed source
or another box is noticed before the engine is used. ``export/`` writes ONNX entries;
``liveguard engines build`` fills in engine entries on the box.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.errors import ModelError
from edge.files import file_sha256
from edge.runtime.graph import GraphTensor, graph_inputs, graph_outputs, graph_precision, load_onnx
from edge.validation import describe_validation_error
from edge.yamlfile import read_yaml

PACK_FORMAT = "liveguard.modelpack/1"
DEFAULT_PACK = Path("engines/manifest.yaml")

Role = Literal["detector", "quality"]
Precision = Literal["fp32", "fp16", "int8"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TensorSignature(_Strict):
    """One input or output: a string dimension (``N``) is dynamic, an integer fixed."""

    name: str = Field(min_length=1)
    dtype: str = Field(min_length=1, description="numpy dtype name: float32, float16, int64, ...")
    shape: list[int | str]


class BatchRange(_Strict):
    """The optimisation profile's batch range of an engine (min <= opt <= max)."""

    min: int = Field(1, ge=1)
    opt: int = Field(4, ge=1)
    max: int = Field(8, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> BatchRange:
        if not self.min <= self.opt <= self.max:
            raise ValueError(f"need min <= opt <= max, got {self.min}, {self.opt}, {self.max}")
        return self


class TensorRTTarget(_Strict):
    """What an engine is tied to: the TensorRT version and the GPU it was built on."""

    version: str = Field(min_length=1)
    gpu: str = Field(min_length=1, description="GPU name as the CUDA driver reports it")
    compute_capability: str = Field(pattern=r"^\d+\.\d+$")

    def describe(self) -> str:
        return f"TensorRT {self.version} on {self.gpu} (compute capability {self.compute_capability})"


class PackEntry(_Strict):
    """One model of the pack."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    role: Role
    format: Literal["onnx", "tensorrt"]
    file: str = Field(min_length=1, description="path relative to the manifest's folder")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="None: an engine not built yet")
    precision: Precision
    inputs: list[TensorSignature] = Field(default_factory=list)
    outputs: list[TensorSignature] = Field(default_factory=list)
    metadata: dict[str, str] = Field(
        default_factory=dict, description="model metadata the runtime needs (the quality range), copied to engines"
    )
    provenance: dict[str, Any] = Field(default_factory=dict, description="who made it, from what, when")
    # TensorRT engines only
    source: str | None = Field(None, description="name of the ONNX entry the engine is built from")
    batch: BatchRange | None = None
    source_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    tensorrt: TensorRTTarget | None = None

    @model_validator(mode="after")
    def _engine_fields(self) -> PackEntry:
        if self.format == "tensorrt":
            if self.source is None:
                raise ValueError("a tensorrt entry needs 'source', the name of its ONNX entry")
        elif any(v is not None for v in (self.source, self.batch, self.source_sha256, self.tensorrt)):
            raise ValueError("source, batch, source_sha256 and tensorrt belong to tensorrt entries only")
        elif self.sha256 is None:
            raise ValueError("an onnx entry needs its sha256")
        return self


class _PackFile(_Strict):
    format: Literal["liveguard.modelpack/1"] = PACK_FORMAT
    models: list[PackEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_and_sources(self) -> _PackFile:
        names = [entry.name for entry in self.models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate model names {duplicates}")
        by_name = {entry.name: entry for entry in self.models}
        for entry in self.models:
            if entry.source is None:
                continue
            source = by_name.get(entry.source)
            if source is None or source.format != "onnx":
                raise ValueError(f"model '{entry.name}': source '{entry.source}' is not an onnx entry of this pack")
            if source.role != entry.role:
                raise ValueError(f"model '{entry.name}': role {entry.role} differs from its source's ({source.role})")
        return self


@dataclass(frozen=True)
class EntryStatus:
    """Whether an entry can be used as it is: ``state`` is ok, missing, stale or foreign."""

    name: str
    state: Literal["ok", "missing", "stale", "foreign"]
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.state == "ok"


class ModelPack:
    """A parsed manifest; entry files resolve relative to its folder."""

    def __init__(self, path: str | Path, entries: Iterable[PackEntry] = ()) -> None:
        self.path = Path(path)
        self.entries: list[PackEntry] = list(entries)

    @property
    def root(self) -> Path:
        return self.path.parent

    @classmethod
    def load(cls, path: str | Path) -> ModelPack:
        path = Path(path)
        data = read_yaml(path, ModelError, "model pack manifest") or {}
        try:
            parsed = _PackFile.model_validate(data)
        except ValidationError as error:
            raise ModelError(str(path), _describe(error, data)) from None
        return cls(path, parsed.models)

    @classmethod
    def load_or_new(cls, path: str | Path) -> ModelPack:
        """The pack at ``path``, or an empty one that :meth:`save` will create."""
        return cls.load(path) if Path(path).exists() else cls(path)

    def save(self) -> None:
        """Write the manifest atomically (validated first, so a bad entry never lands on disk)."""
        document = _PackFile(models=self.entries).model_dump(mode="json", exclude_none=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "# LiveGuard model pack (liveguard.modelpack/1): every model the edge loads, with its identity.\n"
            "# Written by `python -m export ...` and `liveguard engines build`; files are relative to this folder.\n"
        )
        body = yaml.dump(document, Dumper=_ManifestDumper, sort_keys=False, allow_unicode=True, width=120)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".manifest-", suffix=".yaml")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(header + body)
        os.replace(temporary, self.path)

    def get(self, name: str) -> PackEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        known = ", ".join(entry.name for entry in self.entries) or "none"
        raise ModelError(str(self.path), f"no model named '{name}' in the pack (it has: {known})")

    def put(self, entry: PackEntry) -> None:
        """Add ``entry``, or replace the entry of the same name; checked like a loaded pack."""
        entries = [e for e in self.entries if e.name != entry.name]
        index = next((i for i, e in enumerate(self.entries) if e.name == entry.name), len(entries))
        entries.insert(index, entry)
        try:
            _PackFile(models=entries)
        except ValidationError as error:
            raise ModelError(str(self.path), _describe(error, None)) from None
        self.entries = entries

    def file_of(self, entry: PackEntry) -> Path:
        return self.root / entry.file

    def engines(self) -> list[PackEntry]:
        return [entry for entry in self.entries if entry.format == "tensorrt"]

    def verify(self, entry: PackEntry) -> Path:
        """The entry's file, after checking that it exists and has the recorded sha256."""
        path = self.file_of(entry)
        status = file_status(self, entry)
        if not status.usable:
            raise ModelError(str(path), f"model '{entry.name}' of {self.path}: {status.reason}")
        return path


def file_status(pack: ModelPack, entry: PackEntry) -> EntryStatus:
    """ok when the file exists with the recorded sha256; for engines also the source is unchanged.

    Whether an engine fits this box (TensorRT version, GPU) is :func:`edge.runtime.target.engine_status`'s
    business: this check needs neither TensorRT nor a GPU.
    """
    path = pack.file_of(entry)
    if entry.sha256 is None:
        return EntryStatus(entry.name, "missing", "not built yet")
    if not path.is_file():
        return EntryStatus(entry.name, "missing", f"file {entry.file} not found")
    actual = file_sha256(path)
    if actual != entry.sha256:
        return EntryStatus(
            entry.name, "stale", f"sha256 of {entry.file} is {actual[:12]}…, the manifest says {entry.sha256[:12]}…"
        )
    if entry.source is not None:
        source = pack.get(entry.source)
        if source.sha256 != entry.source_sha256:
            recorded = (entry.source_sha256 or "none")[:12]
            return EntryStatus(
                entry.name,
                "stale",
                f"built from {source.file} with sha256 {recorded}…, which is now {(source.sha256 or '?')[:12]}…",
            )
    return EntryStatus(entry.name, "ok")


class _ManifestDumper(yaml.SafeDumper):
    """Lists of scalars (shapes) on one line; everything else in block style."""


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
    flow = all(isinstance(item, (int, float, str)) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_ManifestDumper.add_representer(list, _represent_list)


def signature_of(tensors: Iterable[GraphTensor]) -> list[TensorSignature]:
    """Manifest signatures from graph tensors (unknown dims -> '?')."""
    out = []
    for tensor in tensors:
        shape = [("?" if dim is None else dim) for dim in (tensor.shape or ())]
        out.append(TensorSignature(name=tensor.name, dtype=tensor.dtype, shape=shape))
    return out


def _describe(error: ValidationError, data: Any) -> str:
    """One line naming the entry by index and name: ``models[2] (detector-trt).batch: ...``."""

    def key_path(loc: Sequence[Any]) -> list[str]:
        loc = list(loc)
        where = []
        if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
            name = None
            if isinstance(data, dict) and isinstance(data.get("models"), list) and loc[1] < len(data["models"]):
                item = data["models"][loc[1]]
                name = item.get("name") if isinstance(item, dict) else None
            where.append(f"models[{loc[1]}]" + (f" ({name})" if name else ""))
            loc = loc[2:]
        return where + [str(part) for part in loc]

    return describe_validation_error(error, key_path, show_value=False)


def onnx_entry(
    pack: ModelPack, name: str, role: Role, path: str | Path, provenance: dict[str, Any] | None = None
) -> PackEntry:
    """An entry describing the ONNX file at ``path`` (which must lie under the pack's folder).

    Signature, precision, sha256 and the metadata the runtime needs are read from the file.
    """
    path = Path(path)
    try:
        relative = path.resolve().relative_to(pack.root.resolve())
    except ValueError:
        raise ModelError(str(path), f"must lie under the pack's folder {pack.root} to be listed in {pack.path}") from None
    graph = load_onnx(path)
    metadata = {prop.key: prop.value for prop in graph.metadata_props if prop.key.startswith("liveguard.")}
    return PackEntry(
        name=name,
        role=role,
        format="onnx",
        file=relative.as_posix(),
        sha256=file_sha256(path),
        precision=graph_precision(graph),  # type: ignore[arg-type]
        inputs=signature_of(graph_inputs(graph)),
        outputs=signature_of(graph_outputs(graph)),
        metadata=metadata,
        provenance=dict(provenance or {}),
    )


def engine_entry(
    pack: ModelPack,
    name: str,
    source: str,
    precision: str | None = None,
    batch: BatchRange | None = None,
    file: str | None = None,
) -> PackEntry:
    """An engine to be built on the box from the ONNX entry ``source`` (default: same precision)."""
    origin = pack.get(source)
    if origin.format != "onnx":
        raise ModelError(str(pack.path), f"source '{source}' of engine '{name}' is not an ONNX entry")
    return PackEntry(
        name=name,
        role=origin.role,
        format="tensorrt",
        file=file or f"{name}.engine",
        precision=precision or origin.precision,  # type: ignore[arg-type]
        inputs=origin.inputs,
        outputs=origin.outputs,
        metadata=origin.metadata,
        source=source,
        batch=batch or BatchRange(),
    )
