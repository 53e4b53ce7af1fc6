"""The Strategy B quality regressor Q(crop) (paper §3.3.3), on any runtime of :mod:`edge.runtime`.

The graph maps ImageNet-normalised RGB crops [N,3,S,S] to a raw score [N,1]; the min/max that
map raw scores to [0, 1] travel in the file's metadata (``QUALITY_MIN_KEY``, ``QUALITY_MAX_KEY``,
written by ``export/quality.py``; a TensorRT engine's come from its model pack entry), so no
side file is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.config.models import QualityConfig
from edge.errors import ModelError
from edge.runtime import (
    GraphTensor,
    ModelSignature,
    Runner,
    TensorSpec,
    open_model,
    preprocess_crops,
    read_range,
    tensor_problems,
)
from edge.types import ModelInfo


@dataclass(frozen=True)
class QualityContract:
    """What the regressor needs from its graph: the image input, the score output, the raw range."""

    image: GraphTensor
    output: GraphTensor
    raw_range: tuple[float, float]


class QualityModel:
    """Predicts the quality of crops in [0, 1] (1 = best for recognition).

    ``runner`` runs the graph (the model owns it: :meth:`close` closes it), ``model`` is its
    identity for evidence; :func:`create_quality_regressor` opens both from a config section.
    """

    def __init__(self, runner: Runner, model: ModelInfo, contract: QualityContract, input_size: int = 224) -> None:
        self.input_size = input_size
        self.raw_min, self.raw_max = contract.raw_range
        self.model = model
        self._runner = runner
        self._input_name = contract.image.name
        self._input_dtype = np.dtype(contract.image.dtype)
        self._output_name = contract.output.name

    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Quality of each BGR crop (any size), float32 of shape (N,) in [0, 1]."""
        if not crops:
            return np.zeros((0,), dtype=np.float32)
        blob = preprocess_crops(crops, self.input_size).astype(self._input_dtype, copy=False)
        (raw,) = self._runner.run([self._output_name], {self._input_name: blob})
        scaled = (raw.reshape(len(crops)).astype(np.float32) - self.raw_min) / (self.raw_max - self.raw_min)
        return np.clip(scaled, 0.0, 1.0)

    def close(self) -> None:
        self._runner.close()


def create_quality_regressor(config: QualityConfig, threads: int = 1, pack: Path | None = None) -> QualityModel:
    """The Strategy B regressor ``scoring.quality`` describes (runtime, engine, fallback, providers).

    :class:`ModelError` when it cannot serve.
    """
    if config.runtime == "onnxruntime" and config.model is None:
        raise ModelError(f"{config.section_key}.model", "no quality regressor configured (strategy B needs one)")
    opened = open_model(
        config, "quality", lambda signature: check_quality_signature(signature, config.input_size),
        threads=threads, pack=pack,
    )
    return QualityModel(opened.runner, opened.model, opened.contract, config.input_size)


def check_quality_signature(signature: ModelSignature, size: int) -> QualityContract:
    """One image input [N,3,S,S], a first output [N,1] (any names) and the raw range in the metadata."""
    path, inputs, outputs = signature.path, signature.inputs, signature.outputs
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
    return QualityContract(inputs[0], outputs[0], read_range(path, signature.metadata))
