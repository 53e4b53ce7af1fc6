"""Fusion configuration: modes, the API key from an environment variable or a file, never from YAML."""

import os

import pytest

from edge.config import Config, load_config
from edge.config.secrets import read_api_key
from edge.errors import ConfigError
from edge.fusion import create_fusion, create_vl_reader, fuse_local

SECRET = "sk-yaml-secret-must-not-echo"



def test_defaults_are_local_and_point_at_dashscope():
    fusion = Config().fusion
    assert (fusion.mode, fusion.engine, fusion.structuring, fusion.vl.enabled) == ("local", "local-rules", False, False)
    assert fusion.cloud.base_url == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    assert (fusion.cloud.model, fusion.vl.model, fusion.cloud.api_key_env) == ("qwen-plus", "qwen-vl-plus", "DASHSCOPE_API_KEY")
    assert create_fusion(fusion) is fuse_local and create_vl_reader(fusion) is None  # no network, no key needed


@pytest.mark.parametrize(
    "text",
    [
        f"fusion:\n  mode: direct\n  api_key: {SECRET}\n",
        f"fusion:\n  mode: direct\n  cloud:\n    model: qwen-max\n    api_key: {SECRET}\n",
    ],
)
def test_a_plain_api_key_in_yaml_is_refused_without_echoing_it(write_yaml, text):
    path = write_yaml(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "use api_key_env" in message and "api_key_file" in message and "\n" not in message
    assert SECRET not in message and message.startswith(str(path))


def test_vl_needs_direct_mode(write_yaml):
    with pytest.raises(ConfigError, match="fusion.vl.enabled needs fusion.mode direct"):
        load_config(write_yaml("fusion:\n  vl:\n    enabled: true\n"))


def test_base_url_must_be_http(write_yaml):
    with pytest.raises(ConfigError, match="fusion.cloud.base_url"):
        load_config(write_yaml("fusion:\n  cloud:\n    base_url: dashscope.aliyuncs.com\n"))


def test_key_from_environment_variable():
    cloud = Config.model_validate({"fusion": {"cloud": {"api_key_env": "MY_KEY"}}}).fusion.cloud
    key = read_api_key(cloud, {"MY_KEY": "  sk-env  \n"})
    assert key.get_secret_value() == "sk-env" and "sk-env" not in repr(key) and "sk-env" not in str(key)


def test_missing_environment_variable_names_it_in_one_line():
    cloud = Config().fusion.cloud
    with pytest.raises(ConfigError, match=r"^fusion.cloud.api_key_env: environment variable DASHSCOPE_API_KEY is not set"):
        read_api_key(cloud, {})


def test_direct_mode_without_a_key_fails_at_start(monkeypatch):
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="DASHSCOPE_API_KEY"):
        create_fusion(Config.model_validate({"fusion": {"mode": "direct"}}).fusion)


def test_key_from_a_file_relative_to_the_config(write_yaml, tmp_path):
    (tmp_path / "dashscope.key").write_text("sk-from-file\n")
    os.chmod(tmp_path / "dashscope.key", 0o600)
    config = load_config(write_yaml("fusion:\n  mode: direct\n  cloud:\n    api_key_file: dashscope.key\n"))
    assert read_api_key(config.fusion.cloud, {}).get_secret_value() == "sk-from-file"


@pytest.mark.parametrize("content, problem", [(None, "file not found"), ("", "found nothing"), ("sk-a sk-b", "found several words")])
def test_bad_key_file(tmp_path, content, problem):
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    cloud = Config.model_validate({"fusion": {"cloud": {"api_key_file": str(path)}}}).fusion.cloud
    with pytest.raises(ConfigError, match=rf"^fusion.cloud.api_key_file: {path}: .*{problem}"):
        read_api_key(cloud, {})


def test_no_key_source_means_no_key():
    cloud = Config.model_validate({"fusion": {"cloud": {"api_key_env": None}}}).fusion.cloud
    assert read_api_key(cloud, {"DASHSCOPE_API_KEY": "sk-unused"}) is None
