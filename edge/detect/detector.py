"""The detector interface the pipeline sees, and the factory that picks its backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from edge.config.models import DetectorConfig
from edge.detect.onnx_dfine import OnnxDFineDetector
from edge.types import Detections, ModelInfo


class Detector(Protocol):
    """Finds product boxes in frames.

    ``detect`` takes BGR uint8 frames of any size (sizes may differ within a batch) and returns,
    per frame, the boxes whose label is in ``product_labels`` and whose score is at least the
    threshold, as x1, y1, x2, y2 in that frame's pixels, clipped to it.
    """

    model: ModelInfo

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...


def create_detector(config: DetectorConfig, threads: int) -> Detector | None:
    """The detector for ``config``; None when no model is configured (whole-frame fallback)."""
    if config.model is None:
        return None
    return OnnxDFineDetector(config, threads)
