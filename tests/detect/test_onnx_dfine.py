"""The edge detector: preprocessing, batching, filtering and clipping through ONNX Runtime."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from dfine_graphs import scripted_detector
from onnx import TensorProto

from edge.config.models import DetectorConfig
from edge.detect import DFineDetector, create_detector
from edge.errors import ModelError
from edge.runtime import preprocess_frames

SIZE = 64  # input side of the scripted graphs


def _config(path, **overrides) -> DetectorConfig:
    return DetectorConfig(model=path, input_size=overrides.pop("input_size", SIZE), **overrides)


def _frame(width: int, height: int, bgr: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    return np.full((height, width, 3), bgr, dtype=np.uint8)


# -- scripted graphs: outputs known in advance ------------------------------------------------


def test_keeps_product_labels_at_or_above_threshold(tmp_path) -> None:
    labels = [0, 1, 0, 0, 1, 2]
    scores = [0.9, 0.95, 0.4, 0.5, 0.7, 0.99]
    boxes = [[0.1 * i, 0.1, 0.1 * i + 0.05, 0.2] for i in range(6)]
    path = scripted_detector(tmp_path / "m.onnx", labels, scores, boxes)

    only_zero = create_detector(_config(path, threshold=0.5, product_labels=[0]), threads=1)
    (found,) = only_zero.detect([_frame(100, 50)])
    np.testing.assert_allclose(found.confidence, [0.9, 0.5])  # 0.5 == threshold is kept
    np.testing.assert_array_equal(found.class_id, [0, 0])

    two_labels = create_detector(_config(path, threshold=0.6, product_labels=[0, 1]), threads=1)
    (found,) = two_labels.detect([_frame(100, 50)])
    np.testing.assert_allclose(found.confidence, [0.9, 0.95, 0.7])
    np.testing.assert_array_equal(found.class_id, [0, 1, 1])
    assert found.xyxy.dtype == np.float32 and found.confidence.dtype == np.float32
    assert found.class_id.dtype == np.int64


def test_boxes_are_in_original_pixels_and_clipped(tmp_path) -> None:
    boxes = [
        [0.1, 0.2, 0.5, 0.6],  # inside
        [-0.1, -0.2, 1.2, 1.5],  # overflows every side
        [1.1, 0.1, 1.3, 0.3],  # wholly right of the frame: dropped
    ]
    path = scripted_detector(tmp_path / "m.onnx", [0, 0, 0], [0.9, 0.8, 0.7], boxes)
    detector = create_detector(_config(path, threshold=0.1), threads=1)
    landscape, portrait = detector.detect([_frame(640, 360), _frame(200, 300)])
    np.testing.assert_allclose(landscape.xyxy, [[64, 72, 320, 216], [0, 0, 640, 360]], atol=1e-3)
    np.testing.assert_allclose(portrait.xyxy, [[20, 60, 100, 180], [0, 0, 200, 300]], atol=1e-3)
    np.testing.assert_allclose(landscape.confidence, [0.9, 0.8])


def test_preprocessing_feeds_rgb_scaled_to_unit_range(tmp_path) -> None:
    """The graph scores each frame with the mean of the channel it receives first (red)."""
    path = scripted_detector(tmp_path / "m.onnx", [0], [0.0], [[0, 0, 1, 1]], red_weight=1.0)
    detector = create_detector(_config(path, threshold=0.0), threads=1)
    bgr_frames = [_frame(320, 180, (10, 50, 200)), _frame(33, 77, (255, 0, 51))]
    found = detector.detect(bgr_frames)
    np.testing.assert_allclose([d.confidence[0] for d in found], [200 / 255, 51 / 255], atol=1e-5)


def test_preprocess_is_a_plain_bilinear_resize() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (90, 160, 3), dtype=np.uint8)
    blob = preprocess_frames([frame], 32)
    assert blob.shape == (1, 3, 32, 32) and blob.dtype == np.float32
    expected = cv2.resize(frame, (32, 32), interpolation=cv2.INTER_LINEAR)[:, :, ::-1].transpose(2, 0, 1) / 255.0
    np.testing.assert_allclose(blob[0], expected, atol=1e-6)
    with pytest.raises(ValueError, match="frame 0"):
        preprocess_frames([frame[:, :, 0]], 32)


@pytest.mark.parametrize("fixed_batch", [1, 2])
def test_fixed_batch_models_run_in_chunks(tmp_path, fixed_batch) -> None:
    path = scripted_detector(tmp_path / "m.onnx", [0], [0.9], [[0, 0, 0.5, 0.5]], batch=fixed_batch)
    detector = create_detector(_config(path), threads=1)
    sizes = [(100, 60), (40, 80), (300, 30)]
    found = detector.detect([_frame(w, h) for w, h in sizes])
    assert [d.xyxy.tolist() for d in found] == [[[0, 0, w / 2, h / 2]] for w, h in sizes]


def test_float16_images_input_is_fed_float16(tmp_path) -> None:
    path = scripted_detector(
        tmp_path / "m.onnx", [0], [0.0], [[0, 0, 1, 1]], images_type=TensorProto.FLOAT16, red_weight=1.0
    )
    detector = create_detector(_config(path, threshold=0.0), threads=1)
    (found,) = detector.detect([_frame(50, 40, (0, 0, 128))])
    np.testing.assert_allclose(found.confidence, [128 / 255], atol=1e-3)


def test_empty_batch_and_model_identity(tmp_path) -> None:
    path = scripted_detector(tmp_path / "scripted.onnx", [0], [0.9], [[0, 0, 1, 1]])
    detector = create_detector(_config(path), threads=1)
    assert detector.detect([]) == []
    assert detector.model.name == "scripted.onnx"
    assert detector.model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert detector.model.precision == "fp32"
    assert detector.model.provider == "CPUExecutionProvider"


def test_create_detector(tmp_path) -> None:
    assert create_detector(DetectorConfig(model=None), threads=1) is None
    path = scripted_detector(tmp_path / "m.onnx", [0], [0.9], [[0, 0, 1, 1]])
    detector = create_detector(_config(path), threads=1)
    assert isinstance(detector, DFineDetector)


def test_the_input_side_is_the_graphs_unless_configured(tmp_path) -> None:
    path = scripted_detector(tmp_path / "m.onnx", [0], [0.9], [[0, 0, 1, 1]])
    detector = create_detector(DetectorConfig(model=path), threads=1)
    assert detector.input_size == SIZE
    assert len(detector.detect([_frame(100, 80)])[0]) == 1
    with pytest.raises(ModelError, match=r"m\.onnx: does not match the D-FINE detector contract.*640"):
        create_detector(DetectorConfig(model=path, input_size=640), threads=1)


# -- the exported tiny D-FINE -------------------------------------------------------------------


def _raw(tiny_dfine, frames):
    session = ort.InferenceSession(str(tiny_dfine.path), providers=["CPUExecutionProvider"])
    sizes = np.array([(f.shape[1], f.shape[0]) for f in frames], np.int64)
    return session.run(["labels", "boxes", "scores"], {"images": preprocess_frames(frames, 640), "orig_target_sizes": sizes})


def test_tiny_dfine_end_to_end(tiny_dfine, frames) -> None:
    detector = create_detector(DetectorConfig(model=tiny_dfine.path, threshold=0.0, product_labels=[0, 1]), 2)
    found = detector.detect(frames)
    labels, boxes, scores = _raw(tiny_dfine, frames)
    for i, (frame, detections) in enumerate(zip(frames, found)):
        h, w = frame.shape[:2]
        assert len(detections) > 0
        assert (detections.xyxy[:, [0, 2]] >= 0).all() and (detections.xyxy[:, [0, 2]] <= w).all()
        assert (detections.xyxy[:, [1, 3]] >= 0).all() and (detections.xyxy[:, [1, 3]] <= h).all()
        # what the runtime returns is the graph's own output, clipped, with empty boxes dropped
        clipped = np.clip(boxes[i], 0, [w, h, w, h])
        visible = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        np.testing.assert_allclose(detections.xyxy, clipped[visible], atol=1e-3)
        np.testing.assert_allclose(detections.confidence, scores[i][visible], atol=1e-6)
    # the boxes scale with each frame: some reach far beyond the 640 input on the 720×1280 frame
    assert found[1].xyxy[:, 3].max() > 640
    assert detector.model.precision == "fp32" and detector.model.name == "tiny_dfine.onnx"


def test_tiny_dfine_threshold_and_labels(tiny_dfine, frames) -> None:
    labels, boxes, scores = _raw(tiny_dfine, frames[:1])
    threshold = float(np.median(scores[0]))
    config = DetectorConfig(model=tiny_dfine.path, threshold=threshold, product_labels=[1])
    (found,) = create_detector(config, threads=1).detect(frames[:1])
    h, w = frames[0].shape[:2]
    clipped = np.clip(boxes[0], 0, [w, h, w, h])
    visible = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    expected = (scores[0] >= threshold) & (labels[0] == 1) & visible
    assert 0 < len(found) == expected.sum() < len(scores[0])
    np.testing.assert_allclose(found.confidence, scores[0][expected])
    assert (found.confidence >= threshold).all() and (found.class_id == 1).all()
