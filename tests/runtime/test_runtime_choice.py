"""Opening a model on its runtime: TensorRT engines from the pack, refusal messages, ONNX Runtime fallback."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pack_files import DETECTOR_SIZE, HERE, QUALITY_SIZE, frames, make_pack

from edge.cli import main as liveguard
from edge.config import parse_config
from edge.config.models import DetectorConfig, QualityConfig
from edge.detect import create_detector
from edge.errors import ConfigError, ModelError
from edge.runtime import TensorRTTarget, target
from edge.score import create_quality_regressor

ELSEWHERE = TensorRTTarget(version="10.7.0", gpu="NVIDIA RTX 4090", compute_capability="8.9")


@pytest.fixture()
def pack(tmp_path, monkeypatch):
    monkeypatch.setattr(target, "current_target", lambda: ELSEWHERE)  # this "box" is not the engines' GPU
    return make_pack(tmp_path / "pack")


def _detector_config(**fields) -> DetectorConfig:
    return DetectorConfig(input_size=DETECTOR_SIZE, runtime="tensorrt", engine="detector-trt", **fields)


def test_config_needs_an_engine_and_a_pack(tmp_path) -> None:
    with pytest.raises(ConfigError, match="runtime tensorrt needs detector.engine"):
        parse_config({"detector": {"runtime": "tensorrt"}})
    with pytest.raises(ConfigError, match="detector.runtime = tensorrt needs models.pack"):
        parse_config({"detector": {"runtime": "tensorrt", "engine": "d"}})
    with pytest.raises(ConfigError, match="runtime tensorrt needs scoring.quality.engine"):
        parse_config({"scoring": {"quality": {"runtime": "tensorrt"}}})
    with pytest.raises(ConfigError, match="scoring.quality.runtime = tensorrt needs models.pack"):
        parse_config({"scoring": {"quality": {"runtime": "tensorrt", "engine": "q"}}})
    config = parse_config(
        {"models": {"pack": "engines/manifest.yaml"}, "detector": {"runtime": "tensorrt", "engine": "d"},
         "scoring": {"strategy": "B", "w_s": 0.3, "quality": {"runtime": "tensorrt", "engine": "q"}}},
        base_dir=tmp_path,
    )
    assert config.models.pack == tmp_path / "engines/manifest.yaml"  # relative to the config file
    assert "model" not in config.scoring.quality.model_fields_set  # strategy B is served by the engine


def test_foreign_engine_is_refused_with_how_to_rebuild(pack) -> None:
    with pytest.raises(ModelError) as raised:
        create_detector(_detector_config(fallback_to_onnxruntime=False), threads=1, pack=pack.path)
    message = str(raised.value)
    assert message.startswith(str(pack.root / "detector-trt.engine"))
    assert "engine 'detector-trt' is foreign: built for TensorRT 10.3.0, this box has 10.7.0" in message
    assert "Orin (compute capability 8.7), this box has NVIDIA RTX 4090 (8.9)" in message
    assert f"rebuild it on this box with `liveguard engines build --pack {pack.path}`" in message
    assert "\n" not in message


def test_detector_falls_back_to_the_engines_source_onnx(pack, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="liveguard.models"):
        detector = create_detector(_detector_config(), threads=1, pack=pack.path)
    assert detector.model.name == "detector.onnx" and detector.model.provider == "CPUExecutionProvider"
    assert "is foreign" in caplog.text and "falling back to ONNX Runtime with" in caplog.text
    found = detector.detect(frames())
    assert [len(d) for d in found] == [1, 1]  # label 0 only, the scripted graph's first box


def test_fallback_prefers_the_configured_onnx(pack, tmp_path) -> None:
    import shutil

    copy = tmp_path / "mine.onnx"
    shutil.copy(pack.root / "detector.onnx", copy)
    detector = create_detector(_detector_config(model=copy), threads=1, pack=pack.path)
    assert detector.model.name == "mine.onnx"


def test_stale_engine_is_refused_even_on_its_own_box(pack, monkeypatch) -> None:
    monkeypatch.setattr(target, "current_target", lambda: HERE)
    (pack.root / "detector-trt.engine").write_bytes(b"replaced")
    with pytest.raises(ModelError, match="engine 'detector-trt' is stale: sha256 of detector-trt.engine"):
        create_detector(_detector_config(fallback_to_onnxruntime=False), threads=1, pack=pack.path)


def test_quality_regressor_engine_falls_back_or_refuses(pack, caplog) -> None:
    config = QualityConfig(runtime="tensorrt", engine="quality-trt", input_size=QUALITY_SIZE)
    with caplog.at_level(logging.WARNING, logger="liveguard.models"):
        model = create_quality_regressor(config, threads=1, pack=pack.path)
    assert model.model.name == "quality.onnx" and (model.raw_min, model.raw_max) == (0.0, 1.0)
    assert model.predict(frames()).shape == (2,)
    strict = config.model_copy(update={"fallback_to_onnxruntime": False})
    with pytest.raises(ModelError, match="engine 'quality-trt' is foreign"):
        create_quality_regressor(strict, threads=1, pack=pack.path)


def test_an_engine_of_the_other_role_is_refused(pack) -> None:
    config = DetectorConfig(input_size=DETECTOR_SIZE, runtime="tensorrt", engine="quality-trt",
                            fallback_to_onnxruntime=False)
    with pytest.raises(ModelError, match="model 'quality-trt' is a quality engine, not a detector"):
        create_detector(config, threads=1, pack=pack.path)


def test_engines_list_shows_what_can_run_here(pack, capsys) -> None:
    (pack.root / "quality-trt.engine").unlink()
    assert liveguard(["engines", "list", "--pack", str(pack.path)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["detector"].rstrip().endswith("ok")
    assert "foreign: built for TensorRT 10.3.0, this box has 10.7.0" in lines["detector-trt"]
    assert "[TensorRT 10.3.0 on Orin (compute capability 8.7)]" in lines["detector-trt"]
    assert "missing: file quality-trt.engine not found" in lines["quality-trt"]


def test_engines_list_reads_the_pack_from_the_config(pack, tmp_path, capsys) -> None:
    config = tmp_path / "box.yaml"
    config.write_text(f"models:\n  pack: {pack.path.relative_to(tmp_path)}\n")
    assert liveguard(["engines", "list", "--config", str(config)]) == 0
    assert "detector-trt" in capsys.readouterr().out


@pytest.mark.skipif(target.tensorrt_available(), reason="checks the message on a box without TensorRT")
def test_engines_build_without_tensorrt_says_so(tmp_path, capsys) -> None:
    pack = make_pack(tmp_path / "pack", built_for=None)
    assert liveguard(["engines", "build", "--pack", str(pack.path)]) == 4
    err = capsys.readouterr().err.strip()
    assert err.startswith("liveguard: error: tensorrt: TensorRT is not installed") and "\n" not in err


def test_tensorrt_without_a_pack_names_the_key() -> None:
    config = QualityConfig(runtime="tensorrt", engine="quality-trt", input_size=QUALITY_SIZE)
    with pytest.raises(ModelError, match=r"^scoring\.quality\.engine: runtime tensorrt needs models\.pack"):
        create_quality_regressor(config, threads=1, pack=None)


def test_a_detector_engine_is_refused_as_the_quality_regressor(pack) -> None:
    config = QualityConfig(runtime="tensorrt", engine="detector-trt", input_size=QUALITY_SIZE,
                           fallback_to_onnxruntime=False)
    with pytest.raises(ModelError, match="model 'detector-trt' is a detector engine, not a quality"):
        create_quality_regressor(config, threads=1, pack=pack.path)


def test_fallback_runs_on_the_sections_providers(pack, session_providers) -> None:
    create_quality_regressor(QualityConfig(runtime="tensorrt", engine="quality-trt", input_size=QUALITY_SIZE,
                                           providers=["CPUExecutionProvider"]), threads=1, pack=pack.path)
    create_detector(_detector_config(providers=["CUDAExecutionProvider"]), threads=1, pack=pack.path)
    assert session_providers == [["CPUExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]]


def test_open_model_hands_back_runner_identity_signature_and_contract(pack) -> None:
    from edge.runtime import open_model

    seen = []

    def check(signature):
        seen.append(signature)
        return "checked"

    config = QualityConfig(model=pack.root / "quality.onnx", input_size=QUALITY_SIZE)
    opened = open_model(config, "quality", check, threads=1)
    (signature,) = seen
    assert opened.contract == "checked" and opened.signature == signature
    assert signature.path == pack.root / "quality.onnx"
    assert [t.name for t in signature.inputs] == ["images"] and [t.name for t in signature.outputs] == ["quality"]
    assert signature.metadata["liveguard.quality.max"] == "1.0"
    assert opened.model.name == "quality.onnx" and opened.model.provider == "CPUExecutionProvider"
    (out,) = opened.runner.run(["quality"], {"images": np.zeros((2, 3, QUALITY_SIZE, QUALITY_SIZE), np.float32)})
    assert out.shape == (2, 1)
    opened.runner.close()


def test_a_check_that_refuses_stops_the_opening(pack) -> None:
    from edge.runtime import open_model

    def refuse(signature):
        raise ModelError(str(signature.path), "not for this model")

    config = QualityConfig(model=pack.root / "quality.onnx", input_size=QUALITY_SIZE)
    with pytest.raises(ModelError, match=r"quality\.onnx: not for this model"):
        open_model(config, "quality", refuse, threads=1)
    engine = QualityConfig(runtime="tensorrt", engine="quality-trt", input_size=QUALITY_SIZE)
    with pytest.raises(ModelError, match=r"quality\.onnx: not for this model"):  # the fallback checks it too
        open_model(engine, "quality", refuse, threads=1, pack=pack.path)
