"""Export the Strategy B quality regressor (paper §3.3.3) to ONNX with its output range.

The graph maps ImageNet-normalised RGB crops float32 [N,3,S,S] to a raw score [N,1]. The
raw-score range that the edge runtime maps to [0, 1] (typically the regressor's min and max
over the training set) is written into the file's metadata, so the model needs no side file.
Training side only.
"""

from __future__ import annotations

import math
from pathlib import Path

import onnx
import torch
from torch import nn

from edge.runtime import QUALITY_MAX_KEY, QUALITY_MIN_KEY
from export import torchscript_onnx_export

DEFAULT_OPSET = 17


def export_quality_regressor(
    model: nn.Module,
    path: str | Path,
    raw_min: float,
    raw_max: float,
    input_size: int = 224,
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Write ``model`` ([N,3,S,S] -> [N,1]) to ``path`` with ``raw_min``/``raw_max`` in its metadata.

    Dynamic batch, input ``images``, output ``quality``. ``model``'s train/eval mode is restored.
    """
    if not (math.isfinite(raw_min) and math.isfinite(raw_max) and raw_max > raw_min):
        raise ValueError(f"need finite raw_min < raw_max, got {raw_min}, {raw_max}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model.eval()
    example = torch.rand(2, 3, input_size, input_size)
    try:
        with torch.no_grad():
            shape = tuple(model(example).shape)
            if shape != (2, 1):
                raise ValueError(f"the regressor must map [N,3,{input_size},{input_size}] to [N,1], got {list(shape)}")
            torchscript_onnx_export(
                model,
                (example,),
                path,
                input_names=["images"],
                output_names=["quality"],
                dynamic_axes={"images": {0: "N"}, "quality": {0: "N"}},
                opset_version=opset,
            )
    finally:
        model.train(was_training)
    write_range(path, raw_min, raw_max)
    return path


def write_range(path: str | Path, raw_min: float, raw_max: float) -> None:
    """Store (or replace) the raw-score range in the metadata of the ONNX file at ``path``."""
    graph = onnx.load(str(path))
    values = {QUALITY_MIN_KEY: repr(float(raw_min)), QUALITY_MAX_KEY: repr(float(raw_max))}
    kept = [prop for prop in graph.metadata_props if prop.key not in values]
    del graph.metadata_props[:]
    graph.metadata_props.extend(kept)
    for key, value in values.items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(path))
