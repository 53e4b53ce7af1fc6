"""Dockerfile.jetson read as text: the image cannot be built here (no NVIDIA registry, no arm64), so its
invariants are checked by parsing it, and its HEALTHCHECK command is run against a local endpoint."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from packaging.specifiers import SpecifierSet
from workspace import REPO

from edge.config.models import HealthConfig, OutboxConfig, ServiceConfig

DOCKERFILE = REPO / "Dockerfile.jetson"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE|CREDENTIAL(?!S_DIRECTORY)", re.IGNORECASE)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) as Docker reads them: comment lines dropped, continuations joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue  # comments, also inside a continued instruction
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            keyword, _, rest = whole.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    assert not pending, "a continuation line ends the file"
    return found


STEPS = instructions(DOCKERFILE.read_text(encoding="utf-8"))


def args_of(keyword: str) -> list[str]:
    return [rest for key, rest in STEPS if key == keyword]


def assignments(rest: str) -> dict[str, str]:
    """``ENV A=1 B=2`` / ``ARG NAME=default`` / ``ARG NAME``."""
    return {name: value for name, _, value in (item.partition("=") for item in shlex.split(rest))}


def test_the_base_is_jetpack_6_1():
    froms = args_of("FROM")
    assert froms == ["nvcr.io/nvidia/l4t-jetpack:r36.4.0"]  # one stage, L4T r36.4: Python 3.10, CUDA 12.6, TensorRT 10.3
    assert [key for key, _ in STEPS][0] in ("FROM", "ARG")


def test_it_serves_the_layered_configuration_as_a_non_root_user():
    (cmd,) = args_of("CMD")
    assert json.loads(cmd) == ["liveguard", "serve", "-c", "/etc/liveguard/site.yaml", "-c", "/etc/liveguard/device.yaml"]
    users = args_of("USER")
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith(("root:", "0:"))
    assert [key for key, _ in STEPS].index("USER") < [key for key, _ in STEPS].index("CMD")
    env = {k: v for rest in args_of("ENV") for k, v in assignments(rest).items()}
    assert env["PATH"].startswith("/opt/liveguard/venv/bin:")  # `liveguard` is the venv's, as in the systemd unit
    assert not args_of("ENTRYPOINT")


def test_no_secrets_in_env_or_build_args():
    for keyword in ("ENV", "ARG", "LABEL"):
        for rest in args_of(keyword):
            for name, value in assignments(rest).items():
                assert not SECRET_NAME.search(name), f"{keyword} {name}"
                assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", value), f"{keyword} {name} holds credentials"
    env = {k: v for rest in args_of("ENV") for k, v in assignments(rest).items()}
    assert env["CREDENTIALS_DIRECTORY"] == "/run/secrets"  # a place, not a secret: device.yaml's *_file points there


def test_the_state_volume_and_the_health_port():
    assert args_of("VOLUME") == ['["/var/lib/liveguard"]']
    assert OutboxConfig().path.parent.as_posix() == ServiceConfig().state_dir.as_posix() == "/var/lib/liveguard"
    assert args_of("EXPOSE") == [f"{HealthConfig().port}/tcp"]
    env = {k: v for rest in args_of("ENV") for k, v in assignments(rest).items()}
    assert env["LIVEGUARD_HEALTH_PORT"] == str(HealthConfig().port)


def healthcheck() -> tuple[dict[str, str], str]:
    (rest,) = args_of("HEALTHCHECK")
    options, _, command = rest.partition(" CMD ")
    flags = dict(item.lstrip("-").split("=", 1) for item in options.split())
    return flags, command


def test_the_healthcheck_asks_healthz_with_python_alone():
    flags, command = healthcheck()
    assert "/healthz" in command and "urllib.request" in command and "curl" not in command and "wget" not in command
    assert int(flags["start-period"].rstrip("s")) >= 120  # model loading, like the unit's TimeoutStartSec
    assert int(flags["timeout"].rstrip("s")) >= 2


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False), (None, False)])
def test_the_healthcheck_command_says_what_the_endpoint_says(status, healthy):
    """The HEALTHCHECK's own command (its python swapped for this one) against a local /healthz."""
    _, command = healthcheck()
    argv = shlex.split(command)
    assert argv[0] == "/opt/liveguard/venv/bin/python" and argv[1] == "-c"
    handler = type("Handler", (_Health,), {"status": status or 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    if status is None:
        server.server_close()  # nothing listens: connection refused
    else:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run([sys.executable, "-c", argv[2]], env={**os.environ, "LIVEGUARD_HEALTH_PORT": str(port)},
                              capture_output=True, text=True, timeout=30)
    finally:
        if status is not None:
            server.shutdown()
            server.server_close()
    assert (done.returncode == 0) is healthy, done.stderr


def test_python_packages_fit_python_3_10():
    text = DOCKERFILE.read_text(encoding="utf-8")
    arg = {k: v for rest in args_of("ARG") for k, v in assignments(rest).items()}
    assert arg["AV_VERSION"] == "17.1.0"  # av 18 needs Python >= 3.11; JetPack 6 has 3.10
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    requires_python = re.search(r'^requires-python = "([^"]+)"', pyproject, re.M).group(1)
    av_requirement = re.search(r'^\s*"av([^"]*)",', pyproject, re.M).group(1)
    assert "3.10" in SpecifierSet(requires_python) and arg["AV_VERSION"] in SpecifierSet(av_requirement)
    assert '-c /tmp/constraints.txt' in text and 'echo "av==${AV_VERSION}"' in text


def test_onnxruntime_gpu_comes_from_the_jetson_index_pinned_by_version_and_hash():
    arg = {k: v for rest in args_of("ARG") for k, v in assignments(rest).items()}
    assert re.fullmatch(r"\d+\.\d+\.\d+", arg["ONNXRUNTIME_GPU_VERSION"])
    assert arg["ONNXRUNTIME_GPU_INDEX"] == "https://pypi.jetson-ai-lab.io/jp6/cu126"
    assert arg["ONNXRUNTIME_GPU_SHA256"] == ""  # filled in at build time; the build refuses to run without it
    (install,) = [rest for rest in args_of("RUN") if "onnxruntime-gpu==" in rest]
    assert 'test -n "${ONNXRUNTIME_GPU_SHA256}"' in install and "--require-hashes" in install
    assert "--hash=sha256:${ONNXRUNTIME_GPU_SHA256}" in install and '--index-url "${ONNXRUNTIME_GPU_INDEX}"' in install
    assert install.index("pip uninstall -y onnxruntime") < install.index("--require-hashes")  # CPU wheel out first
    assert "CUDAExecutionProvider" in install
    (apt,) = [rest for rest in args_of("RUN") if "apt-get install" in rest]
    assert "python3-libnvinfer" in apt.split()  # TensorRT's bindings from JetPack, not from PyPI
    assert not [rest for rest in args_of("RUN") if re.search(r"pip install[^&]*\btensorrt\b", rest)]


def test_what_it_copies_is_in_the_build_context():
    """.dockerignore is an allow-list; each COPY source must be on it (else the build fails at COPY)."""
    rules = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    sources = [src for rest in args_of("COPY") for src in shlex.split(rest)[:-1] if not src.startswith("--")]
    assert sources and all(src in allowed for src in sources), (sources, allowed)
    assert all((REPO / src).exists() for src in sources)
    assert not {".venv", ".git", "tests", "samples", "engines"} & allowed
