"""ONNX graphs as the edge reads them: precision read from the graph, metadata."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edge.runtime import graph_metadata, graph_precision


def _weights_graph(dtype: int, ops: tuple[str, ...] = ("Identity",)) -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.zeros((8, 8), onnx.helper.tensor_dtype_to_np_dtype(dtype)), "w")
    nodes = [helper.make_node(op, ["x"], [f"y{i}"]) for i, op in enumerate(ops)]
    outputs = [helper.make_tensor_value_info(f"y{i}", dtype, None) for i in range(len(ops))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", dtype, [1])], outputs, [weight])
    return helper.make_model(graph)


def test_precision_is_read_from_the_graph() -> None:
    assert graph_precision(_weights_graph(TensorProto.FLOAT)) == "fp32"
    assert graph_precision(_weights_graph(TensorProto.FLOAT16)) == "fp16"
    assert graph_precision(_weights_graph(TensorProto.FLOAT, ("Identity", "DequantizeLinear"))) == "int8"


def test_metadata_is_a_mapping() -> None:
    model = _weights_graph(TensorProto.FLOAT)
    model.metadata_props.add(key="liveguard.quality.min", value="0.5")
    assert graph_metadata(model) == {"liveguard.quality.min": "0.5"}
