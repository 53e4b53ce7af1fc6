"""ONNX Runtime: execution providers, sessions, the runner over a session, and the model's identity.

The ``onnxruntime`` runtime of :data:`edge.runtime.backends.RUNTIMES`: :func:`open_onnxruntime` loads an
ONNX file, lets the model check its signature, then opens the session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import onnx
import onnxruntime as ort

from edge import bundled
from edge.config.models import ModelConfig
from edge.errors import ModelError
from edge.files import file_sha256
from edge.runtime.graph import (
    GraphTensor,
    first_line,
    graph_inputs,
    graph_metadata,
    graph_outputs,
    graph_precision,
    load_onnx,
)
from edge.runtime.runner import Check, ModelSignature, OpenedModel
from edge.types import ModelInfo

if TYPE_CHECKING:
    from edge.runtime.manifest import Role

CPU_PROVIDER = "CPUExecutionProvider"
T = TypeVar("T")


def select_providers(preferred: Sequence[str]) -> list[str]:
    """The available providers among ``preferred``, in its order, always ending with the CPU one.

    Unknown or unavailable names (TensorRT on a CPU box, a typo) are dropped rather than handed
    to ONNX Runtime, which would warn and fall back on its own terms.
    """
    available = set(ort.get_available_providers())
    chosen = [name for name in dict.fromkeys(preferred) if name in available and name != CPU_PROVIDER]
    return [*chosen, CPU_PROVIDER]


def open_session(path: str | Path, providers: Sequence[str], threads: int) -> ort.InferenceSession:
    """An ONNX Runtime session with ``threads`` intra-op threads on the first usable provider."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=list(providers))
    except Exception as error:
        raise ModelError(str(path), f"ONNX Runtime cannot load the graph: {first_line(error)}") from error


def model_info(path: str | Path, model: onnx.ModelProto, session: ort.InferenceSession) -> ModelInfo:
    """The identity recorded in evidence: file name, sha256, precision, provider actually used."""
    return ModelInfo(
        name=Path(path).name,
        sha256=file_sha256(path),
        precision=graph_precision(model),
        provider=session.get_providers()[0],
    )


def fixed_batch(inputs: Sequence[GraphTensor]) -> int | None:
    """The batch size the graph fixes on its inputs' first axis, or None (dynamic batch)."""
    return next((tensor.fixed_batch for tensor in inputs if tensor.fixed_batch is not None), None)


def run_batched(
    session: ort.InferenceSession,
    feeds: Mapping[str, np.ndarray],
    output_names: Sequence[str],
    fixed_batch: int | None,
) -> list[np.ndarray]:
    """Run ``feeds`` (aligned on axis 0) in one call, or in chunks when the graph fixes the batch.

    A short last chunk is padded by repeating its last item; the padding's outputs are dropped.
    """
    if fixed_batch is None:
        return session.run(list(output_names), dict(feeds))
    total = len(next(iter(feeds.values())))
    parts: list[list[np.ndarray]] = []
    for start in range(0, total, fixed_batch):
        chunk = {name: _padded(array[start : start + fixed_batch], fixed_batch) for name, array in feeds.items()}
        count = min(fixed_batch, total - start)
        parts.append([out[:count] for out in session.run(list(output_names), chunk)])
    return [np.concatenate(outs) for outs in zip(*parts)]


class OrtRunner:
    """An ONNX Runtime session behind the ``run(output_names, feeds)`` shape the models use.

    A graph with a fixed batch is fed in chunks of that size (see :func:`run_batched`).
    """

    def __init__(self, session: ort.InferenceSession, fixed_batch: int | None) -> None:
        self.session: ort.InferenceSession | None = session
        self.fixed_batch = fixed_batch

    def run(self, output_names: Sequence[str], feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        if self.session is None:
            raise RuntimeError("the ONNX Runtime session is closed")
        return run_batched(self.session, feeds, output_names, self.fixed_batch)

    def close(self) -> None:
        """Drop the session (ONNX Runtime frees it with its last reference)."""
        self.session = None


def open_onnxruntime(path: Path, providers: Sequence[str], threads: int, check: Check[T]) -> OpenedModel[T]:
    """Load the ONNX file ``path``, ``check`` its signature, then open it on the first usable provider.

    The signature is checked before the session opens: a graph that breaks the model's contract
    is refused with that difference, not with whatever ONNX Runtime makes of it.
    """
    path = bundled.resolve(path)
    graph = load_onnx(path)
    signature = ModelSignature(path, tuple(graph_inputs(graph)), tuple(graph_outputs(graph)), graph_metadata(graph))
    contract = check(signature)
    session = open_session(path, select_providers(providers), threads)
    runner = OrtRunner(session, fixed_batch(signature.inputs))
    return OpenedModel(runner, model_info(path, graph, session), signature, contract)


def open_from_config(
    section: ModelConfig, role: Role, threads: int, pack: Path | None, check: Check[T]
) -> OpenedModel[T]:
    """Runtime ``onnxruntime``: the section's ONNX file on its providers (``role`` and ``pack`` unused)."""
    if section.model is None:
        raise ModelError(f"{section.section_key}.model", "no ONNX file configured (runtime onnxruntime)")
    return open_onnxruntime(section.model, section.providers, threads, check)


def _padded(array: np.ndarray, size: int) -> np.ndarray:
    missing = size - len(array)
    return array if missing == 0 else np.concatenate([array, np.repeat(array[-1:], missing, axis=0)])
