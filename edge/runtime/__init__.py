"""Model execution: ONNX graphs, the model pack, and the runtimes that run a model (ONNX Runtime, TensorRT).

The one place that opens and runs models. :func:`open_model` opens the model a config section
(:class:`edge.config.ModelConfig`) describes on its runtime and hands back a :class:`Runner`, the
model's identity and its signature; the detector and the quality regressor check their contract on
that signature and only call ``runner.run``. TensorRT and the CUDA driver load only when an engine
is opened.

``__all__`` is also the contract ``export/`` and ``tools/`` build on: they import from here (and
:mod:`edge.engines`, :mod:`edge.errors`), never from the modules behind it.
"""

from edge.runtime.backends import RUNTIMES, open_model
from edge.runtime.contracts import (
    DFINE_INPUT_NAMES,
    DFINE_OUTPUT_NAMES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    QUALITY_MAX_KEY,
    QUALITY_MIN_KEY,
    crop_xyxy,
    preprocess_crops,
    preprocess_frames,
    read_range,
)
from edge.runtime.graph import (
    GraphTensor,
    TensorSpec,
    graph_inputs,
    graph_metadata,
    graph_outputs,
    graph_precision,
    load_onnx,
    signature_problems,
    tensor_problems,
)
from edge.runtime.manifest import (
    DEFAULT_PACK,
    BatchRange,
    EntryStatus,
    ModelPack,
    PackEntry,
    Role,
    TensorRTTarget,
    engine_entry,
    file_status,
    onnx_entry,
)
from edge.runtime.onnx_session import select_providers
from edge.runtime.runner import ModelSignature, OpenedModel, Runner
from edge.runtime.target import NEEDS, current_target, engine_status, tensorrt_available

__all__ = [
    "BatchRange",
    "DEFAULT_PACK",
    "DFINE_INPUT_NAMES",
    "DFINE_OUTPUT_NAMES",
    "EntryStatus",
    "GraphTensor",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ModelPack",
    "ModelSignature",
    "NEEDS",
    "OpenedModel",
    "PackEntry",
    "QUALITY_MAX_KEY",
    "QUALITY_MIN_KEY",
    "RUNTIMES",
    "Role",
    "Runner",
    "TensorRTTarget",
    "TensorSpec",
    "crop_xyxy",
    "current_target",
    "engine_entry",
    "engine_status",
    "file_status",
    "graph_inputs",
    "graph_metadata",
    "graph_outputs",
    "graph_precision",
    "load_onnx",
    "onnx_entry",
    "open_model",
    "preprocess_crops",
    "preprocess_frames",
    "read_range",
    "select_providers",
    "signature_problems",
    "tensor_problems",
    "tensorrt_available",
]
