"""Frame scoring (paper §3.3): Baseline, Strategy A and Strategy B."""

from edge.score.frame_score import (
    FrameScorer,
    crop_boxes,
    detection_confidence,
    laplacian_sharpness,
    laplacian_variance,
)
from edge.score.quality import QualityModel, create_quality_regressor

__all__ = [
    "FrameScorer",
    "QualityModel",
    "create_quality_regressor",
    "crop_boxes",
    "detection_confidence",
    "laplacian_sharpness",
    "laplacian_variance",
]
