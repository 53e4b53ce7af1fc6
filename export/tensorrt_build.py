"""TensorRT engines from the pack's ONNX files, on a workstation with a GPU or on the box.

The builder itself lives in :mod:`edge.engines.build` because the box rebuilds engines too
(``liveguard engines build``) and ``edge/`` never imports ``export/``; this module declares an
engine in the pack and builds it there. TensorRT 10 and 11 differences: see that module.
"""

from __future__ import annotations

from pathlib import Path

from edge.engines import BuildResult, build_pack_engine
from edge.runtime import BatchRange, ModelPack, engine_entry


def declare_engine(
    pack_path: str | Path, name: str, source: str, precision: str | None = None, batch: BatchRange | None = None
) -> ModelPack:
    """Add (or replace) the engine entry ``name`` built from ONNX entry ``source``; saves the pack."""
    pack = ModelPack.load(pack_path)
    pack.put(engine_entry(pack, name, source, precision, batch))
    pack.save()
    return pack


def build_declared(pack_path: str | Path, name: str, workspace_mb: int = 2048) -> BuildResult:
    """Build the engine entry ``name`` now (needs an NVIDIA GPU and TensorRT) and record it."""
    pack = ModelPack.load(pack_path)
    result = build_pack_engine(pack, pack.get(name), workspace_mb=workspace_mb)
    pack.save()
    return result
