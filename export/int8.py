"""INT8 variants by static Q/DQ quantisation (ONNX Runtime ``quantize_static``) over calibration frames.

Two targets:

- ``tensorrt`` (default): symmetric INT8 activations and per-channel symmetric INT8 weights in
  explicit QuantizeLinear/DequantizeLinear pairs: what TensorRT builds as an explicitly
  quantised engine (TensorRT 11 has no other INT8 path; DESIGN.md). On an x86 CPU, ONNX
  Runtime runs such a graph at about FP32 speed (no fast signed×signed kernels).
- ``cpu``: asymmetric UINT8 activations (ONNX Runtime's fast u8×s8 kernels on x86 with
  AVX2/VNNI), for CPU-only boxes. TensorRT refuses non-zero zero points: not for engines.

Only Conv, MatMul and Gemm are quantised (the bulk of the compute); a detector's
post-processing (sigmoid, top-K, box scaling) stays FP32. Calibration takes frames prepared
as the edge prepares them (:mod:`export.frames`), MinMax ranges by default.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from export.fp16 import detector_postprocess_nodes
from export.frames import batches, detector_feeds, quality_feeds, read_images
from export.simplify import check_and_simplify

QUANTISED_OPS = ("Conv", "MatMul", "Gemm")
TARGETS = ("tensorrt", "cpu")
CALIBRATION_METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "entropy": CalibrationMethod.Entropy,
    "percentile": CalibrationMethod.Percentile,
}


class FrameCalibrationReader(CalibrationDataReader):
    """Feeds calibration batches of frames (detector) or crops (quality regressor) to ``quantize_static``.

    ``role`` is "detector" (frames resized to ``size``, plus their (w, h)) or "quality"
    (crops resized to ``size``, ImageNet-normalised, fed to ``input_name``).
    """

    def __init__(
        self, images: Sequence[np.ndarray], role: str, size: int, batch_size: int = 4, input_name: str = "images"
    ) -> None:
        if role not in ("detector", "quality"):
            raise ValueError(f"role must be detector or quality, got {role!r}")
        if not images:
            raise ValueError("calibration needs at least one image")
        self.count = len(images)
        self._feeds = [
            detector_feeds(chunk, size) if role == "detector" else quality_feeds(chunk, size, input_name)
            for chunk in batches(images, batch_size)
        ]
        self._next = 0

    @classmethod
    def from_folder(
        cls, folder: str | Path, role: str, size: int, limit: int | None = 64, batch_size: int = 4,
        input_name: str = "images",
    ) -> FrameCalibrationReader:
        return cls(read_images(folder, limit), role, size, batch_size, input_name)

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._next >= len(self._feeds):
            return None
        self._next += 1
        return self._feeds[self._next - 1]

    def rewind(self) -> None:
        self._next = 0


def quantize_int8(
    src: str | Path,
    dst: str | Path,
    reader: CalibrationDataReader,
    target: str = "tensorrt",
    method: str = "minmax",
) -> Path:
    """Write the static Q/DQ INT8 version of the FP32 ONNX ``src`` to ``dst`` (metadata kept)."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"method must be one of {sorted(CALIBRATION_METHODS)}, got {method!r}")
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(src))
    metadata = [(prop.key, prop.value) for prop in model.metadata_props]
    symmetric = target == "tensorrt"
    with tempfile.TemporaryDirectory(prefix="liveguard-int8-") as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        # ONNX shape inference and ORT's basic graph optimisation; symbolic shape inference
        # gives up on D-FINE's data-dependent shapes and is not needed for Conv/MatMul.
        quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
        graph = onnx.load(str(prepared))
        exclude = detector_postprocess_nodes(graph) + _vector_products(graph)
        quantize_static(
            str(prepared),
            str(dst),
            reader,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QInt8 if symmetric else QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=list(QUANTISED_OPS),
            nodes_to_exclude=exclude,
            calibrate_method=CALIBRATION_METHODS[method],
            extra_options={"ActivationSymmetric": symmetric, "WeightSymmetric": True},
        )
    quantised = onnx.load(str(dst))
    del quantised.metadata_props[:]
    for key, value in metadata:
        quantised.metadata_props.add(key=key, value=value)
    onnx.save(quantised, str(dst))
    return check_and_simplify(dst, simplify=False)


def _vector_products(model: onnx.ModelProto) -> list[str]:
    """MatMul/Gemm nodes whose weight is a vector, such as D-FINE's bin integral (box distances):
    quantising it costs box precision for no speed, and per-channel quantisation has no axis there."""
    ranks = {init.name: len(init.dims) for init in model.graph.initializer}
    return [
        node.name for node in model.graph.node
        if node.op_type in ("MatMul", "Gemm") and len(node.input) > 1 and ranks.get(node.input[1], 2) < 2
    ]
