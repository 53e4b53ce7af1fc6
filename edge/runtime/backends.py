"""The model runtimes, keyed by the config literal ``Runtime``: adding one touches this table and that Literal.

Each entry names an opener ``(section, role, threads, pack, check) -> OpenedModel``, imported only
when a section asks for it, so TensorRT and the CUDA driver load only when an engine is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from edge.config.models import ModelConfig
from edge.registry import load_backend
from edge.runtime.manifest import Role
from edge.runtime.runner import Check, OpenedModel

T = TypeVar("T")

RUNTIMES = {
    "onnxruntime": "edge.runtime.onnx_session:open_from_config",
    "tensorrt": "edge.runtime.tensorrt_engine:open_from_config",
}


def open_model(
    section: ModelConfig, role: Role, check: Check[T], *, threads: int, pack: Path | None = None
) -> OpenedModel[T]:
    """Open the model ``section`` describes on its runtime, its signature checked by ``check`` first.

    ``role`` is the model's role in the pack (an engine of another role is refused), ``pack`` the
    model pack manifest engines come from. A :class:`edge.errors.ModelError` when it cannot serve.
    """
    opener = load_backend(RUNTIMES, section.runtime, "model runtime")
    return opener(section, role, threads, pack, check)
