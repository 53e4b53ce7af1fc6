"""Tiny ONNX graphs and packs for model-pack tests (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from dfine_graphs import scripted_detector
from onnx import TensorProto, helper

from edge.files import file_sha256
from edge.runtime import QUALITY_MAX_KEY, QUALITY_MIN_KEY, BatchRange, ModelPack, TensorRTTarget, engine_entry, onnx_entry

DETECTOR_SIZE = 64
QUALITY_SIZE = 32
HERE = TensorRTTarget(version="10.3.0", gpu="Orin", compute_capability="8.7")


def quality_graph(path: Path, low: float = 0.0, high: float = 1.0) -> Path:
    """[N,3,S,S] -> mean of the red channel [N,1], with the range in the metadata."""
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Flatten", ["mean4"], ["quality"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "quality",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, QUALITY_SIZE, QUALITY_SIZE])],
        [helper.make_tensor_value_info("quality", TensorProto.FLOAT, ["N", 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    for key, value in ((QUALITY_MIN_KEY, low), (QUALITY_MAX_KEY, high)):
        model.metadata_props.add(key=key, value=repr(value))
    onnx.save(model, str(path))
    return path


def make_pack(folder: Path, built_for: TensorRTTarget | None = HERE) -> ModelPack:
    """A pack with a detector and a quality ONNX, and one engine of each (fake engine bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    scripted_detector(folder / "detector.onnx", [0, 1], [0.9, 0.8], [[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.6, 0.6]],
                      size=DETECTOR_SIZE)
    quality_graph(folder / "quality.onnx", 0.0, 1.0)
    pack = ModelPack(folder / "manifest.yaml")
    pack.put(onnx_entry(pack, "detector", "detector", folder / "detector.onnx", {"exported_by": "test"}))
    pack.put(onnx_entry(pack, "quality", "quality", folder / "quality.onnx"))
    for name, source in (("detector-trt", "detector"), ("quality-trt", "quality")):
        entry = engine_entry(pack, name, source, batch=BatchRange(min=1, opt=2, max=4))
        if built_for is not None:
            (folder / entry.file).write_bytes(b"not really an engine: " + name.encode())
            entry = entry.model_copy(update={
                "sha256": file_sha256(folder / entry.file),
                "source_sha256": pack.get(source).sha256,
                "tensorrt": built_for,
            })
        pack.put(entry)
    pack.save()
    return pack


def frames(count: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(count)]
