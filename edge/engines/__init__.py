"""The model pack (manifest, sha256 and staleness checks) and TensorRT engine builds on the box.

Nothing here imports TensorRT at import time: :mod:`edge.engines.target` does it lazily.
"""

from edge.engines.manifest import (
    DEFAULT_PACK,
    BatchRange,
    EntryStatus,
    ModelPack,
    PackEntry,
    TensorRTTarget,
    engine_entry,
    file_status,
    onnx_entry,
)

__all__ = [
    "DEFAULT_PACK",
    "BatchRange",
    "EntryStatus",
    "ModelPack",
    "PackEntry",
    "TensorRTTarget",
    "engine_entry",
    "file_status",
    "onnx_entry",
]
