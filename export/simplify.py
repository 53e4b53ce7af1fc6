"""Check and simplify an exported ONNX file in place, keeping its interface and metadata.

onnxslim rather than onnxsim: a pure-Python wheel (installs offline on any platform and
Python, Jetson included, no native build), it leaves the opset and the
LayerNormalization/GridSample nodes alone, and on the tiny D-FINE it folds the traced graph
from ~2700 to ~640 nodes with outputs equal to ~1e-6.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx


def check_and_simplify(path: str | Path, simplify: bool = True) -> Path:
    """``onnx.checker`` (full check, with shape inference), then onnxslim, then the checker again.

    The graph's input/output names, dtypes and shapes and its metadata are kept as they were;
    a simplification that changed them would be a bug, and is refused.
    """
    path = Path(path)
    onnx.checker.check_model(str(path), full_check=True)
    if not simplify:
        return path
    import onnxslim

    model = onnx.load(str(path))
    before = _interface(model)
    metadata = [(prop.key, prop.value) for prop in model.metadata_props]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slim = onnxslim.slim(model)
    problem = _interface_change(before, _interface(slim))
    if problem:
        raise RuntimeError(f"{path}: simplification changed the graph's interface ({problem}); export without it")
    del slim.metadata_props[:]
    for key, value in metadata:
        slim.metadata_props.add(key=key, value=value)
    onnx.save(slim, str(path))
    onnx.checker.check_model(str(path), full_check=True)
    return path


Dims = tuple[int | str, ...]


def _interface(model: onnx.ModelProto) -> list[tuple[str, str, int, Dims]]:
    weights = {init.name for init in model.graph.initializer}
    values = [("input", v) for v in model.graph.input if v.name not in weights]
    values += [("output", v) for v in model.graph.output]
    out = []
    for kind, value in values:
        tensor = value.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else d.dim_param for d in tensor.shape.dim)
        out.append((kind, value.name, tensor.elem_type, dims))
    return out


def _interface_change(before: list, after: list) -> str:
    """What changed, or "". An output's inferred symbolic size may become fixed (Q = 300)."""
    if [(k, n, t, len(d)) for k, n, t, d in before] != [(k, n, t, len(d)) for k, n, t, d in after]:
        return f"names, types or ranks: {[(n, t, len(d)) for _, n, t, d in after]}"
    for (kind, name, _, old), (_, _, _, new) in zip(before, after):
        for was, now in zip(old, new):
            if was != now and not (kind == "output" and isinstance(was, str) and isinstance(now, int)):
                return f"{kind} '{name}' shape {list(old)} became {list(new)}"
    return ""
