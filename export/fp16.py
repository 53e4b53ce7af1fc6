"""FP16 variants of exported models, with normalisation and the detector's post-processing in FP32.

DETR-style detectors collapse in FP16 when LayerNorm's variance or softmax overflow
(DESIGN.md, TensorRT traps), and box coordinates of a 4K frame lose whole pixels in FP16. So
the conversion (``onnxruntime.transformers.float16``: it ships with ONNX Runtime and, unlike
onnxconverter-common 1.16, gives a valid graph when ops are kept in FP32) keeps in FP32:

- normalisation and softmax ops, and the parts of a LayerNorm that opset 16 decomposes
  (``ReduceMean``, ``Pow``, ``Sqrt``);
- ``GridSample`` (deformable attention sampling positions);
- every node of a detector outside the network itself (``/model/...``): the in-graph
  post-processing (sigmoid, top-K, box scaling by ``orig_target_sizes``), for graphs from
  ``export/`` and the official D-FINE export alike;
- the graph's inputs and outputs, so the runtime feeds and reads float32 unchanged.

Such a graph is also what TensorRT 11 (no FP16 builder flag) builds as a strongly typed FP16
engine, honouring the FP32 islands.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx

from export.simplify import check_and_simplify

KEEP_FP32_OPS = (
    "LayerNormalization",
    "BatchNormalization",
    "InstanceNormalization",
    "GroupNormalization",
    "Softmax",
    "ReduceMean",
    "Pow",
    "Sqrt",
    "GridSample",
    "TopK",
    "Resize",
)
NETWORK_SCOPE = "/model/"


def detector_postprocess_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of a D-FINE graph's nodes outside ``/model/`` (post-processing); [] for other graphs."""
    inputs = {value.name for value in model.graph.input}
    if "orig_target_sizes" not in inputs:
        return []
    return [
        node.name
        for node in model.graph.node
        # unscoped Identity/Constant nodes are shared weights left by the exporter, not post-processing
        if not node.name.startswith(NETWORK_SCOPE) and node.op_type not in ("Identity", "Constant")
    ]


def convert_to_fp16(src: str | Path, dst: str | Path, keep_fp32_ops: tuple[str, ...] = KEEP_FP32_OPS) -> Path:
    """Write an FP16 copy of the FP32 ONNX ``src`` to ``dst`` (FP32 I/O and metadata kept); returns ``dst``."""
    from onnxruntime.transformers import float16

    src, dst = Path(src), Path(dst)
    model = onnx.load(str(src))
    metadata = [(prop.key, prop.value) for prop in model.metadata_props]
    keep_nodes = detector_postprocess_nodes(model)
    with warnings.catch_warnings():
        # "the float32 number ... will be truncated": constants beyond FP16's range are clamped
        warnings.simplefilter("ignore", UserWarning)
        converted = float16.convert_float_to_float16(
            model,
            keep_io_types=True,
            # ops with no FP16 kernels (the converter's own list) plus ours
            op_block_list=sorted(set(float16.DEFAULT_OP_BLOCK_LIST) | set(keep_fp32_ops)),
            node_block_list=keep_nodes,
        )
    sort_topologically(converted.graph)
    del converted.metadata_props[:]
    for key, value in metadata:
        converted.metadata_props.add(key=key, value=value)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(converted, str(dst))
    return check_and_simplify(dst, simplify=False)


def sort_topologically(graph: onnx.GraphProto) -> None:
    """Reorder ``graph``'s nodes so that each comes after the nodes it reads from (in place).

    The float16 converter appends the input casts at the end; ONNX Runtime does not mind, but
    ``onnx.checker`` and TensorRT's parser require a sorted graph.
    """
    available = {value.name for value in graph.input} | {init.name for init in graph.initializer} | {""}
    pending = list(graph.node)
    ordered: list[onnx.NodeProto] = []
    while pending:
        ready = [node for node in pending if all(name in available for name in _reads(node))]
        if not ready:
            raise ValueError(f"graph has a cycle or reads undefined tensors near node '{pending[0].name}'")
        ready_ids = {id(node) for node in ready}
        pending = [node for node in pending if id(node) not in ready_ids]
        for node in ready:
            ordered.append(node)
            available.update(node.output)
    del graph.node[:]
    graph.node.extend(ordered)


def _reads(node: onnx.NodeProto) -> set[str]:
    """The tensors a node reads, those its subgraphs read from outside included."""
    names = set(node.input)
    for attribute in node.attribute:
        for subgraph in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
            inner = {o for n in subgraph.node for o in n.output} | {i.name for i in subgraph.initializer}
            inner |= {i.name for i in subgraph.input}
            names |= {name for n in subgraph.node for name in _reads(n) if name not in inner}
    return names
