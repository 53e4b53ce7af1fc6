"""Configurations and small real ONNX models for the pipeline tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edge.config import Config, parse_config


def make_config(**sections: dict[str, Any]) -> Config:
    """The defaults with some sections changed, validated like a YAML file."""
    return parse_config(sections, source="test")


def fixed_box_detector(path: Path, box: tuple[float, float, float, float], score: float, size: int = 64) -> Path:
    """A detector with the official D-FINE signature that finds one product at ``box``.

    ``box`` is normalised x1,y1,x2,y2; the graph scales it by each frame's (w, h) from
    ``orig_target_sizes`` as the real export does. A second query is a low-score non-product.
    """
    consts = {
        "labels_c": np.array([[0, 1]], np.int64),
        "scores_c": np.array([[score, 0.05]], np.float32),
        "boxes_c": np.array([[box, (0.0, 0.0, 0.1, 0.1)]], np.float32),
        "two": np.array([2], np.int64),
        "start": np.array([0], np.int64),
        "stop": np.array([1], np.int64),
    }
    nodes = [
        helper.make_node("Shape", ["orig_target_sizes"], ["sizes_shape"]),
        helper.make_node("Slice", ["sizes_shape", "start", "stop"], ["n"]),
        helper.make_node("Concat", ["n", "two"], ["n2"], axis=0),
        helper.make_node("Expand", ["labels_c", "n2"], ["labels"]),
        helper.make_node("Expand", ["scores_c", "n2"], ["scores"]),
        helper.make_node("Cast", ["orig_target_sizes"], ["sizes_f"], to=TensorProto.FLOAT),
        helper.make_node("Concat", ["sizes_f", "sizes_f"], ["whwh"], axis=1),
        helper.make_node("Unsqueeze", ["whwh", "stop"], ["whwh3"]),
        helper.make_node("Mul", ["whwh3", "boxes_c"], ["boxes"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed_box_dfine",
        inputs=[
            helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, size, size]),
            helper.make_tensor_value_info("orig_target_sizes", TensorProto.INT64, ["N", 2]),
        ],
        outputs=[
            helper.make_tensor_value_info("labels", TensorProto.INT64, ["N", 2]),
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", 2, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2]),
        ],
        initializer=[numpy_helper.from_array(value, name) for name, value in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
