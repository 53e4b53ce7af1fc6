"""Typed configuration: defaults, refusal of bad input with one-line errors, schema."""

import json
from pathlib import Path

import jsonschema
import pytest
from workspace import REPO

from edge.config import (
    Config,
    DetectorConfig,
    ModelConfig,
    QualityConfig,
    ScoringConfig,
    config_hash,
    config_schema,
    load_config,
    parse_config,
)
from edge.errors import ConfigError


def test_defaults_are_the_papers():
    c = Config()
    assert (c.scoring.strategy, c.scoring.w_d, c.scoring.w_s, c.scoring.w_q) == ("A", 0.7, 0.3, 0.3)
    assert c.scoring.laplacian_norm == 500.0 and c.selection.spacing_divisor == 2.0 and c.selection.top_k == 1


def test_bundled_defaults_file_matches_the_models():
    assert load_config(REPO / "configs/defaults.yaml") == Config()


def test_bundled_schema_file_is_current():
    assert json.loads((REPO / "configs/liveguard.schema.json").read_text()) == config_schema()


def test_schema_validates_the_defaults_file():
    import yaml

    data = yaml.safe_load((REPO / "configs/defaults.yaml").read_text())
    jsonschema.validate(data, config_schema())


def test_paths_are_relative_to_the_config_file(write_yaml, tmp_path):
    cfg = load_config(write_yaml("detector:\n  model: models/dfine.onnx\n"))
    assert cfg.detector.model == tmp_path / "models/dfine.onnx"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("scoring:\n  w_dd: 0.5\n", "scoring.w_dd: unknown key"),
        ("nonsense: 1\n", "nonsense: unknown key"),
        ("sampling:\n  fps: fast\n", 'sampling.fps = "fast": Input should be a valid number'),
        ("scoring:\n  w_d: 1.5\n", "scoring.w_d = 1.5: Input should be less than or equal to 1"),
        ("scoring:\n  w_d: 0.6\n", "w_d + w_s must equal 1"),
        ("scoring:\n  strategy: B\n  quality:\n    model: null\n", "strategy B needs scoring.quality.model"),
        ("scoring:\n  quality:\n    input_size: 8\n", "scoring.quality.input_size = 8: Input should be greater"),
        ("scoring:\n  quality:\n    runtime: tensorrt\n", "runtime tensorrt needs scoring.quality.engine"),
        ("detector:\n  runtime: tensorrt\n", "runtime tensorrt needs detector.engine"),
        ("scoring:\n  strategy: C\n", "scoring.strategy = \"C\": Input should be 'baseline', 'A' or 'B'"),
        ("selection:\n  top_k: 0\n", "selection.top_k = 0"),
        ("asr:\n  backend: funasr\n", "asr.model_dir: required key is missing"),
        ("asr:\n  backend: whisper\n  beam: 2\n", "asr.beam: unknown key"),
        ("- a\n- b\n", "top level must be a mapping"),
    ],
)
def test_bad_config_names_file_key_and_value(write_yaml, text, expected):
    path = write_yaml(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_invalid_yaml_names_line_and_column(write_yaml):
    path = write_yaml("scoring:\n  w_d: [0.7\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3:1: invalid YAML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")


def test_empty_file_is_defaults(write_yaml):
    assert load_config(write_yaml("")) == Config()


def test_config_hash_changes_with_config(write_yaml):
    a = config_hash(Config())
    assert a == config_hash(load_config(write_yaml("sampling:\n  fps: 2.0\n")))
    assert a != config_hash(load_config(write_yaml("sampling:\n  fps: 3.0\n")))


OLD_QUALITY_KEYS = [
    ("quality_model", "q.onnx", "scoring.quality.model"),
    ("quality_input_size", 96, "scoring.quality.input_size"),
    ("quality_runtime", "tensorrt", "scoring.quality.runtime"),
    ("quality_engine", "quality-trt", "scoring.quality.engine"),
    ("quality_fallback_to_onnxruntime", False, "scoring.quality.fallback_to_onnxruntime"),
]


@pytest.mark.parametrize(("old", "value", "new"), OLD_QUALITY_KEYS, ids=[old for old, _, _ in OLD_QUALITY_KEYS])
def test_old_quality_keys_name_their_new_place(write_yaml, old, value, new):
    path = write_yaml(f"scoring:\n  strategy: B\n  {old}: {json.dumps(value)}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: scoring.{old}: moved to {new}"
    with pytest.raises(ConfigError, match=rf"^<config>: scoring\.{old}: moved to {new}$"):
        parse_config({"scoring": {old: value}})


def test_an_old_key_is_named_first_among_several(write_yaml):
    path = write_yaml("scoring:\n  strategy: B\n  quality_model: q.onnx\n  quality_input_size: 96\n")
    with pytest.raises(ConfigError, match=r"scoring\.quality_model: moved to scoring\.quality\.model \(and 1 more"):
        load_config(path)


def test_quality_regressor_is_a_model_section(write_yaml, tmp_path):
    cfg = load_config(write_yaml("scoring:\n  strategy: B\n  quality:\n    model: q/quality.onnx\n"
                                      "    providers: [CPUExecutionProvider]\n"))
    quality = cfg.scoring.quality
    assert isinstance(quality, ModelConfig) and isinstance(cfg.detector, ModelConfig)
    assert quality.model == tmp_path / "q/quality.onnx"  # relative to the config file, like detector.model
    assert (quality.runtime, quality.input_size, quality.providers) == ("onnxruntime", 224, ["CPUExecutionProvider"])
    assert set(ScoringConfig.model_fields) == {"strategy", "w_d", "w_s", "w_q", "laplacian_norm", "quality"}
    assert set(ModelConfig.model_fields) <= set(QualityConfig.model_fields) & set(DetectorConfig.model_fields)


def test_bundled_models_are_the_defaults_and_named_wherever_the_package_lives(write_yaml, tmp_path):
    from edge import bundled

    assert Config().detector.model == Path("bundled:detector.onnx") and Config().scoring.quality.model == bundled.QUALITY
    cfg = load_config(write_yaml("scoring:\n  strategy: B\n  quality:\n    model: bundled:quality.onnx\n"))
    assert cfg.scoring.quality.model == bundled.QUALITY  # not joined to the file's folder
    assert bundled.resolve(cfg.scoring.quality.model) == bundled.FOLDER / "quality.onnx"
    assert bundled.resolve(tmp_path / "x.onnx") == tmp_path / "x.onnx"
    assert load_config(write_yaml("detector:\n  model: null\n")).detector.model is None
