"""Build TensorRT engines from the pack's ONNX files with the TensorRT Python API.

Written against TensorRT 10 (JetPack 6: 10.3) and ready for 11:

- an FP16-cast ONNX (``python -m export fp16``) or an explicit Q/DQ INT8 ONNX
  (``python -m export int8``) is built as a *strongly typed* network: the ONNX's own types
  decide each layer's precision, so normalisation kept in FP32 by the export stays FP32, and
  no precision flag is set (TensorRT 11 has none; implicit INT8 calibration is gone there);
- an FP32 ONNX gives an FP32 engine, or on TensorRT 10 an FP16 one through the FP16 builder
  flag, with normalisation, softmax and reduction layers pinned to FP32 (the DETR FP16 trap);
  TensorRT 11 refuses that and asks for the FP16 ONNX instead;
- one optimisation profile covers the entry's batch range; a timing cache beside the
  manifest makes rebuilds fast.

Engines are tied to the GPU and TensorRT version (DESIGN.md): build them on the box.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from pathlib import Path

from edge.errors import ModelError
from edge.files import file_sha256
from edge.runtime.manifest import BatchRange, EntryStatus, ModelPack, PackEntry
from edge.runtime.target import current_target, engine_status, tensorrt

DEFAULT_WORKSPACE_MB = 2048
TIMING_CACHE_NAME = "timing.cache"


@dataclass(frozen=True)
class BuildResult:
    entry: PackEntry
    seconds: float
    strongly_typed: bool


def allowed_precisions(source_precision: str, tensorrt_major: int) -> tuple[str, ...]:
    """Engine precisions a source ONNX of ``source_precision`` can give on that TensorRT."""
    if source_precision == "fp32":
        return ("fp32", "fp16") if tensorrt_major < 11 else ("fp32",)
    return (source_precision,)


def build_engine(
    onnx_path: str | Path,
    engine_path: str | Path,
    *,
    precision: str,
    source_precision: str,
    batch: BatchRange,
    timing_cache: str | Path | None = None,
    workspace_mb: int = DEFAULT_WORKSPACE_MB,
) -> bool:
    """Build ``onnx_path`` into ``engine_path``; returns whether the network was strongly typed."""
    trt = tensorrt()
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    major = int(trt.__version__.split(".")[0])
    allowed = allowed_precisions(source_precision, major)
    if precision not in allowed:
        hint = " (build from the FP16 ONNX: python -m export fp16)" if precision == "fp16" else ""
        raise ModelError(
            str(onnx_path),
            f"a {source_precision} ONNX cannot give a {precision} engine on TensorRT {trt.__version__}; "
            f"allowed: {', '.join(allowed)}{hint}",
        )
    strongly_typed = source_precision != "fp32" or major >= 11
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)] or ["unknown parser error"]
        raise ModelError(str(onnx_path), f"TensorRT cannot parse the ONNX: {errors[0]}")

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
    cache_path = Path(timing_cache) if timing_cache else None
    cache_bytes = cache_path.read_bytes() if cache_path and cache_path.is_file() else b""
    cache = config.create_timing_cache(cache_bytes)
    config.set_timing_cache(cache, False)  # ignore_mismatch=False: a foreign cache is not used
    config.add_optimization_profile(_batch_profile(builder, network, batch, onnx_path))
    if precision == "fp16" and not strongly_typed:
        config.set_flag(trt.BuilderFlag.FP16)
        _pin_normalisation_to_fp32(trt, network, config)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ModelError(str(onnx_path), "TensorRT could not build an engine (see its log above)")
    engine_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = engine_path.with_name(engine_path.name + ".part")
    temporary.write_bytes(memoryview(serialized))
    temporary.replace(engine_path)
    if cache_path is not None:
        cache_path.write_bytes(memoryview(cache.serialize()))
    return strongly_typed


def _batch_profile(builder, network, batch: BatchRange, onnx_path: Path):
    """One profile: every input's dynamic first axis spans the batch range; other axes are fixed."""
    profile = builder.create_optimization_profile()
    for index in range(network.num_inputs):
        tensor = network.get_input(index)
        shape = list(tensor.shape)
        if any(dim < 0 for dim in shape[1:]):
            raise ModelError(
                str(onnx_path), f"input '{tensor.name}' has dynamic dimensions besides the batch: {shape}"
            )
        rest = shape[1:]
        profile.set_shape(tensor.name, [batch.min, *rest], [batch.opt, *rest], [batch.max, *rest])
    return profile


def _pin_normalisation_to_fp32(trt, network, config) -> None:
    """TensorRT 10 FP16 builds: keep LayerNorm, softmax and reductions (decomposed LayerNorm) in FP32."""
    pinned = {trt.LayerType.NORMALIZATION, trt.LayerType.SOFTMAX, trt.LayerType.REDUCE}
    config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        if layer.type in pinned:
            layer.precision = trt.float32
            for output in range(layer.num_outputs):
                layer.set_output_type(output, trt.float32)


def build_pack_engine(
    pack: ModelPack,
    entry: PackEntry,
    *,
    workspace_mb: int = DEFAULT_WORKSPACE_MB,
    timing_cache: str | Path | None = None,
) -> BuildResult:
    """Build one engine entry from its source ONNX and record the build in the pack (not saved)."""
    if entry.format != "tensorrt" or entry.source is None:
        raise ModelError(str(pack.path), f"model '{entry.name}' is not a TensorRT engine entry")
    source = pack.get(entry.source)
    source_path = pack.verify(source)
    engine_path = pack.file_of(entry)
    batch = entry.batch or BatchRange()
    started = time.perf_counter()
    strongly_typed = build_engine(
        source_path,
        engine_path,
        precision=entry.precision,
        source_precision=source.precision,
        batch=batch,
        timing_cache=timing_cache if timing_cache is not None else pack.root / TIMING_CACHE_NAME,
        workspace_mb=workspace_mb,
    )
    seconds = time.perf_counter() - started
    built = entry.model_copy(
        update={
            "sha256": file_sha256(engine_path),
            "source_sha256": source.sha256,
            "tensorrt": current_target(),
            "batch": batch,
            "inputs": source.inputs,
            "outputs": source.outputs,
            "metadata": {**source.metadata, **entry.metadata},
            "provenance": {
                **entry.provenance,
                "built_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "built_by": "liveguard engines build",
                "source_file": source.file,
                "strongly_typed": strongly_typed,
                "workspace_mb": workspace_mb,
                "build_seconds": round(seconds, 1),
            },
        }
    )
    pack.put(PackEntry.model_validate(built.model_dump()))
    return BuildResult(pack.get(entry.name), seconds, strongly_typed)


def engines_to_build(pack: ModelPack, names: list[str] | None = None, force: bool = False) -> list[EntryStatus]:
    """The engine entries (all, or those in ``names``) that are missing, stale or built elsewhere."""
    wanted = [pack.get(name) for name in names] if names else pack.engines()
    out = []
    for entry in wanted:
        if entry.format != "tensorrt":
            raise ModelError(str(pack.path), f"model '{entry.name}' is an ONNX file, not an engine to build")
        status = engine_status(pack, entry)
        if force or not status.usable:
            out.append(status)
    return out
