"""export/dfine.py: the official layout at opset 16, options, and what the edge runtime makes of it."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from edge.config.models import DetectorConfig
from edge.detect import create_detector
from edge.errors import ModelError
from edge.runtime import preprocess_frames

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from export.dfine import (
    DFineWithPostprocess,
    export_dfine,
    tiny_dfine_config,
    tiny_dfine_model,
)

SIZE = 320


@pytest.fixture(scope="module")
def model():
    return tiny_dfine_model(seed=1)


@pytest.fixture(scope="module")
def opset16(model, tmp_path_factory):
    """Exported like the official repository: opset 16, dynamic batch."""
    return export_dfine(model, tmp_path_factory.mktemp("dfine16") / "dfine_opset16.onnx", input_size=SIZE, opset=16)


def test_opset16_layout(opset16) -> None:
    graph = onnx.load(str(opset16))
    ops = {node.op_type for node in graph.graph.node}
    assert graph.opset_import[0].version == 16
    assert "GridSample" in ops and "LayerNormalization" not in ops  # decomposed before opset 17
    inputs = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in graph.graph.input}
    assert inputs == {"images": ["N", 3, SIZE, SIZE], "orig_target_sizes": ["N", 2]}
    outputs = {v.name: v.type.tensor_type.elem_type for v in graph.graph.output}
    float32, int64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    assert outputs == {"labels": int64, "boxes": float32, "scores": float32}


def test_opset16_export_loads_and_matches_pytorch(model, opset16) -> None:
    frames = [np.random.default_rng(i).integers(0, 256, shape, dtype=np.uint8) for i, shape in
              enumerate([(200, 500, 3), (640, 360, 3)])]
    detector = create_detector(
        DetectorConfig(model=opset16, input_size=SIZE, threshold=0.0, product_labels=[0, 1]), threads=2
    )
    found = detector.detect(frames)
    sizes = torch.tensor([(f.shape[1], f.shape[0]) for f in frames])
    with torch.no_grad():
        labels, boxes, scores = DFineWithPostprocess(model)(torch.from_numpy(preprocess_frames(frames, SIZE)), sizes)
    for i, (frame, detections) in enumerate(zip(frames, found)):
        h, w = frame.shape[:2]
        want = np.clip(boxes[i].numpy(), 0, [w, h, w, h])
        visible = (want[:, 2] > want[:, 0]) & (want[:, 3] > want[:, 1])
        np.testing.assert_array_equal(detections.class_id, labels[i].numpy()[visible])
        np.testing.assert_allclose(detections.confidence, scores[i].numpy()[visible], atol=1e-4)
        np.testing.assert_allclose(detections.xyxy / [w, h, w, h], want[visible] / [w, h, w, h], atol=1e-4)
    assert detector.model.name == "dfine_opset16.onnx"


def test_runtime_refuses_another_input_side(opset16) -> None:
    """A configured side the graph does not fix is refused (unset, the graph's own side is fed)."""
    with pytest.raises(ModelError, match=r"dfine_opset16\.onnx: .*expected \[N,3,640,640\]"):
        create_detector(DetectorConfig(model=opset16, input_size=640), threads=1)


def test_export_options_are_checked(model, tmp_path) -> None:
    with pytest.raises(ValueError, match="opset"):
        export_dfine(model, tmp_path / "m.onnx", opset=18)
    with pytest.raises(ValueError, match="num_top_queries"):
        export_dfine(model, tmp_path / "m.onnx", num_top_queries=model.config.num_queries * model.config.num_labels + 1)
    assert not (tmp_path / "m.onnx").exists()


def test_export_restores_training_mode(tmp_path) -> None:
    model = tiny_dfine_model(tiny_dfine_config(num_labels=1, num_queries=30)).train()
    path = export_dfine(model, tmp_path / "one_class.onnx", input_size=64, num_top_queries=10)
    assert model.training
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"images": np.zeros((3, 3, 64, 64), np.float32), "orig_target_sizes": np.full((3, 2), 50, np.int64)}
    labels, boxes, scores = session.run(["labels", "boxes", "scores"], feeds)
    assert labels.shape == scores.shape == (3, 10) and boxes.shape == (3, 10, 4)
    assert (labels == 0).all()


def test_tiny_config_is_small_and_uses_max_num_bins() -> None:
    config = tiny_dfine_config()
    assert config.num_queries <= 300 and config.num_labels == 2 and config.max_num_bins == 8
    model = tiny_dfine_model(config)
    # box head: 4 sides × (max_num_bins + 1) bins; the old `reg_max` name would leave 32 here
    assert model.bbox_embed[0].layers[-1].out_features == 4 * (8 + 1)
    assert sum(p.numel() for p in model.parameters()) < 500_000
    assert not model.training
