"""LiveGuard's on-device runtime.

The public surface is small: load a configuration, run a clip as one window, the errors it
raises and the names of the documents it writes. Everything else is internal and free to change::

    import edge

    with edge.Pipeline(edge.load_config("site.yaml")) as pipeline:
        outcome = pipeline.run("clip.mp4")   # edge.WindowOutcome: evidence, result, keyframes
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.config import Config, load_config
from edge.errors import ConfigError, FusionError, LiveGuardError, ModelError, SourceError, TransportError

if TYPE_CHECKING:
    from edge.evidence.schema import EVIDENCE_SCHEMA, RESULT_SCHEMA
    from edge.pipeline import Pipeline, WindowOutcome

__version__ = "0.1.0"

__all__ = [
    "EVIDENCE_SCHEMA",
    "RESULT_SCHEMA",
    "Config",
    "ConfigError",
    "FusionError",
    "LiveGuardError",
    "ModelError",
    "Pipeline",
    "SourceError",
    "TransportError",
    "WindowOutcome",
    "__version__",
    "load_config",
]

_LAZY = {
    "Pipeline": "edge.pipeline",
    "WindowOutcome": "edge.pipeline",
    "EVIDENCE_SCHEMA": "edge.evidence.schema",
    "RESULT_SCHEMA": "edge.evidence.schema",
}


def __getattr__(name: str) -> Any:
    """The pipeline and the documents load their stages (OpenCV, PyAV, ONNX Runtime) only when first asked for."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edge' has no attribute {name!r}")
