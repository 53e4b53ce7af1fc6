"""The Strategy B quality regressor Q(crop) through ONNX Runtime (paper §3.3.3).

The graph maps ImageNet-normalised RGB crops float32 [N,3,S,S] to a raw score [N,1]; the
min/max that map raw scores to [0, 1] travel in the file's metadata (``QUALITY_MIN_KEY``,
``QUALITY_MAX_KEY``, written by ``export/quality.py``), so no side file is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import onnx

from edge.config.models import DEFAULT_PROVIDERS, ScoringConfig
from edge.detect.onnx_model import (
    GraphTensor,
    OrtRunner,
    TensorSpec,
    graph_inputs,
    graph_outputs,
    load_onnx,
    model_info,
    open_session,
    tensor_problems,
)
from edge.detect.providers import select_providers
from edge.errors import ModelError
from edge.types import ModelInfo

QUALITY_MIN_KEY = "liveguard.quality.min"
QUALITY_MAX_KEY = "liveguard.quality.max"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class Runner(Protocol):
    """What runs the graph: an ONNX Runtime session wrapper or a TensorRT engine."""

    def run(self, output_names: Sequence[str], feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...


class QualityModel:
    """Predicts the quality of crops in [0, 1] (1 = best for recognition).

    Built from an ONNX file (ONNX Runtime); :meth:`from_runner` takes any runtime, such as a
    TensorRT engine whose range comes from the model pack instead of ONNX metadata.
    """

    def __init__(
        self, path: str | Path, input_size: int = 224, threads: int = 1, providers: Sequence[str] | None = None
    ) -> None:
        path = Path(path)
        graph = load_onnx(path)
        image, output = _check_signature(path, graph, input_size)
        session = open_session(path, select_providers(providers or DEFAULT_PROVIDERS), threads)
        self._setup(
            OrtRunner(session, image.fixed_batch), image, output, read_range(path, graph.metadata_props),
            model_info(path, graph, session), input_size,
        )

    @classmethod
    def from_runner(
        cls,
        runner: Runner,
        inputs: Sequence[GraphTensor],
        outputs: Sequence[GraphTensor],
        metadata: Mapping[str, str],
        model: ModelInfo,
        input_size: int = 224,
    ) -> QualityModel:
        """A regressor on any runtime; ``metadata`` holds the range keys, checked like ONNX metadata."""
        image, output = _check_tensors(Path(model.name), list(inputs), list(outputs), input_size)
        self = cls.__new__(cls)
        self._setup(runner, image, output, read_range(Path(model.name), metadata), model, input_size)
        return self

    def _setup(
        self, runner: Runner, image: GraphTensor, output: GraphTensor, bounds: tuple[float, float],
        model: ModelInfo, input_size: int,
    ) -> None:
        self.input_size = input_size
        self.raw_min, self.raw_max = bounds
        self.model: ModelInfo = model
        self._runner = runner
        self._input_name = image.name
        self._input_dtype = np.dtype(image.dtype)
        self._output_name = output.name

    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Quality of each BGR crop (any size), float32 of shape (N,) in [0, 1]."""
        if not crops:
            return np.zeros((0,), dtype=np.float32)
        blob = preprocess_crops(crops, self.input_size).astype(self._input_dtype, copy=False)
        (raw,) = self._runner.run([self._output_name], {self._input_name: blob})
        scaled = (raw.reshape(len(crops)).astype(np.float32) - self.raw_min) / (self.raw_max - self.raw_min)
        return np.clip(scaled, 0.0, 1.0)


def create_quality_model(
    path: str | Path | ScoringConfig | None, input_size: int = 224, threads: int = 1, pack: Path | None = None
) -> QualityModel:
    """The Strategy B regressor: an ONNX ``path``, or as ``ScoringConfig`` says (runtime, engine, fallback).

    :class:`ModelError` when it cannot serve.
    """
    if not isinstance(path, ScoringConfig):
        if path is None:
            raise ValueError("create_quality_model needs a path or a ScoringConfig")
        return QualityModel(path, input_size, threads)
    config = path
    if config.quality_runtime == "onnxruntime":
        if config.quality_model is None:
            raise ModelError("scoring.quality_model", "no quality regressor configured (strategy B needs one)")
        return QualityModel(config.quality_model, config.quality_input_size, threads)
    from edge.detect.runtime_choice import open_with_fallback

    def tensorrt() -> QualityModel:
        from edge.detect.tensorrt_runtime import open_pack_engine

        engine, entry, info = open_pack_engine(pack, config.quality_engine, "quality")  # type: ignore[arg-type]
        inputs, outputs = engine.tensors()
        return QualityModel.from_runner(engine, inputs, outputs, entry.metadata, info, config.quality_input_size)

    def onnxruntime(source: Path) -> QualityModel:
        return QualityModel(source, config.quality_input_size, threads)

    return open_with_fallback(
        "scoring.quality_engine", tensorrt, onnxruntime, config.quality_fallback_to_onnxruntime,
        config.quality_model, pack, config.quality_engine,
    )


def preprocess_crops(crops: Sequence[np.ndarray], size: int) -> np.ndarray:
    """BGR uint8 crops -> float32 [N,3,size,size]: bilinear resize, RGB, ImageNet mean/std."""
    blob = np.empty((len(crops), size, size, 3), dtype=np.float32)
    for i, crop in enumerate(crops):
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8 or 0 in crop.shape:
            raise ValueError(f"crop {i}: expected a BGR uint8 array (H, W, 3), got {crop.dtype} {crop.shape}")
        blob[i] = cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
    blob = (blob / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(blob.transpose(0, 3, 1, 2), dtype=np.float32)


def read_range(path: Path, metadata: Mapping[str, str] | Iterable[onnx.StringStringEntryProto]) -> tuple[float, float]:
    """The (min, max) of the raw output stored in the metadata, checked to be finite and ordered.

    ``metadata`` is an ONNX graph's ``metadata_props`` or a mapping (a model pack entry's).
    """
    props = dict(metadata) if isinstance(metadata, Mapping) else {prop.key: prop.value for prop in metadata}
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


def _check_signature(path: Path, graph: onnx.ModelProto, size: int) -> tuple[GraphTensor, GraphTensor]:
    return _check_tensors(path, graph_inputs(graph), graph_outputs(graph), size)


def _check_tensors(
    path: Path, inputs: list[GraphTensor], outputs: list[GraphTensor], size: int
) -> tuple[GraphTensor, GraphTensor]:
    """One image input [N,3,S,S] and a first output [N,1] (any names); returns both."""
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
    return inputs[0], outputs[0]
