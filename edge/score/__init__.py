"""Frame scoring (paper §3.3): Baseline, Strategy A and Strategy B."""

from edge.score.frame_score import (
    FrameScorer,
    crop_boxes,
    detection_confidence,
    laplacian_sharpness,
    laplacian_variance,
)

__all__ = ["FrameScorer", "crop_boxes", "detection_confidence", "laplacian_sharpness", "laplacian_variance"]
