"""Models the detector must refuse, each with a message naming the file and the difference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from dfine_graphs import scripted_detector
from onnx import TensorProto, helper

from edge.config.models import DetectorConfig
from edge.detect import Detector, create_detector
from edge.errors import ModelError


def _load(path: Path, input_size: int = 64) -> Detector:
    detector = create_detector(DetectorConfig(model=path, input_size=input_size), threads=1)
    assert detector is not None
    return detector


def _mutated(tmp_path: Path, change: Callable[[onnx.ModelProto], None]) -> Path:
    path = scripted_detector(tmp_path / "model.onnx", [0], [0.9], [[0, 0, 1, 1]])
    model = onnx.load(str(path))
    change(model)
    onnx.save(model, str(path))
    return path


def _value(model: onnx.ModelProto, name: str) -> onnx.ValueInfoProto:
    return next(v for v in [*model.graph.input, *model.graph.output] if v.name == name)


def _rename_images(model: onnx.ModelProto) -> None:
    _value(model, "images").name = "pixel_values"


def _drop_scores(model: onnx.ModelProto) -> None:
    model.graph.output.remove(_value(model, "scores"))


def _sizes_as_int32(model: onnx.ModelProto) -> None:
    _value(model, "orig_target_sizes").type.tensor_type.elem_type = TensorProto.INT32


def _boxes_as_double(model: onnx.ModelProto) -> None:
    _value(model, "boxes").type.tensor_type.elem_type = TensorProto.DOUBLE


def _images_rank_3(model: onnx.ModelProto) -> None:
    del _value(model, "images").type.tensor_type.shape.dim[-1]


def _extra_input(model: onnx.ModelProto) -> None:
    model.graph.input.append(helper.make_tensor_value_info("threshold", TensorProto.FLOAT, [1]))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_rename_images, ["missing input 'images'", "'pixel_values'", "unexpected input 'pixel_values'"]),
        (_drop_scores, ["missing output 'scores'", "['boxes', 'labels']"]),
        (_sizes_as_int32, ["input 'orig_target_sizes' has dtype int32, expected int64"]),
        (_boxes_as_double, ["output 'boxes' has dtype float64, expected float32"]),
        (_images_rank_3, ["input 'images' has rank 3 [N,3,64], expected rank 4 [N,3,64,64]"]),
        (_extra_input, ["unexpected input 'threshold'"]),
    ],
    ids=["renamed-input", "missing-output", "wrong-dtype", "wrong-output-dtype", "wrong-rank", "extra-input"],
)
def test_signature_mismatch_names_the_difference(tmp_path, change, expected) -> None:
    path = _mutated(tmp_path, change)
    with pytest.raises(ModelError) as caught:
        _load(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "D-FINE detector contract" in message
    for part in expected:
        assert part in message


def test_input_side_must_match_the_config(tmp_path) -> None:
    path = scripted_detector(tmp_path / "m320.onnx", [0], [0.9], [[0, 0, 1, 1]], size=320)
    with pytest.raises(ModelError, match=r"'images' has shape \[N,3,320,320\], expected \[N,3,640,640\]"):
        _load(path, input_size=640)
    assert _load(path, input_size=320).input_size == 320


def _symbolic_side(model: onnx.ModelProto) -> None:
    for dim in _value(model, "images").type.tensor_type.shape.dim[2:]:
        dim.dim_param = "S"  # replaces the fixed value (a oneof)


def test_symbolic_input_side_is_accepted(tmp_path) -> None:
    path = _mutated(tmp_path, _symbolic_side)
    (found,) = _load(path).detect([np.zeros((30, 40, 3), np.uint8)])
    np.testing.assert_allclose(found.xyxy, [[0, 0, 40, 30]])


def test_missing_file(tmp_path) -> None:
    path = tmp_path / "absent.onnx"
    with pytest.raises(ModelError, match="absent.onnx: model file not found"):
        _load(path)


@pytest.mark.parametrize(
    "content", [b"", b"this is not a model\n", bytes(range(256)) * 8], ids=["empty", "text", "binary"]
)
def test_not_an_onnx_file(tmp_path, content) -> None:
    path = tmp_path / "fake.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=r"fake\.onnx: not an ONNX model"):
        _load(path)


def test_directory_instead_of_file(tmp_path) -> None:
    with pytest.raises(ModelError, match="not a file"):
        _load(tmp_path)


def test_unloadable_graph(tmp_path) -> None:
    """Right signature, but an operator ONNX Runtime does not know: refused at load, not at run."""

    def add_unknown_op(model: onnx.ModelProto) -> None:
        node = next(n for n in model.graph.node if n.output[0] == "scores")
        node.output[0] = "scores_raw"
        model.graph.node.append(helper.make_node("NoSuchOp", ["scores_raw"], ["scores"], domain="liveguard.test"))
        model.opset_import.append(helper.make_opsetid("liveguard.test", 1))

    path = _mutated(tmp_path, add_unknown_op)
    with pytest.raises(ModelError, match=r"model\.onnx: ONNX Runtime cannot load the graph"):
        _load(path)
