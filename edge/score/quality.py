"""The Strategy B quality regressor Q(crop) through ONNX Runtime (paper §3.3.3).

The graph maps ImageNet-normalised RGB crops float32 [N,3,S,S] to a raw score [N,1]; the
min/max that map raw scores to [0, 1] travel in the file's metadata (``QUALITY_MIN_KEY``,
``QUALITY_MAX_KEY``, written by ``export/quality.py``), so no side file is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import onnx

from edge.config.models import DEFAULT_PROVIDERS
from edge.detect.onnx_model import (
    GraphTensor,
    TensorSpec,
    graph_inputs,
    graph_outputs,
    load_onnx,
    model_info,
    open_session,
    run_batched,
    tensor_problems,
)
from edge.detect.providers import select_providers
from edge.errors import ModelError
from edge.types import ModelInfo

QUALITY_MIN_KEY = "liveguard.quality.min"
QUALITY_MAX_KEY = "liveguard.quality.max"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class QualityModel:
    """Predicts the quality of crops in [0, 1] (1 = best for recognition)."""

    def __init__(
        self, path: str | Path, input_size: int = 224, threads: int = 1, providers: Sequence[str] | None = None
    ) -> None:
        path = Path(path)
        graph = load_onnx(path)
        image = _check_signature(path, graph, input_size)
        self.input_size = input_size
        self.raw_min, self.raw_max = read_range(path, graph)
        self._input_name = image.name
        self._input_dtype = np.dtype(image.dtype)
        self._fixed_batch = image.fixed_batch
        self._output_name = graph_outputs(graph)[0].name
        self._session = open_session(path, select_providers(providers or DEFAULT_PROVIDERS), threads)
        self.model: ModelInfo = model_info(path, graph, self._session)

    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Quality of each BGR crop (any size), float32 of shape (N,) in [0, 1]."""
        if not crops:
            return np.zeros((0,), dtype=np.float32)
        blob = preprocess_crops(crops, self.input_size).astype(self._input_dtype, copy=False)
        (raw,) = run_batched(self._session, {self._input_name: blob}, [self._output_name], self._fixed_batch)
        scaled = (raw.reshape(len(crops)).astype(np.float32) - self.raw_min) / (self.raw_max - self.raw_min)
        return np.clip(scaled, 0.0, 1.0)


def create_quality_model(path: str | Path, input_size: int, threads: int) -> QualityModel:
    """The Strategy B regressor in ``path``; :class:`ModelError` when it cannot serve."""
    return QualityModel(path, input_size, threads)


def preprocess_crops(crops: Sequence[np.ndarray], size: int) -> np.ndarray:
    """BGR uint8 crops -> float32 [N,3,size,size]: bilinear resize, RGB, ImageNet mean/std."""
    blob = np.empty((len(crops), size, size, 3), dtype=np.float32)
    for i, crop in enumerate(crops):
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8 or 0 in crop.shape:
            raise ValueError(f"crop {i}: expected a BGR uint8 array (H, W, 3), got {crop.dtype} {crop.shape}")
        blob[i] = cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
    blob = (blob / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(blob.transpose(0, 3, 1, 2), dtype=np.float32)


def read_range(path: Path, graph: onnx.ModelProto) -> tuple[float, float]:
    """The (min, max) of the raw output stored in the metadata, checked to be finite and ordered."""
    props = {prop.key: prop.value for prop in graph.metadata_props}
    bounds = []
    for key in (QUALITY_MIN_KEY, QUALITY_MAX_KEY):
        if key not in props:
            raise ModelError(str(path), f"missing metadata key '{key}' (the raw-score range that maps Q to [0, 1])")
        try:
            value = float(props[key])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ModelError(str(path), f"metadata key '{key}' is not a finite number: {props[key]!r}")
        bounds.append(value)
    low, high = bounds
    if high <= low:
        raise ModelError(str(path), f"metadata range is empty: {QUALITY_MIN_KEY}={low} >= {QUALITY_MAX_KEY}={high}")
    return low, high


def _check_signature(path: Path, graph: onnx.ModelProto, size: int) -> GraphTensor:
    """One image input [N,3,S,S] and a first output [N,1] (any names); returns the input."""
    inputs, outputs = graph_inputs(graph), graph_outputs(graph)
    if len(inputs) != 1 or not outputs:
        raise ModelError(
            str(path),
            "a quality regressor has one input and at least one output, got inputs "
            f"{[t.name for t in inputs]} and outputs {[t.name for t in outputs]}",
        )
    floats = ("float32", "float16")
    problems = tensor_problems("input", inputs[0], TensorSpec(inputs[0].name, floats, ("N", 3, size, size)))
    problems += tensor_problems("output", outputs[0], TensorSpec(outputs[0].name, floats, ("N", 1)))
    if problems:
        raise ModelError(str(path), "does not match the quality-regressor contract: " + "; ".join(problems))
    return inputs[0]
