"""The Strategy B quality regressor with hand-built graphs whose raw output is known."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.config import QualityConfig, parse_config
from edge.errors import ModelError
from edge.runtime import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    QUALITY_MAX_KEY,
    QUALITY_MIN_KEY,
    GraphTensor,
    ModelSignature,
    preprocess_crops,
)
from edge.score import QualityModel, create_quality_regressor
from edge.score.quality import check_quality_signature
from edge.types import ModelInfo

SIZE = 32


def _open(path: Path, input_size: int = SIZE, **fields) -> QualityModel:
    return create_quality_regressor(QualityConfig(model=path, input_size=input_size, **fields), threads=1)


def red_mean_regressor(
    path: Path,
    metadata: dict[str, str] | None,
    *,
    size: int = SIZE,
    channels: int = 3,
    batch: int | str = "N",
    outputs: int = 1,
) -> Path:
    """raw[n] = mean of channel 0 of the normalised input, i.e. (R/255 - 0.485) / 0.229 for a flat crop."""
    consts = [
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.ones((1, outputs), np.float32), "ones"),
    ]
    nodes = [
        helper.make_node("Slice", ["crops", "zero", "one", "one"], ["red"]),
        helper.make_node("ReduceMean", ["red"], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Flatten", ["mean4"], ["mean"], axis=1),
        helper.make_node("Mul", ["mean", "ones"], ["raw"]),
    ]
    graph = helper.make_graph(
        nodes,
        "red_mean",
        [helper.make_tensor_value_info("crops", TensorProto.FLOAT, [batch, channels, size, size])],
        [helper.make_tensor_value_info("raw", TensorProto.FLOAT, [batch, outputs])],
        consts,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


def _range(low: float, high: float) -> dict[str, str]:
    return {QUALITY_MIN_KEY: str(low), QUALITY_MAX_KEY: str(high)}


def _crop(height: int, width: int, red: int) -> np.ndarray:
    crop = np.zeros((height, width, 3), np.uint8)
    crop[:, :, 2] = red  # BGR: red is last
    crop[:, :, 0] = 255 - red  # a different blue, so that a channel mix-up shows
    return crop


def _raw(red: int) -> float:
    return (red / 255 - 0.485) / 0.229


def test_predict_normalises_with_the_metadata_range(tmp_path) -> None:
    low, high = _raw(40), _raw(200)
    model = _open(red_mean_regressor(tmp_path / "q.onnx", _range(low, high)))
    reds = [40, 120, 200, 10, 250]
    crops = [_crop(h, w, r) for (h, w), r in zip([(10, 10), (50, 20), (224, 300), (3, 7), (64, 64)], reds)]
    got = model.predict(crops)
    expected = np.clip([(_raw(r) - low) / (high - low) for r in reds], 0, 1)
    assert got.shape == (5,) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert got[3] == 0.0 and got[4] == 1.0  # outside the range: clipped


def test_fixed_batch_and_empty_input(tmp_path) -> None:
    path = red_mean_regressor(tmp_path / "q.onnx", _range(_raw(0), _raw(255)), batch=1)
    model = _open(path)
    assert model.predict([]).shape == (0,)
    np.testing.assert_allclose(model.predict([_crop(5, 5, r) for r in (0, 51, 255)]), [0, 0.2, 1], atol=1e-5)


def test_preprocessing_uses_imagenet_statistics() -> None:
    crop = np.zeros((4, 6, 3), np.uint8)
    crop[:] = (30, 60, 90)  # B, G, R
    blob = preprocess_crops([crop], 8)
    assert blob.shape == (1, 3, 8, 8)
    expected = (np.array([90, 60, 30]) / 255 - IMAGENET_MEAN) / IMAGENET_STD  # R, G, B
    np.testing.assert_allclose(blob[0, :, 0, 0], expected, atol=1e-6)


def test_model_identity(tmp_path) -> None:
    path = red_mean_regressor(tmp_path / "quality.onnx", _range(0, 1))
    info = _open(path).model
    assert info.name == "quality.onnx" and info.precision == "fp32" and info.provider == "CPUExecutionProvider"
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, f"missing metadata key '{QUALITY_MIN_KEY}'"),
        ({QUALITY_MIN_KEY: "0"}, f"missing metadata key '{QUALITY_MAX_KEY}'"),
        ({QUALITY_MIN_KEY: "low", QUALITY_MAX_KEY: "1"}, f"'{QUALITY_MIN_KEY}' is not a finite number: 'low'"),
        ({QUALITY_MIN_KEY: "0", QUALITY_MAX_KEY: "inf"}, f"'{QUALITY_MAX_KEY}' is not a finite number"),
        (_range(2, 2), "metadata range is empty"),
    ],
    ids=["no-keys", "no-max", "not-a-number", "infinite", "empty-range"],
)
def test_bad_metadata(tmp_path, metadata, expected) -> None:
    path = red_mean_regressor(tmp_path / "q.onnx", metadata)
    with pytest.raises(ModelError) as caught:
        _open(path)
    assert str(caught.value).startswith(str(path)) and expected in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "input_size", "expected"),
    [
        ({"channels": 1}, SIZE, "input 'crops' has shape [N,1,32,32], expected [N,3,32,32]"),
        ({}, 224, "input 'crops' has shape [N,3,32,32], expected [N,3,224,224]"),
        ({"outputs": 2}, SIZE, "output 'raw' has shape [N,2], expected [N,1]"),
    ],
    ids=["grey-input", "other-size", "two-outputs"],
)
def test_signature_mismatch(tmp_path, kwargs, input_size, expected) -> None:
    path = red_mean_regressor(tmp_path / "q.onnx", _range(0, 1), **kwargs)
    with pytest.raises(ModelError, match="quality-regressor contract") as caught:
        _open(path, input_size)
    assert expected in str(caught.value)


def test_missing_and_fake_files(tmp_path) -> None:
    with pytest.raises(ModelError, match="q.onnx: model file not found"):
        _open(tmp_path / "q.onnx")
    fake = tmp_path / "fake.onnx"
    fake.write_text("EfficientNetV2 weights go here\n")
    with pytest.raises(ModelError, match="fake.onnx: not an ONNX model"):
        _open(fake)


@pytest.mark.parametrize(
    ("providers", "expected"),
    [
        (["CPUExecutionProvider"], ["CPUExecutionProvider"]),
        (["NoSuchExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"]),
        (["CUDAExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    ],
    ids=["cpu-only", "unavailable-first", "cuda"],
)
def test_session_runs_on_the_configured_providers(tmp_path, session_providers, providers, expected) -> None:
    """scoring.quality.providers reaches the session (the defaults would ask for CUDA first here)."""
    path = red_mean_regressor(tmp_path / "q.onnx", _range(0, 1))
    config = parse_config({"scoring": {"strategy": "B", "quality": {"model": str(path), "providers": providers,
                                                                    "input_size": SIZE}}}).scoring.quality
    model = create_quality_regressor(config, threads=1)
    assert session_providers == [expected]
    assert model.model.provider == "CPUExecutionProvider"  # what the session actually runs on here
    assert model.predict([_crop(4, 4, 255)]).shape == (1,)


def test_default_providers_prefer_the_gpu(tmp_path, session_providers) -> None:
    _open(red_mean_regressor(tmp_path / "q.onnx", _range(0, 1)))
    assert session_providers == [["CUDAExecutionProvider", "CPUExecutionProvider"]]


def test_one_constructor_takes_any_runner() -> None:
    """QualityModel runs whatever runner it is given (here one with a known raw score) and owns it."""

    class FixedRunner:
        def __init__(self) -> None:
            self.calls: list[tuple[list[str], dict[str, tuple[int, ...]]]] = []
            self.closed = False

        def run(self, output_names, feeds):
            self.calls.append((list(output_names), {name: array.shape for name, array in feeds.items()}))
            return [np.full((len(feeds["crops"]), 1), 0.75, np.float32)]

        def close(self) -> None:
            self.closed = True

    signature = ModelSignature(
        Path("fixed.onnx"),
        (GraphTensor("crops", "float32", ("N", 3, SIZE, SIZE)),),
        (GraphTensor("raw", "float32", ("N", 1)),),
        _range(0.5, 1.0),
    )
    runner = FixedRunner()
    model = QualityModel(runner, ModelInfo(name="fixed"), check_quality_signature(signature, SIZE), SIZE)
    np.testing.assert_allclose(model.predict([_crop(3, 3, 0), _crop(5, 5, 9)]), [0.5, 0.5])
    assert runner.calls == [(["raw"], {"crops": (2, 3, SIZE, SIZE)})]
    model.close()
    assert runner.closed
