"""``liveguard config check`` on layered files, and ``-c`` repeated on the commands that load a configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from workspace import CONFIGS, DEMO, REPO

from edge.config import load_config

SECRET = "sk-live-5f3c9e0d1a2b7788"


def liveguard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("INGEST_KEY", "CAM_HOST", "CREDENTIALS_DIRECTORY")}
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**environ, **(env or {})})


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


SITE = """\
transport:
  mqtt:
    enabled: true
    host: broker.site.example
    password_file: ${CREDENTIALS_DIRECTORY:-/run/credentials/liveguard.service}/mqtt-password
  https:
    enabled: true
    url: https://collector.example/ingest?key=${INGEST_KEY}
    token_env: INGEST_TOKEN
sampling:
  fps: 3
"""
DEVICE = """\
device:
  id: cam-9
streams:
  - id: studio
    url: rtsp://${CAM_HOST}/live
    username: viewer
    password_env: CAM_PASSWORD
sampling:
  fps: 4
"""


def test_layered_check_prints_the_effective_configuration_masked_and_ok(tmp_path: Path) -> None:
    site, device = write(tmp_path / "etc", "site.yaml", SITE), write(tmp_path / "box", "device.yaml", DEVICE)
    done = liveguard("config", "check", str(site), str(device), env={"INGEST_KEY": SECRET, "CAM_HOST": "10.1.2.3"})
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr and "10.1.2.3" not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"{site} + {device}: OK"
    assert "    url: '***'  # https://collector.example/ingest?key=${INGEST_KEY}" in lines
    assert "  url: '***'  # rtsp://${CAM_HOST}/live" in lines
    # references stay as they are: a *_file is where the secret is, a *_env the variable that holds it
    assert "    password_file: /run/credentials/liveguard.service/mqtt-password" in lines
    assert "  password_env: CAM_PASSWORD" in lines and "    token_env: INGEST_TOKEN" in lines
    printed = yaml.safe_load("\n".join(lines[:-1]))
    assert printed["sampling"]["fps"] == 4.0 and printed["device"] == {"id": "cam-9", "site": "site-0"}
    assert printed["transport"]["mqtt"]["host"] == "broker.site.example"  # merged from the site file
    assert printed["transport"]["https"]["url"] == "***"


def test_the_printed_configuration_is_the_effective_one(tmp_path: Path) -> None:
    """Without values from the environment, what check prints loads back to the same configuration."""
    site, device = CONFIGS / "site.example.yaml", CONFIGS / "device.example.yaml"
    done = liveguard("config", "check", str(site), str(device))
    assert done.returncode == 0, done.stderr
    printed = write(tmp_path, "effective.yaml", done.stdout.rsplit("\n", 2)[0] + "\n")
    assert load_config(printed) == load_config([site, device], environ={})


def test_one_file_prints_ok_alone_unless_asked(tmp_path: Path) -> None:
    path = write(tmp_path, "site.yaml", "sampling:\n  fps: 3\n")
    assert liveguard("config", "check", str(path)).stdout == f"{path}: OK\n"
    shown = liveguard("config", "check", "--show", str(path)).stdout
    assert shown.splitlines()[-1] == f"{path}: OK" and "  fps: 3.0" in shown.splitlines()
    other = write(tmp_path, "device.yaml", "device:\n  id: x\n")
    assert liveguard("config", "check", "--quiet", str(path), str(other)).stdout == f"{path} + {other}: OK\n"


def test_an_invalid_layer_is_one_line_naming_its_file_and_key(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", "sampling:\n  fps: 3\n")
    device = write(tmp_path, "device.yaml", "transport:\n  mqtt:\n    prot: 1883\n")
    done = liveguard("config", "check", str(site), str(device))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"liveguard: error: {device}: transport.mqtt.prot: unknown key"]
    done = liveguard("config", "check", str(device), str(site))  # the culprit is named whatever its place
    assert done.stderr.splitlines() == [f"liveguard: error: {device}: transport.mqtt.prot: unknown key"]


def test_a_missing_variable_is_one_line_naming_file_key_and_variable(tmp_path: Path) -> None:
    site, device = write(tmp_path, "site.yaml", SITE), write(tmp_path, "device.yaml", DEVICE)
    done = liveguard("config", "check", str(site), str(device), env={"INGEST_KEY": SECRET})
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"liveguard: error: {device}: streams.0.url: environment variable CAM_HOST is not set")


def test_a_bad_value_from_the_environment_is_named_not_printed(tmp_path: Path) -> None:
    path = write(tmp_path, "site.yaml", "transport:\n  mqtt:\n    port: ${INGEST_KEY}\n")
    done = liveguard("config", "check", str(path), env={"INGEST_KEY": SECRET})
    assert done.returncode == 2 and SECRET not in done.stderr
    assert done.stderr.startswith(f"liveguard: error: {path}: transport.mqtt.port") and "${INGEST_KEY}" in done.stderr


def test_run_and_fuse_layer_repeated_config_options(tmp_path: Path) -> None:
    """Each -c is read, in order: a bad key in either file is reported with that file's name."""
    good = write(tmp_path, "good.yaml", "asr:\n  backend: none\n")
    bad = write(tmp_path, "bad.yaml", "selection:\n  top_kk: 2\n")
    for command in (["run", str(DEMO)], ["fuse", str(tmp_path / "evidence.json")]):
        for first, second in ((good, bad), (bad, good)):
            done = liveguard(command[0], "-c", str(first), "--config", str(second), *command[1:])
            assert done.returncode == 2, done.stderr
            assert done.stderr.splitlines() == [f"liveguard: error: {bad}: selection.top_kk: unknown key"]


def test_a_flag_override_error_names_the_layers(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", "asr:\n  backend: none\n")
    device = write(tmp_path, "device.yaml", "scoring:\n  strategy: baseline\n")
    done = liveguard("run", "-c", str(site), "-c", str(device), "--top-k", "2", str(DEMO))
    assert done.returncode == 2
    assert done.stderr.startswith(f"liveguard: error: {site} + {device}: ") and "baseline" in done.stderr


def test_config_check_reads_the_site_rule_files_it_names(tmp_path):
    """A site's claim rules are relative to the file that names them; a faulty one fails the check in one line
    naming the file and the rule, the shipped example passes."""
    write(tmp_path / "claims", "ours.yaml", "name: ours\njurisdiction: X\nlanguage: zh\nrules:\n"
          "  - {id: hurry, family: absolute, reference: r, terms: [最后一批], colour: red}\n")
    site = write(tmp_path, "site.yaml", "claims:\n  files: [claims/ours.yaml]\n")
    done = liveguard("config", "check", str(site))
    assert done.returncode == 2 and done.stdout == ""
    (message,) = done.stderr.strip().splitlines()
    assert str(tmp_path / "claims" / "ours.yaml") in message and "rule hurry" in message and "colour" in message
    shipped = liveguard("config", "check", str(CONFIGS / "site.example.yaml"), str(CONFIGS / "device.example.yaml"), "--quiet")
    assert shipped.returncode == 0, shipped.stderr
