"""What every model runtime hands a model: a :class:`Runner`, the model's identity and its signature.

A model (the detector, the quality regressor) never sees which runtime runs it: it checks its own
contract on the :class:`ModelSignature` and then only calls ``runner.run``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import numpy as np

from edge.runtime.graph import GraphTensor
from edge.types import ModelInfo

T = TypeVar("T")


class Runner(Protocol):
    """Runs one graph: an ONNX Runtime session or a TensorRT engine.

    ``run`` takes inputs aligned on axis 0 (any batch size: a graph or engine with a fixed or
    bounded batch is fed in chunks) and returns the outputs named in ``output_names``, in that
    order, one row per input row. ``close`` releases the session or device memory.
    """

    def run(self, output_names: Sequence[str], feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ModelSignature:
    """What a model file declares: its inputs, outputs and metadata; ``path`` names it in errors."""

    path: Path
    inputs: tuple[GraphTensor, ...]
    outputs: tuple[GraphTensor, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)

    def input(self, name: str) -> GraphTensor:
        return next(tensor for tensor in self.inputs if tensor.name == name)


Check = Callable[[ModelSignature], T]
"""A model's contract check: raises :class:`edge.errors.ModelError` or returns what the model needs."""


@dataclass(frozen=True)
class OpenedModel(Generic[T]):
    """A model opened by its runtime: ``contract`` is what the model's check returned."""

    runner: Runner
    model: ModelInfo
    signature: ModelSignature
    contract: T
