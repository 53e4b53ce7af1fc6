"""Choosing a model's runtime: a TensorRT engine from the model pack, or ONNX Runtime as fallback.

Shared by the detector and the quality regressor. The TensorRT path is tried first when the
config asks for it; if the engine cannot serve on this box (TensorRT missing, no GPU, an
engine built for another GPU or TensorRT version, a stale engine) the error is raised as it
is, or, with fallback enabled, logged as a warning and the ONNX file runs on ONNX Runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from edge.errors import ModelError

log = logging.getLogger("liveguard.models")
T = TypeVar("T")


def open_with_fallback(
    key: str,
    tensorrt: Callable[[], T],
    onnxruntime: Callable[[Path], T],
    fallback: bool,
    onnx_path: Path | None,
    pack: Path | None,
    engine: str | None,
) -> T:
    """``tensorrt()``, or ``onnxruntime(onnx)`` when that fails and ``fallback`` is set.

    ``onnx`` is ``onnx_path`` when configured, else the engine's source ONNX in the pack.
    ``key`` names the config key in messages.
    """
    if pack is None or engine is None:
        raise ModelError(key, "runtime tensorrt needs models.pack and an engine name")
    try:
        return tensorrt()
    except Exception as error:  # TensorRT and the driver raise their own kinds too
        if not fallback:
            if isinstance(error, ModelError):
                raise
            raise ModelError(key, f"TensorRT engine '{engine}' failed to load: {error}") from error
        from edge.detect.tensorrt_runtime import source_onnx

        source = onnx_path if onnx_path is not None else source_onnx(pack, engine)
        log.warning("%s; falling back to ONNX Runtime with %s", error, source)
        return onnxruntime(source)
