"""Fleet layering: defaults, a site file and a device file merged into one configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from workspace import CONFIGS

from edge.config import Config, config_hash, config_schema, load_config, load_layers
from edge.config.layers import _config_shape
from edge.errors import ConfigError


@pytest.fixture
def layer(tmp_path: Path):
    """``layer(text, name="site.yaml", folder=None)`` writes one layer (in its own folder if asked)."""

    def write(text: str, name: str = "site.yaml", folder: str | None = None) -> Path:
        directory = tmp_path / folder if folder else tmp_path
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_mappings_merge_key_by_key_and_later_files_win(layer):
    site = layer("transport:\n  mqtt:\n    host: broker.site\n    port: 8883\n    keepalive_s: 45\nsampling:\n  fps: 3\n")
    device = layer("device:\n  id: cam-7\ntransport:\n  mqtt:\n    port: 1884\n    username: cam-7\n", "device.yaml")
    mqtt = load_config([site, device]).transport.mqtt
    assert (mqtt.host, mqtt.port, mqtt.keepalive_s, mqtt.username) == ("broker.site", 1884, 45, "cam-7")
    config = load_config([site, device])
    assert (config.device.id, config.device.site, config.sampling.fps) == ("cam-7", "site-0", 3.0)
    assert load_config([device, site]).transport.mqtt.port == 8883  # order matters: the last file wins


def test_lists_and_scalars_replace(layer):
    site = layer("detector:\n  providers: [CUDAExecutionProvider, CPUExecutionProvider]\n  product_labels: [0, 1, 2]\n"
                 "streams:\n  - {id: a, url: 'rtmp://127.0.0.1/live/a'}\n  - {id: b, url: 'rtmp://127.0.0.1/live/b'}\n"
                 "models:\n  pack: /opt/pack/manifest.yaml\n")
    device = layer("detector:\n  providers: [CPUExecutionProvider]\nstreams:\n  - {id: c, url: 'rtmp://127.0.0.1/live/c'}\n"
                   "models:\n  pack: null\n", "device.yaml")
    config = load_config([site, device])
    assert config.detector.providers == ["CPUExecutionProvider"]  # replaced, not appended or merged by index
    assert config.detector.product_labels == [0, 1, 2]  # untouched by the device file
    assert [s.id for s in config.streams] == ["c"]
    assert config.models.pack is None  # a null replaces too


def test_a_mapping_replaced_by_a_scalar_forgets_what_was_below(layer):
    site = layer("scoring:\n  quality:\n    input_size: 96\n")
    device = layer("scoring:\n  quality: 5\n", "device.yaml")
    with pytest.raises(ConfigError) as info:
        load_config([site, device])
    assert str(info.value).startswith(f"{device}: scoring.quality")


def test_one_path_a_sequence_of_one_and_none_still_work(layer):
    path = layer("sampling:\n  fps: 4\n")
    assert load_config(path) == load_config(str(path)) == load_config([path]) == load_config((str(path),))
    assert load_config(path).sampling.fps == 4.0
    assert load_config() == load_config(None) == load_config([]) == Config()


def test_the_hash_is_the_merged_configurations(layer):
    site = layer("sampling:\n  fps: 3\n")
    device = layer("selection:\n  top_k: 2\n", "device.yaml")
    single = layer("sampling:\n  fps: 3\nselection:\n  top_k: 2\n", "single.yaml")
    assert config_hash(load_config([site, device])) == config_hash(load_config(single))
    assert config_hash(load_config([site, device])) != config_hash(load_config(site))


def test_environment_variables_expand_in_string_values(layer):
    path = layer("transport:\n  mqtt:\n    host: ${BROKER}\n    port: ${PORT:-8883}\n    topic_prefix: ${PREFIX:-lg}/${SITE}\n"
                 "    client_id: ${EMPTY:-fallback}\n  https:\n    url: 'https://x.example/$${literal}'\n")
    environ = {"BROKER": "mqtt.example.net", "SITE": "s9", "EMPTY": ""}
    config = load_config(path, environ=environ)
    mqtt = config.transport.mqtt
    assert (mqtt.host, mqtt.port, mqtt.topic_prefix, mqtt.client_id) == ("mqtt.example.net", 8883, "lg/s9", "fallback")
    assert config.transport.https.url == "https://x.example/${literal}"  # $${ is a literal ${
    assert load_config(path, environ={**environ, "PORT": "1884", "PREFIX": "p"}).transport.mqtt.topic_prefix == "p/s9"
    assert load_config(path, environ={**environ, "PORT": "1884"}).transport.mqtt.port == 1884


def test_the_process_environment_is_the_default(layer, monkeypatch):
    monkeypatch.setenv("LIVEGUARD_TEST_DEVICE", "cam-from-env")
    assert load_config(layer("device:\n  id: ${LIVEGUARD_TEST_DEVICE}\n")).device.id == "cam-from-env"


@pytest.mark.parametrize(
    "text, key",
    [
        ("transport:\n  mqtt:\n    host: ${NOT_SET_ANYWHERE}\n", "transport.mqtt.host"),
        ("streams:\n  - id: a\n    url: rtsp://${NOT_SET_ANYWHERE}/live\n", "streams.0.url"),
        ("detector:\n  providers: [CPUExecutionProvider, '${NOT_SET_ANYWHERE}']\n", "detector.providers.1"),
    ],
)
def test_a_missing_variable_names_the_file_the_key_and_the_variable(layer, text, key):
    site = layer("sampling:\n  fps: 3\n")
    device = layer(text, "device.yaml")
    with pytest.raises(ConfigError) as info:
        load_config([site, device], environ={})
    message = str(info.value)
    assert message.startswith(f"{device}: {key}: environment variable NOT_SET_ANYWHERE is not set") and "\n" not in message


def test_a_malformed_reference_is_an_error(layer):
    path = layer("device:\n  id: ${unclosed\n")
    with pytest.raises(ConfigError, match=rf"^{path}: device\.id: malformed \$\{{\.\.\.\}} reference"):
        load_config(path, environ={})


def test_relative_paths_resolve_against_the_file_that_set_them(layer, tmp_path):
    site = layer("transport:\n  mqtt:\n    ca_file: certs/ca.pem\n  outbox:\n    path: state/outbox.sqlite\n"
                 "detector:\n  model: models/site.onnx\n", folder="etc")
    device = layer("detector:\n  model: dfine.onnx\nscoring:\n  quality:\n    model: ~/q.onnx\n"
                   "streams:\n  - id: inbox\n    url: inbox\n    password_file: pw\n  - id: cam\n    url: rtsp://127.0.0.1/x\n"
                   "  - id: clip\n    url: file:///srv/a.mp4\n  - id: abs\n    url: /srv/inbox\n"
                   "asr:\n  backend: funasr\n  model_dir: asr/paraformer\n  vad_dir: ${ASR_ROOT:-asr}/vad\n"
                   "service:\n  state_dir: state\n", "device.yaml", folder="box")
    config = load_config([site, device], environ={})
    etc, box = tmp_path / "etc", tmp_path / "box"
    assert config.transport.mqtt.ca_file == etc / "certs/ca.pem"  # set by the site file: its folder
    assert config.transport.outbox.path == etc / "state/outbox.sqlite"
    assert config.detector.model == box / "dfine.onnx"  # the device file's replaces the site file's, with its folder
    assert config.scoring.quality.model == Path("~/q.onnx").expanduser()
    assert config.asr.model_dir == box / "asr/paraformer" and config.asr.vad_dir == box / "asr/vad"
    assert config.service.state_dir == box / "state"
    assert [s.url for s in config.streams] == [str(box / "inbox"), "rtsp://127.0.0.1/x", "file:///srv/a.mp4", "/srv/inbox"]
    assert config.streams[0].password_file == box / "pw"
    assert load_config([site, device], environ={"ASR_ROOT": "/models"}).asr.vad_dir == Path("/models/vad")


def test_every_path_field_of_the_schema_is_resolved_per_file():
    """The per-file resolution finds path fields by walking the models; the JSON Schema, read independently,
    must list the same fields (``format: path``), so a new path field cannot escape it."""
    schema = config_schema()

    def resolve(node: dict) -> dict:
        return schema["$defs"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node

    def paths_in_schema(node: dict, prefix: tuple) -> set[tuple]:
        node = resolve(node)
        found: set[tuple] = set()
        for option in node.get("anyOf", []) + node.get("oneOf", []):
            found |= paths_in_schema(option, prefix)
        if node.get("format") == "path":
            found.add(prefix)
        if node.get("type") == "array" and "items" in node:
            found |= paths_in_schema(node["items"], (*prefix, "[]"))
        for key, child in node.get("properties", {}).items():
            found |= paths_in_schema(child, (*prefix, key))
        return found

    def paths_in_shape(shape, prefix: tuple) -> set[tuple]:
        if shape == "path":
            return {prefix}
        if isinstance(shape, tuple):
            return paths_in_shape(shape[1], (*prefix, "[]"))
        if isinstance(shape, dict):
            return set().union(*(paths_in_shape(child, (*prefix, key)) for key, child in shape.items()))
        return set()

    from_schema = paths_in_schema(schema, ())
    assert ("transport", "mqtt", "password_file") in from_schema and ("streams", "[]", "password_file") in from_schema
    assert paths_in_shape(_config_shape(), ()) == from_schema


def test_errors_name_the_file_that_set_the_bad_key(layer):
    site = layer("sampling:\n  fps: 3\nscoring:\n  w_d: 0.7\n")
    for text, key in [("sampling:\n  fsp: 3\n", "sampling.fsp: unknown key"),
                      ("selection:\n  top_k: three\n", 'selection.top_k = "three"'),
                      ("scoring:\n  w_d: 0.9\n", "w_d + w_s must equal 1")]:
        device = layer(text, "device.yaml")
        with pytest.raises(ConfigError) as info:
            load_config([site, device])
        assert str(info.value).startswith(f"{device}: ") and key in str(info.value), str(info.value)
    bad_site = layer("sampling:\n  fps: fast\n", "bad-site.yaml")
    device = layer("device:\n  id: cam-1\n", "device.yaml")
    with pytest.raises(ConfigError, match=rf'^{bad_site}: sampling\.fps = "fast"'):
        load_config([bad_site, device])


def test_a_rule_across_files_holds_on_the_merged_values(layer):
    site = layer("scoring:\n  w_d: 0.6\n  w_q: 0.4\n")
    device = layer("scoring:\n  w_s: 0.4\n", "device.yaml")
    scoring = load_config([site, device]).scoring
    assert (scoring.w_d, scoring.w_s, scoring.w_q) == (0.6, 0.4, 0.4)
    with pytest.raises(ConfigError, match=r"w_d \+ w_s must equal 1"):
        load_config(site)  # alone, the site file breaks the rule


def test_a_value_from_the_environment_is_never_echoed_in_an_error(layer):
    secret = "hunter2-7f3a9c"
    for text in ["transport:\n  mqtt:\n    port: ${SECRET}\n",
                 "transport:\n  mqtt:\n    host: ${SECRET}\n    port: x\n",
                 "transport:\n  mqtt:\n    host: ${SECRET}\n    cert_file: client.pem\n",  # a rule on the whole section
                 "transport:\n  mqtt:\n    host: ${SECRET}\n    password: ${SECRET}\n",
                 "streams:\n  - id: a\n    url: rtsp://u:${SECRET}@127.0.0.1/live\n"]:
        path = layer(text)
        with pytest.raises(ConfigError) as info:
            load_config(path, environ={"SECRET": secret})
        assert secret not in str(info.value) and str(info.value).startswith(f"{path}: "), str(info.value)
    path = layer("transport:\n  mqtt:\n    port: ${SECRET}\n")
    with pytest.raises(ConfigError, match=r"the value came from \$\{SECRET\}"):
        load_config(path, environ={"SECRET": secret})


def test_layers_remember_what_came_from_the_environment(layer):
    site = layer("transport:\n  mqtt:\n    host: ${BROKER}\n    password_file: ${CREDS}/pw\n")
    device = layer("device:\n  id: ${ID}\n", "device.yaml")
    layered = load_layers([site, device], environ={"BROKER": "b", "CREDS": "/run/c", "ID": "x"})
    assert dict(layered.expanded) == {("transport", "mqtt", "host"): "${BROKER}",
                                      ("transport", "mqtt", "password_file"): "${CREDS}/pw", ("device", "id"): "${ID}"}
    assert layered.files == (site, device)
    overridden = load_layers([site, layer("transport:\n  mqtt:\n    host: plain\n", "d2.yaml")], environ={"BROKER": "b", "CREDS": "/c"})
    assert ("transport", "mqtt", "host") not in overridden.expanded  # a later plain value is not from the environment


def test_the_example_site_and_device_files_validate_layered():
    site, device = CONFIGS / "site.example.yaml", CONFIGS / "device.example.yaml"
    config = load_config([CONFIGS / "defaults.yaml", site, device], environ={})
    assert config == load_config([site, device], environ={})
    assert config.fusion.mode == "central" and config.transport.mqtt.enabled and config.transport.mqtt.port == 8883
    assert config.transport.mqtt.ca_file == CONFIGS / "ca.pem"  # relative to the site file
    assert config.transport.mqtt.username == config.device.id  # the broker ACL's %u is the device id
    assert config.transport.mqtt.password_file == Path("/run/credentials/liveguard.service/mqtt-password")
    credentials = {"CREDENTIALS_DIRECTORY": "/run/x"}
    assert load_config([site, device], environ=credentials).transport.mqtt.password_file == Path("/run/x/mqtt-password")
    assert config.windows.window_s == 20.0 and load_config(site).windows.window_s == 30.0  # the device overrides the site
    kinds = {s.id: s.url.split("://")[0] if "://" in s.url else "folder" for s in config.streams}
    assert sorted(kinds.values()) == ["folder", "rtmp", "rtsp"]
    rtsp = next(s for s in config.streams if s.url.startswith("rtsp://"))
    assert rtsp.username and rtsp.password_env and "@" not in rtsp.url
    assert load_config(site).device.site == config.device.site
