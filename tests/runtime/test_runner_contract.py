"""The contract every Runner keeps (ONNX Runtime session, TensorRT engine), on one small real graph.

``run(output_names, feeds)`` returns the outputs named, in the order asked, one row per input row,
whatever the batch: a graph with a fixed batch (ONNX Runtime pads the last chunk) or an engine
whose profile bounds it (TensorRT splits) is fed in chunks that never mix rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edge.runtime import NEEDS, Runner, tensorrt_available
from edge.runtime.onnx_session import open_onnxruntime

CHUNK = 2  # the fixed batch of the graph, or the engine profile's largest batch


def two_output_graph(path: Path, batch: int | str = "N") -> Path:
    """Inputs a [B,4] float32, b [B,1] float32; outputs double = 2a [B,4], total = sum(a) + b [B,1]."""
    nodes = [
        helper.make_node("Add", ["a", "a"], ["double"]),
        helper.make_node("ReduceSum", ["a", "axes"], ["rowsum"], keepdims=1),
        helper.make_node("Add", ["rowsum", "b"], ["total"]),
    ]
    graph = helper.make_graph(
        nodes,
        "two_outputs",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [batch, 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [batch, 1])],
        [helper.make_tensor_value_info("double", TensorProto.FLOAT, [batch, 4]),
         helper.make_tensor_value_info("total", TensorProto.FLOAT, [batch, 1])],
        [helper.make_tensor("axes", TensorProto.INT64, [1], [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _onnxruntime(batch: int | str) -> Callable[[Path], Runner]:
    def open_(folder: Path) -> Runner:
        path = two_output_graph(folder / "graph.onnx", batch)
        return open_onnxruntime(path, ["CPUExecutionProvider"], 1, lambda signature: None).runner

    return open_


def _tensorrt(folder: Path) -> Runner:
    from edge.engines.build import build_engine
    from edge.runtime import BatchRange
    from edge.runtime.tensorrt_engine import TensorRTEngine

    source = two_output_graph(folder / "graph.onnx")
    engine = folder / "graph.engine"
    build_engine(source, engine, precision="fp32", source_precision="fp32",
                 batch=BatchRange(min=1, opt=CHUNK, max=CHUNK), workspace_mb=256)
    return TensorRTEngine(engine)


RUNNERS = [
    pytest.param(_onnxruntime("N"), id="onnxruntime-dynamic-batch"),
    pytest.param(_onnxruntime(CHUNK), id="onnxruntime-fixed-batch"),
    pytest.param(_tensorrt, id="tensorrt-bounded-batch",
                 marks=[pytest.mark.gpu, pytest.mark.skipif(not tensorrt_available(), reason=NEEDS)]),
]


@pytest.fixture(params=RUNNERS)
def runner(request, tmp_path) -> Iterator[Runner]:
    opened = request.param(tmp_path)
    yield opened
    opened.close()


def _feeds(rows: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(rows)
    return {"a": rng.normal(size=(rows, 4)).astype(np.float32), "b": np.arange(rows, dtype=np.float32)[:, None]}


def test_outputs_come_in_the_order_asked(runner) -> None:
    feeds = _feeds(CHUNK)
    total, double = runner.run(["total", "double"], feeds)
    again_double, again_total = runner.run(("double", "total"), feeds)
    assert total.shape == (CHUNK, 1) and double.shape == (CHUNK, 4)
    np.testing.assert_allclose(double, 2 * feeds["a"], rtol=1e-6)
    np.testing.assert_allclose(total, feeds["a"].sum(axis=1, keepdims=True) + feeds["b"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(again_double, double)
    np.testing.assert_array_equal(again_total, total)
    (only,) = runner.run(["total"], feeds)
    np.testing.assert_array_equal(only, total)


@pytest.mark.parametrize("rows", [1, CHUNK, CHUNK + 1, 2 * CHUNK + 1])
def test_any_batch_gives_one_row_per_input_row(runner, rows) -> None:
    """Batches below, at and above the chunk: the short last chunk's padding never shows."""
    feeds = _feeds(rows)
    double, total = runner.run(["double", "total"], feeds)
    assert double.shape == (rows, 4) and total.shape == (rows, 1)
    assert double.dtype == np.float32 and total.dtype == np.float32
    np.testing.assert_allclose(double, 2 * feeds["a"], rtol=1e-6)
    np.testing.assert_allclose(total, feeds["a"].sum(axis=1, keepdims=True) + feeds["b"], rtol=1e-5, atol=1e-6)
