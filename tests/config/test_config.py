"""Typed configuration: defaults, refusal of bad input with one-line errors, schema."""

import json
from pathlib import Path

import jsonschema
import pytest

from edge.config import Config, config_hash, config_schema, load_config
from edge.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


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


def test_paths_are_relative_to_the_config_file(tmp_path):
    cfg = load_config(write(tmp_path, "detector:\n  model: models/dfine.onnx\n"))
    assert cfg.detector.model == tmp_path / "models/dfine.onnx"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("scoring:\n  w_dd: 0.5\n", "scoring.w_dd: unknown key"),
        ("nonsense: 1\n", "nonsense: unknown key"),
        ("sampling:\n  fps: fast\n", 'sampling.fps = "fast": Input should be a valid number'),
        ("scoring:\n  w_d: 1.5\n", "scoring.w_d = 1.5: Input should be less than or equal to 1"),
        ("scoring:\n  w_d: 0.6\n", "w_d + w_s must equal 1"),
        ("scoring:\n  strategy: B\n", "strategy B needs scoring.quality_model"),
        ("scoring:\n  strategy: C\n", "scoring.strategy = \"C\": Input should be 'baseline', 'A' or 'B'"),
        ("selection:\n  top_k: 0\n", "selection.top_k = 0"),
        ("asr:\n  backend: funasr\n", "asr.model_dir: required key is missing"),
        ("asr:\n  backend: whisper\n  beam: 2\n", "asr.beam: unknown key"),
        ("- a\n- b\n", "top level must be a mapping"),
    ],
)
def test_bad_config_names_file_key_and_value(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_invalid_yaml_names_line_and_column(tmp_path):
    path = write(tmp_path, "scoring:\n  w_d: [0.7\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3:1: invalid YAML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")


def test_empty_file_is_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == Config()


def test_config_hash_changes_with_config(tmp_path):
    a = config_hash(Config())
    assert a == config_hash(load_config(write(tmp_path, "sampling:\n  fps: 2.0\n")))
    assert a != config_hash(load_config(write(tmp_path, "sampling:\n  fps: 3.0\n")))
