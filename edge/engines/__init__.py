"""Building TensorRT engines on the box from the model pack's ONNX files (``liveguard engines build``).

Running engines, the pack itself and the checks of what this box can run live in
:mod:`edge.runtime`; this package only builds, on top of it. Nothing here imports TensorRT at
import time: :func:`edge.runtime.target.tensorrt` does it when a build starts.
"""

from edge.engines.build import BuildResult, allowed_precisions, build_pack_engine, engines_to_build

__all__ = ["BuildResult", "allowed_precisions", "build_pack_engine", "engines_to_build"]
