"""The detector interface the pipeline sees, and the factory that picks its backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.config.models import DetectorConfig
from edge.detect.onnx_dfine import (
    DFineDetector,
    OnnxDFineDetector,
    check_detector_signature,
)
from edge.detect.runtime_choice import open_with_fallback
from edge.types import Detections, ModelInfo


class Detector(Protocol):
    """Finds product boxes in frames.

    ``detect`` takes BGR uint8 frames of any size (sizes may differ within a batch) and returns,
    per frame, the boxes whose label is in ``product_labels`` and whose score is at least the
    threshold, as x1, y1, x2, y2 in that frame's pixels, clipped to it.
    """

    model: ModelInfo

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...


def create_detector(config: DetectorConfig, threads: int, pack: Path | None = None) -> Detector | None:
    """The detector for ``config``; None when no model is configured (whole-frame fallback).

    ``config.runtime`` picks ONNX Runtime (``config.model``) or the TensorRT engine
    ``config.engine`` of the model pack ``pack``, with the ONNX Runtime fallback it allows.
    """
    if config.runtime == "onnxruntime":
        return None if config.model is None else OnnxDFineDetector(config, threads)

    def tensorrt() -> Detector:
        from edge.detect.tensorrt_runtime import open_pack_engine

        engine, _entry, info = open_pack_engine(pack, config.engine, "detector")  # type: ignore[arg-type]
        inputs, outputs = engine.tensors()
        images = check_detector_signature(engine.path, inputs, outputs, config.input_size)
        return DFineDetector(config, engine, info, images.dtype)

    def onnxruntime(source: Path) -> Detector:
        return OnnxDFineDetector(config, threads, source)

    return open_with_fallback(
        "detector.engine", tensorrt, onnxruntime, config.fallback_to_onnxruntime, config.model, pack, config.engine
    )
