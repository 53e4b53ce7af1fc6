"""A detector in the official D-FINE repository's layout loads in the edge runtime like ours.

The official ``tools/deployment/export_onnx.py`` wraps ``model`` and ``postprocessor``
submodules, exports at opset 16 with only the inputs' batch declared dynamic, and does not
simplify. Built here from the same tiny network, it must give the edge the same detections as
the ``export/`` file, and convert to FP16 with its post-processing (``/postprocessor/...``)
kept in FP32.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from synthetic_frames import SIZE

from edge.config.models import DetectorConfig
from edge.detect import create_detector

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from torch import nn

from export import torchscript_onnx_export
from export.dfine import DFineWithPostprocess
from export.fp16 import convert_to_fp16, detector_postprocess_nodes


class _Backbone(nn.Module):
    """The official deploy model: images -> pred_logits, pred_boxes."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(pixel_values=images)
        return out.logits, out.pred_boxes


class _PostProcessor(nn.Module):
    """The official ``DFINEPostProcessor`` in deploy mode (focal loss: sigmoid, top-K, no NMS)."""

    def __init__(self, num_classes: int, num_top_queries: int) -> None:
        super().__init__()
        self.num_classes, self.num_top_queries = num_classes, num_top_queries

    def forward(self, logits: torch.Tensor, boxes: torch.Tensor, orig_target_sizes: torch.Tensor):
        cx, cy, w, h = boxes.unbind(-1)
        bbox = torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)
        bbox = bbox * orig_target_sizes.repeat(1, 2).unsqueeze(1)
        scores, index = torch.topk(torch.sigmoid(logits).flatten(1), self.num_top_queries, dim=-1)
        labels = index - index // self.num_classes * self.num_classes
        index = index // self.num_classes
        boxes = bbox.gather(dim=1, index=index.unsqueeze(-1).repeat(1, 1, bbox.shape[-1]))
        return labels, boxes, scores


class OfficialLayout(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = _Backbone(model)
        self.postprocessor = _PostProcessor(model.config.num_labels, model.config.num_queries)

    def forward(self, images: torch.Tensor, orig_target_sizes: torch.Tensor):
        logits, boxes = self.model(images)
        return self.postprocessor(logits, boxes, orig_target_sizes)


@pytest.fixture(scope="module")
def official(detector_variants, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("official") / "dfine_official.onnx"
    wrapper = OfficialLayout(detector_variants.model).eval()
    example = (torch.rand(1, 3, SIZE, SIZE), torch.tensor([[SIZE, SIZE]]))
    with torch.no_grad():
        torchscript_onnx_export(
            wrapper, example, path, input_names=["images", "orig_target_sizes"],
            output_names=["labels", "boxes", "scores"],
            dynamic_axes={"images": {0: "N"}, "orig_target_sizes": {0: "N"}},
            opset_version=16, do_constant_folding=True,
        )
    return path


def test_official_layout_is_what_the_repository_exports(official) -> None:
    graph = onnx.load(str(official))
    assert graph.opset_import[0].version == 16
    assert any(node.name.startswith("/postprocessor/") for node in graph.graph.node)
    assert "LayerNormalization" not in {node.op_type for node in graph.graph.node}


def test_edge_loads_both_layouts_alike(official, detector_variants) -> None:
    frames = detector_variants.holdout[:3]
    found = {}
    for name, path in (("official", official), ("ours", detector_variants.fp32)):
        config = DetectorConfig(model=path, input_size=SIZE, threshold=0.0, product_labels=[0, 1])
        found[name] = create_detector(config, threads=1).detect(frames)
    for theirs, ours in zip(found["official"], found["ours"]):
        np.testing.assert_array_equal(theirs.class_id, ours.class_id)
        np.testing.assert_allclose(theirs.confidence, ours.confidence, atol=1e-5)
        np.testing.assert_allclose(theirs.xyxy, ours.xyxy, atol=1e-2)


def test_official_layout_converts_to_fp16_with_fp32_postprocessing(official, detector_variants, tmp_path) -> None:
    graph = onnx.load(str(official))
    post = set(detector_postprocess_nodes(graph))
    scoped = {n.name for n in graph.graph.node if n.name.startswith("/postprocessor/") and n.op_type != "Constant"}
    assert scoped and scoped <= post
    fp16 = convert_to_fp16(official, tmp_path / "official-fp16.onnx")
    frames = detector_variants.holdout[:2]
    found = {}
    for name, path in (("fp32", official), ("fp16", fp16)):
        config = DetectorConfig(model=path, input_size=SIZE, threshold=0.0, product_labels=[0, 1])
        detector = create_detector(config, threads=1)
        found[name] = detector.detect(frames)
    assert detector.model.precision == "fp16"
    for a, b in zip(found["fp32"], found["fp16"]):
        assert abs(a.confidence.max() - b.confidence.max()) < 0.01


def test_wrapper_matches_ours(official, detector_variants) -> None:
    images, sizes = torch.rand(2, 3, SIZE, SIZE), torch.tensor([[640, 480], [300, 500]])
    with torch.no_grad():
        a = OfficialLayout(detector_variants.model).eval()(images, sizes)
        b = DFineWithPostprocess(detector_variants.model).eval()(images, sizes)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y)
