"""Per-frame composite scores, exactly as paper §3.3 defines them.

Strategy A: ``S = w_d·C_d + w_s·C_s`` with ``C_s = mean over ROIs of min(Var(Laplacian(ROI))/500, 1)``.
Strategy B: ``S = w_d·C_d + w_q·Q`` with ``Q`` the learned quality of the ROI crops.
Without any ROI both fall back to the whole frame; ``C_d`` is then 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from edge.config.models import ScoringConfig
from edge.runtime.contracts import crop_xyxy
from edge.types import Detections, Frame, FrameScore


class QualityPredictor(Protocol):
    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray: ...


def laplacian_variance(image: np.ndarray) -> float:
    """Var(∇²I) of the grey image, 3×3 Laplacian aperture, OpenCV's reflect-101 border."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def laplacian_sharpness(image: np.ndarray, norm: float = 500.0) -> float:
    """C_s of one region: ``min(Var(Laplacian) / norm, 1)`` (paper §3.3.2, norm = 500)."""
    return min(laplacian_variance(image) / norm, 1.0)


def detection_confidence(detections: Detections) -> float:
    """C_d: the arithmetic mean of the product boxes' confidences, 0 without boxes."""
    return float(np.mean(detections.confidence)) if len(detections) else 0.0


def crop_boxes(image: np.ndarray, detections: Detections) -> list[np.ndarray]:
    """The ROI crops of ``detections`` (rounded outward, clipped, at least 1×1 pixel; shared with training)."""
    return crop_xyxy(image, detections.xyxy)


class FrameScorer:
    """Maps (frame, product detections) to a :class:`FrameScore` for the configured strategy.

    The Baseline strategy still gets Strategy A's components, for traceability; its selection
    ignores them.
    """

    def __init__(self, config: ScoringConfig, quality: QualityPredictor | None = None) -> None:
        if config.strategy == "B" and quality is None:
            raise ValueError("Strategy B needs a quality model")
        self.config = config
        self.quality = quality

    def score(self, frame: Frame, detections: Detections) -> FrameScore:
        cfg = self.config
        rois = crop_boxes(frame.image, detections) if len(detections) else [frame.image]
        c_d = detection_confidence(detections)
        if cfg.strategy == "B":
            q = float(np.mean(self.quality.predict(rois)))  # type: ignore[union-attr]
            total, sharpness, quality = cfg.w_d * c_d + cfg.w_q * q, None, q
        else:
            c_s = float(np.mean([laplacian_sharpness(roi, cfg.laplacian_norm) for roi in rois]))
            total, sharpness, quality = cfg.w_d * c_d + cfg.w_s * c_s, c_s, None
        return FrameScore(
            index=frame.index,
            pts=frame.pts,
            total=total,
            detection=c_d,
            sharpness=sharpness,
            quality=quality,
            roi_count=len(detections),
            whole_frame=not len(detections),
        )
