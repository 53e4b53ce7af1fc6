"""The detector interface the pipeline sees, and the factory that opens it on its runtime."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.config.models import DetectorConfig
from edge.detect.onnx_dfine import DFineDetector, check_detector_signature, input_side
from edge.runtime import open_model
from edge.types import Detections, ModelInfo


class Detector(Protocol):
    """Finds product boxes in frames.

    ``detect`` takes BGR uint8 frames of any size (sizes may differ within a batch) and returns,
    per frame, the boxes whose label is in ``product_labels`` and whose score is at least the
    threshold, as x1, y1, x2, y2 in that frame's pixels, clipped to it. ``close`` releases the
    model's session or engine.
    """

    model: ModelInfo

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...

    def close(self) -> None: ...


def create_detector(config: DetectorConfig, threads: int, pack: Path | None = None) -> Detector | None:
    """The detector for ``config``; None when no model is configured (whole-frame fallback).

    ``config.runtime`` picks ONNX Runtime (``config.model``) or the TensorRT engine
    ``config.engine`` of the model pack ``pack``, with the ONNX Runtime fallback it allows
    (:func:`edge.runtime.open_model`).
    """
    if config.runtime == "onnxruntime" and config.model is None:
        return None
    opened = open_model(
        config, "detector", lambda signature: check_detector_signature(signature, config.input_size),
        threads=threads, pack=pack,
    )
    side = input_side(opened.signature, config.input_size)
    return DFineDetector(config, opened.runner, opened.model, opened.contract.dtype, side)
