"""Paper §3.3 formulas checked against values computed by hand."""

import numpy as np
import pytest

from edge.config import QualityConfig, ScoringConfig
from edge.score import FrameScorer, detection_confidence, laplacian_sharpness, laplacian_variance
from edge.types import Detections, Frame


def dot_image(size: int = 5, value: int = 10) -> np.ndarray:
    """A black square with one bright pixel in the middle (grey, uint8)."""
    image = np.zeros((size, size), np.uint8)
    image[size // 2, size // 2] = value
    return image


def dets(boxes, confidences) -> Detections:
    return Detections(
        np.array(boxes, np.float32).reshape(-1, 4),
        np.array(confidences, np.float32),
        np.zeros(len(confidences), np.int64),
    )


def bgr(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


def test_laplacian_variance_by_hand():
    # 4-neighbour Laplacian of a single 10 in a 5x5 zero image: -40 at the centre, +10 at its four
    # neighbours, 0 elsewhere; mean 0, so Var = (40² + 4·10²) / 25 = 80.
    assert laplacian_variance(dot_image()) == pytest.approx(80.0)
    assert laplacian_variance(bgr(dot_image())) == pytest.approx(80.0)


def test_sharpness_normalised_and_capped():
    assert laplacian_sharpness(dot_image(), 500) == pytest.approx(80 / 500)
    assert laplacian_sharpness(dot_image(value=100), 500) == 1.0  # Var = 8000 > 500: capped
    assert laplacian_sharpness(np.zeros((8, 8), np.uint8)) == 0.0


def test_detection_confidence_is_mean():
    assert detection_confidence(dets([[0, 0, 1, 1], [1, 1, 2, 2]], [0.9, 0.5])) == pytest.approx(0.7)
    assert detection_confidence(Detections.empty()) == 0.0


def test_strategy_a_by_hand():
    image = np.zeros((20, 20), np.uint8)
    image[2, 2] = 10  # ROI 1 (0..5) holds the dot: C_s = 80/500 = 0.16; ROI 2 is flat: 0
    frame = Frame(3, 1.5, bgr(image))
    score = FrameScorer(ScoringConfig()).score(frame, dets([[0, 0, 5, 5], [10, 10, 15, 15]], [0.9, 0.5]))
    # S = 0.7 · mean(0.9, 0.5) + 0.3 · mean(0.16, 0) = 0.49 + 0.024
    assert score.total == pytest.approx(0.514)
    assert score.detection == pytest.approx(0.7)
    assert score.sharpness == pytest.approx(0.08)
    assert (score.index, score.pts, score.roi_count, score.whole_frame) == (3, 1.5, 2, False)
    assert score.quality is None


def test_strategy_a_without_roi_scores_whole_frame():
    score = FrameScorer(ScoringConfig()).score(Frame(0, 0.0, bgr(dot_image())), Detections.empty())
    assert score.whole_frame and score.roi_count == 0
    assert score.total == pytest.approx(0.3 * 0.16)


def test_strategy_a_custom_weights_and_norm():
    cfg = ScoringConfig(w_d=0.5, w_s=0.5, w_q=0.5, laplacian_norm=100)
    score = FrameScorer(cfg).score(Frame(0, 0.0, bgr(dot_image())), dets([[0, 0, 5, 5]], [0.6]))
    assert score.total == pytest.approx(0.5 * 0.6 + 0.5 * 0.8)


class MeanBrightness:
    """A stand-in quality regressor with a known answer: mean brightness / 255 of each crop."""

    def __init__(self):
        self.calls = []

    def predict(self, crops):
        self.calls.append([c.shape for c in crops])
        return np.array([c.mean() / 255.0 for c in crops], np.float32)


def test_strategy_b_by_hand(tmp_path):
    image = np.zeros((10, 20, 3), np.uint8)
    image[:, :10] = 51  # left ROI: Q = 0.2
    image[:, 10:] = 204  # right ROI: Q = 0.8
    quality = MeanBrightness()
    cfg = ScoringConfig(strategy="B", quality=QualityConfig(model=tmp_path / "q.onnx"))
    score = FrameScorer(cfg, quality).score(Frame(0, 0.0, image), dets([[0, 0, 10, 10], [10, 0, 20, 10]], [1.0, 0.4]))
    # S = 0.7 · 0.7 + 0.3 · mean(0.2, 0.8)
    assert score.total == pytest.approx(0.49 + 0.15)
    assert score.quality == pytest.approx(0.5) and score.sharpness is None
    assert quality.calls == [[(10, 10, 3), (10, 10, 3)]]  # the ROI crops, not the frame


def test_strategy_b_without_roi_uses_whole_frame(tmp_path):
    quality = MeanBrightness()
    cfg = ScoringConfig(strategy="B", quality=QualityConfig(model=tmp_path / "q.onnx"))
    image = np.full((6, 8, 3), 102, np.uint8)
    score = FrameScorer(cfg, quality).score(Frame(0, 0.0, image), Detections.empty())
    assert quality.calls == [[(6, 8, 3)]]
    assert score.total == pytest.approx(0.3 * 0.4) and score.whole_frame


def test_crops_clip_to_frame():
    image = np.zeros((10, 10, 3), np.uint8)
    score = FrameScorer(ScoringConfig()).score(Frame(0, 0.0, image), dets([[-5, -5, 30, 30]], [0.5]))
    assert score.roi_count == 1 and score.total == pytest.approx(0.35)
