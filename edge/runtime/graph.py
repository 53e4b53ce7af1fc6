"""ONNX graphs as the edge reads them: file checks, declared tensors, signature checks, precision.

Shared by every model of the pipeline (the detector, the quality regressor) and by ``export/``;
needs ``onnx`` only, not ONNX Runtime. Each failure is a :class:`ModelError` naming the file and
what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from edge.errors import ModelError

Dim = int | str | None  # a fixed size, a symbolic name, or unknown

_INT8_OPS = frozenset(
    {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"}
)


@dataclass(frozen=True)
class TensorSpec:
    """What a model must declare for one tensor: its name, accepted dtypes and shape.

    A ``str`` in ``shape`` labels a dimension of any size (``"N"`` for the batch); an ``int``
    must match a fixed dimension of the graph (a symbolic one is accepted).
    """

    name: str
    dtypes: tuple[str, ...]
    shape: tuple[int | str, ...]


@dataclass(frozen=True)
class GraphTensor:
    """A tensor as the graph declares it; ``shape`` is None when the graph gives no rank."""

    name: str
    dtype: str
    shape: tuple[Dim, ...] | None

    @property
    def fixed_batch(self) -> int | None:
        """The first dimension when the graph fixes it, else None (dynamic batch)."""
        first = self.shape[0] if self.shape else None
        return first if isinstance(first, int) else None


def load_onnx(path: str | Path) -> onnx.ModelProto:
    """Parse ``path`` as an ONNX model (weights in external files are not read)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(str(path), "model file not found" if not path.exists() else "not a file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # protobuf raises several kinds on garbage
        raise ModelError(str(path), f"not an ONNX model ({type(error).__name__}: {first_line(error)})") from error
    # A text or empty file can parse as an empty ModelProto without raising.
    if model.ir_version == 0 or not model.graph.node:
        raise ModelError(str(path), "not an ONNX model (no IR version or an empty graph)")
    return model


def graph_inputs(model: onnx.ModelProto) -> list[GraphTensor]:
    """The graph's real inputs (old IR versions also list initializers as inputs)."""
    weights = {init.name for init in model.graph.initializer}
    return [_graph_tensor(value) for value in model.graph.input if value.name not in weights]


def graph_outputs(model: onnx.ModelProto) -> list[GraphTensor]:
    return [_graph_tensor(value) for value in model.graph.output]


def graph_metadata(model: onnx.ModelProto) -> dict[str, str]:
    """The file's metadata as a mapping (the quality regressor's range travels there)."""
    return {prop.key: prop.value for prop in model.metadata_props}


def signature_problems(
    inputs: Sequence[GraphTensor],
    outputs: Sequence[GraphTensor],
    expected_inputs: Sequence[TensorSpec],
    expected_outputs: Sequence[TensorSpec],
) -> list[str]:
    """Every difference between a graph's named inputs/outputs and the expected ones.

    Extra outputs are harmless (never fetched); an extra input would have to be fed, so it is one.
    """
    problems = _named_problems("input", inputs, expected_inputs)
    expected_names = {spec.name for spec in expected_inputs}
    problems += [f"unexpected input '{t.name}'" for t in inputs if t.name not in expected_names]
    problems += _named_problems("output", outputs, expected_outputs)
    return problems


def tensor_problems(kind: str, tensor: GraphTensor, spec: TensorSpec) -> list[str]:
    """Dtype and shape differences of one tensor; ``kind`` is "input" or "output"."""
    problems = []
    if tensor.dtype not in spec.dtypes:
        problems.append(f"{kind} '{tensor.name}' has dtype {tensor.dtype}, expected {' or '.join(spec.dtypes)}")
    if tensor.shape is None:
        return problems  # rank not declared: nothing to compare
    if len(tensor.shape) != len(spec.shape):
        problems.append(
            f"{kind} '{tensor.name}' has rank {len(tensor.shape)} {format_shape(tensor.shape)}, "
            f"expected rank {len(spec.shape)} {format_shape(spec.shape)}"
        )
    elif any(_fixed_differs(got, want) for got, want in zip(tensor.shape, spec.shape)):
        actual, expected = format_shape(tensor.shape), format_shape(spec.shape)
        problems.append(f"{kind} '{tensor.name}' has shape {actual}, expected {expected}")
    return problems


def _fixed_differs(got: Dim, want: int | str) -> bool:
    """Both fixed and different; a symbolic or unknown dimension fits anything."""
    return isinstance(want, int) and isinstance(got, int) and got != want


def format_shape(shape: Sequence[Dim]) -> str:
    return "[" + ",".join("?" if dim is None else str(dim) for dim in shape) + "]"


def graph_precision(model: onnx.ModelProto) -> str:
    """fp32, fp16 or int8, read from the graph: quantisation nodes, else the dominant weight type."""
    if any(node.op_type in _INT8_OPS for node in model.graph.node):
        return "int8"
    counts = {onnx.TensorProto.FLOAT: 0, onnx.TensorProto.FLOAT16: 0}
    for init in model.graph.initializer:
        if init.data_type in counts:
            counts[init.data_type] += int(np.prod(init.dims, dtype=np.int64))
    if counts[onnx.TensorProto.FLOAT16] > counts[onnx.TensorProto.FLOAT]:
        return "fp16"
    if not any(counts.values()) and any(t.dtype == "float16" for t in graph_inputs(model)):
        return "fp16"
    return "fp32"


def _named_problems(kind: str, actual: Sequence[GraphTensor], expected: Sequence[TensorSpec]) -> list[str]:
    by_name = {tensor.name: tensor for tensor in actual}
    problems = []
    for spec in expected:
        if spec.name in by_name:
            problems += tensor_problems(kind, by_name[spec.name], spec)
        else:
            problems.append(f"missing {kind} '{spec.name}' (got {kind} names {sorted(by_name)})")
    return problems


def _graph_tensor(value: onnx.ValueInfoProto) -> GraphTensor:
    if not value.type.HasField("tensor_type"):
        return GraphTensor(value.name, "non-tensor", None)
    tensor_type = value.type.tensor_type
    shape = None
    if tensor_type.HasField("shape"):
        shape = tuple(_dim(dim) for dim in tensor_type.shape.dim)
    return GraphTensor(value.name, _dtype_name(tensor_type.elem_type), shape)


def _dim(dim: onnx.TensorShapeProto.Dimension) -> Dim:
    if dim.HasField("dim_value"):
        return int(dim.dim_value)
    if dim.HasField("dim_param"):
        return dim.dim_param
    return None


def _dtype_name(elem_type: int) -> str:
    try:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).name
    except (KeyError, TypeError, ValueError):
        return onnx.TensorProto.DataType.Name(elem_type).lower() if elem_type else "undefined"


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
