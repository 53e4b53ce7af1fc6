"""Small hand-built ONNX graphs with the D-FINE contract signature and known outputs.

``scripted_detector`` returns fixed labels and scores for every frame, and boxes given in
normalised x1,y1,x2,y2 that the graph scales by (w, h) from ``orig_target_sizes`` like the
real export. With ``red_weight`` the scores also add ``red_weight × mean(images[:, 0])``, the
mean of the red channel as the model sees it, which exposes the preprocessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def scripted_detector(
    path: Path,
    labels: Sequence[int],
    scores: Sequence[float],
    boxes: Sequence[Sequence[float]],
    *,
    size: int = 64,
    batch: int | str = "N",
    images_type: int = TensorProto.FLOAT,
    red_weight: float = 0.0,
) -> Path:
    q = len(labels)
    consts = {
        "labels_c": np.asarray(labels, np.int64).reshape(1, q),
        "scores_c": np.asarray(scores, np.float32).reshape(1, q),
        "boxes_c": np.asarray(boxes, np.float32).reshape(1, q, 4),
        "red_w": np.asarray(red_weight, np.float32),
        "q": np.asarray([q], np.int64),
        "zero": np.asarray([0], np.int64),
        "one": np.asarray([1], np.int64),
        "axis1": np.asarray([1], np.int64),
    }
    nodes = [
        # batch size N from orig_target_sizes, so the outputs follow the batch
        helper.make_node("Shape", ["orig_target_sizes"], ["sizes_shape"]),
        helper.make_node("Slice", ["sizes_shape", "zero", "one"], ["n"]),
        helper.make_node("Concat", ["n", "q"], ["nq"], axis=0),
        helper.make_node("Expand", ["labels_c", "nq"], ["labels"]),
        # scores = scores_c + red_weight * mean of channel 0
        helper.make_node("Cast", ["images"], ["images_f"], to=TensorProto.FLOAT),
        helper.make_node("Slice", ["images_f", "zero", "one", "axis1"], ["red"]),
        helper.make_node("ReduceMean", ["red"], ["red_mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Flatten", ["red_mean4"], ["red_mean"], axis=1),
        helper.make_node("Mul", ["red_mean", "red_w"], ["red_term"]),
        helper.make_node("Add", ["red_term", "scores_c"], ["scores"]),
        # boxes = normalised boxes × (w, h, w, h)
        helper.make_node("Cast", ["orig_target_sizes"], ["sizes_f"], to=TensorProto.FLOAT),
        helper.make_node("Concat", ["sizes_f", "sizes_f"], ["whwh"], axis=1),
        helper.make_node("Unsqueeze", ["whwh", "axis1"], ["whwh3"]),
        helper.make_node("Mul", ["whwh3", "boxes_c"], ["boxes"]),
    ]
    graph = helper.make_graph(
        nodes,
        "scripted_dfine",
        inputs=[
            helper.make_tensor_value_info("images", images_type, [batch, 3, size, size]),
            helper.make_tensor_value_info("orig_target_sizes", TensorProto.INT64, [batch, 2]),
        ],
        outputs=[
            helper.make_tensor_value_info("labels", TensorProto.INT64, [batch, q]),
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [batch, q, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [batch, q]),
        ],
        initializer=[numpy_helper.from_array(value, name) for name, value in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
