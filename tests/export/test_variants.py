"""FP32, FP16 and INT8 exports of both models: parity, graph layout, accuracy reports, edge loading."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from synthetic_frames import SIZE

from edge.config.models import DetectorConfig, QualityConfig
from edge.detect import create_detector
from edge.runtime import graph_inputs, graph_outputs, graph_precision, preprocess_crops, preprocess_frames
from edge.score import create_quality_regressor

torch = pytest.importorskip("torch")

from export.fp16 import KEEP_FP32_OPS, detector_postprocess_nodes
from export.report import (
    BOUNDS,
    RANDOM_WEIGHT_BOUNDS,
    detector_report,
    match_detections,
    quality_report,
)

FLOAT, FLOAT16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16


def _value_types(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    values = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
    types = {v.name: v.type.tensor_type.elem_type for v in values}
    types.update({init.name: init.data_type for init in model.graph.initializer})
    return types


def _float_inputs_of(model: onnx.ModelProto, predicate) -> set[int]:
    """Element types of the float tensors read by the nodes that ``predicate`` selects."""
    types = _value_types(model)
    seen = set()
    for node in model.graph.node:
        if predicate(node):
            seen |= {types[name] for name in node.input if types.get(name) in (FLOAT, FLOAT16)}
    return seen


# -- FP32 ---------------------------------------------------------------------------------


def test_quality_fp32_matches_pytorch(quality_variants) -> None:
    blob = preprocess_crops(quality_variants.holdout, SIZE)
    with torch.no_grad():
        want = quality_variants.model(torch.from_numpy(blob)).numpy()
    session = ort.InferenceSession(str(quality_variants.fp32), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"images": blob})
    assert np.ptp(want) > 1.0  # image-dependent outputs, so the comparison means something
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_detector_fp32_at_96px_matches_pytorch(detector_variants) -> None:
    from export.dfine import DFineWithPostprocess

    frames = detector_variants.holdout[:3]
    sizes = np.array([(f.shape[1], f.shape[0]) for f in frames], np.int64)
    blob = preprocess_frames(frames, SIZE)
    with torch.no_grad():
        labels, boxes, scores = DFineWithPostprocess(detector_variants.model)(torch.from_numpy(blob), torch.from_numpy(sizes))
    session = ort.InferenceSession(str(detector_variants.fp32), providers=["CPUExecutionProvider"])
    got = session.run(["labels", "boxes", "scores"], {"images": blob, "orig_target_sizes": sizes})
    np.testing.assert_array_equal(got[0], labels.numpy())
    np.testing.assert_allclose(got[2], scores.numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(got[1] / 640, boxes.numpy() / 640, rtol=0, atol=1e-4)


def test_export_is_checked_and_simplified(detector_variants) -> None:
    graph = onnx.load(str(detector_variants.fp32))
    onnx.checker.check_model(graph, full_check=True)
    assert len(graph.graph.node) < 1200  # the traced graph has ~2700 nodes before onnxslim
    assert graph.opset_import[0].version == 17
    assert [t.name for t in graph_outputs(graph)] == ["labels", "boxes", "scores"]


# -- FP16 ---------------------------------------------------------------------------------


def test_fp16_keeps_normalisation_postprocessing_and_io_in_fp32(detector_variants) -> None:
    graph = onnx.load(str(detector_variants.fp16))
    assert graph_precision(graph) == "fp16"
    assert {t.dtype for t in graph_inputs(graph)} == {"float32", "int64"}
    assert graph_outputs(graph)[1].dtype == "float32"
    assert _float_inputs_of(graph, lambda n: n.op_type in KEEP_FP32_OPS) == {FLOAT}
    post = set(detector_postprocess_nodes(graph)) - {n.name for n in graph.graph.node if n.op_type == "Cast"}
    assert post and _float_inputs_of(graph, lambda n: n.name in post) == {FLOAT}
    assert FLOAT16 in _float_inputs_of(graph, lambda n: n.op_type in ("Conv", "MatMul"))


def test_fp16_detector_report_meets_the_shipping_bounds(detector_variants) -> None:
    report = detector_report(detector_variants.fp32, detector_variants.fp16, detector_variants.holdout, SIZE)
    assert report.precision == "fp16" and report.bounds == BOUNDS[("detector", "fp16")]
    assert report.violations() == [], report.format()
    assert report.metrics["box_delta_px_max"] < 2.0  # pixels of a 640×480 frame
    assert "bounds: met" in report.format()


def test_fp16_quality_report_meets_the_shipping_bounds(quality_variants) -> None:
    report = quality_report(quality_variants.fp32, quality_variants.fp16, quality_variants.holdout, SIZE)
    assert report.violations() == [], report.format()
    assert report.metrics["pearson"] >= 0.999


# -- INT8 ---------------------------------------------------------------------------------


def test_int8_is_symmetric_qdq_for_tensorrt(detector_variants, quality_variants) -> None:
    for path in (detector_variants.int8, quality_variants.int8):
        graph = onnx.load(str(path))
        assert graph_precision(graph) == "int8"
        ops = {node.op_type for node in graph.graph.node}
        assert {"QuantizeLinear", "DequantizeLinear"} <= ops and "QLinearConv" not in ops
        inits = {init.name: onnx.numpy_helper.to_array(init) for init in graph.graph.initializer}
        zero_points = [inits[n.input[2]] for n in graph.graph.node if n.op_type == "QuantizeLinear" and len(n.input) > 2]
        assert zero_points and all(z.dtype == np.int8 and not z.any() for z in zero_points)
    # the detector's post-processing stays FP32
    post = set(detector_postprocess_nodes(onnx.load(str(detector_variants.fp32))))
    graph = onnx.load(str(detector_variants.int8))
    producer = {out: node.op_type for node in graph.graph.node for out in node.output}
    post_nodes = [node for node in graph.graph.node if node.name in post]
    assert {node.op_type for node in post_nodes} >= {"TopK", "Sigmoid"}
    assert not any(producer.get(name) == "DequantizeLinear" for node in post_nodes for name in node.input)


def test_int8_quality_report_meets_the_shipping_bounds(quality_variants) -> None:
    report = quality_report(quality_variants.fp32, quality_variants.int8, quality_variants.holdout, SIZE)
    assert report.precision == "int8"
    assert report.violations() == [], report.format()


def test_int8_detector_report_on_random_weights(detector_variants) -> None:
    """Random weights quantise chaotically (see export.report): held to RANDOM_WEIGHT_BOUNDS."""
    report = detector_report(detector_variants.fp32, detector_variants.int8, detector_variants.holdout, SIZE)
    assert report.precision == "int8" and report.bounds == BOUNDS[("detector", "int8")]
    assert all(np.isfinite(v) for v in report.metrics.values())
    report.bounds = RANDOM_WEIGHT_BOUNDS[("detector", "int8")]
    assert report.violations() == [], report.format()
    assert report.to_dict()["metrics"].keys() == report.metrics.keys()


def test_cpu_target_uses_uint8_activations(detector_variants, tmp_path) -> None:
    from export.int8 import FrameCalibrationReader, quantize_int8

    reader = FrameCalibrationReader(detector_variants.calibration[:4], "detector", SIZE)
    path = quantize_int8(detector_variants.fp32, tmp_path / "cpu.onnx", reader, target="cpu")
    graph = onnx.load(str(path))
    inits = {init.name: init.data_type for init in graph.graph.initializer}
    types = {inits[n.input[2]] for n in graph.graph.node if n.op_type == "QuantizeLinear" and len(n.input) > 2}
    assert onnx.TensorProto.UINT8 in types
    from export.report import tensorrt_bound_int8

    # the report runs the TensorRT-bound variant as TensorRT computes it (Q/DQ in float), the CPU one fused
    assert not tensorrt_bound_int8(graph) and tensorrt_bound_int8(onnx.load(str(detector_variants.int8)))


# -- the edge runtime loads every variant -------------------------------------------------


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_edge_detector_loads_each_variant(detector_variants, precision) -> None:
    path = getattr(detector_variants, precision)
    config = DetectorConfig(model=path, input_size=SIZE, threshold=0.0, product_labels=[0, 1])
    detector = create_detector(config, threads=1)
    found = detector.detect(detector_variants.holdout[:2])
    assert detector.model.precision == precision and len(found) == 2 and len(found[0]) > 0


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_edge_quality_regressor_loads_each_variant(quality_variants, precision) -> None:
    model = create_quality_regressor(QualityConfig(model=getattr(quality_variants, precision), input_size=SIZE))
    reference = create_quality_regressor(QualityConfig(model=quality_variants.fp32, input_size=SIZE))
    assert model.model.precision == precision
    assert (model.raw_min, model.raw_max) == (reference.raw_min, reference.raw_max)  # metadata carried over
    got, want = model.predict(quality_variants.holdout), reference.predict(quality_variants.holdout)
    assert np.abs(got - want).mean() < 0.06


# -- matching ------------------------------------------------------------------------------


def test_matching_is_greedy_by_score_and_label_aware() -> None:
    ref = (np.array([0, 1, 0]), np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], float), np.array([0.9, 0.8, 0.7]))
    var = (np.array([1, 0, 0]), np.array([[0, 0, 10, 10], [1, 1, 11, 11], [80, 80, 90, 90]], float), np.array([0.5, 0.5, 0.5]))
    matches = match_detections(ref, var, top_k=3, iou_match=0.5)
    assert [(r, v) for r, v, _ in matches] == [(0, 1), (1, 0)]  # the far box (index 2) finds no partner
    assert matches[0][2] == pytest.approx(81 / 119)
