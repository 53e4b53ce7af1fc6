"""Cloud fusion against a loopback server that misbehaves the ways a real cloud does.

Each fault ends in the documented behaviour: 429/5xx/timeouts back off inside the retry budget,
other 4xx (``data_inspection_failed`` included) are final, broken or misshapen answers get one
repair attempt, and whatever fails, the local rules still produce the record, which names its
engine and lists every failure. No exception escapes.
"""

import json
import logging
import time

import pytest
from chat_server import ChatServer, Step, completion, error_body

from edge.config import Config
from edge.evidence import RESULT_SCHEMA, schema_problem
from edge.fusion import create_fusion, fuse_local

KEY = "sk-test-0123456789abcdef-DO-NOT-LEAK"

RETRY = {"max_attempts": 4, "max_wait_s": 1.0, "base_delay_s": 0.05, "max_delay_s": 0.4}

GOOD = {
    "product_name": "Hydra Glow Face Cream",
    "brand": "AURORA",
    "category": "Skincare",
    "key_attributes": {"spec": "50 ml"},
    "price": "¥129",
    "confidence": {"product_name": 0.93, "brand": 0.97, "category": 0.9, "key_attributes": 0.9, "price": 0.8},
    "support": {"product_name": ["ocr", "asr"], "brand": ["ocr", "asr"], "category": ["ocr"],
                "key_attributes": ["ocr"], "price": ["asr"]},
}


@pytest.fixture
def window(make_evidence, make_line):
    return make_evidence(
        [
            make_line("AURORA", 0.98, height=60, top=50),
            make_line("Hydra Glow Face Cream", 0.95, height=30, top=130),
            make_line("50 ml", 0.97, height=18, top=180),
            make_line("@MiaLive", 0.99, height=40, in_product=False, top=400),
        ],
        speech="This is the Aurora Hydra Glow face cream, only 129 yuan today.",
    )


@pytest.fixture
def engine_for(monkeypatch):
    monkeypatch.setenv("LIVEGUARD_TEST_KEY", KEY)
    engines = []

    def make(base_url, read_timeout_s=2.0, **retry):
        cloud = {"base_url": base_url, "model": "qwen-plus", "api_key_env": "LIVEGUARD_TEST_KEY",
                 "connect_timeout_s": 1.0, "read_timeout_s": read_timeout_s, "retry": {**RETRY, **retry}}
        config = Config.model_validate({"fusion": {"mode": "direct", "cloud": cloud}})
        engine = create_fusion(config.fusion)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def fuse_timed(engine, evidence):
    start = time.monotonic()
    result = engine(evidence)
    elapsed = time.monotonic() - start
    assert schema_problem(result, RESULT_SCHEMA) is None
    return result, elapsed


def assert_fell_back(result, evidence, *phrases):
    local = fuse_local(evidence)
    assert result["engine"] == "local-rules"
    assert {k: result[k] for k in ("product_name", "brand", "price")} == {k: local[k] for k in ("product_name", "brand", "price")}
    text = "\n".join(result["failures"])
    assert "local-rules decided" in result["failures"][-1]
    for phrase in phrases:
        assert phrase in text, text
    assert all("\n" not in line for line in result["failures"])


def test_valid_answer_becomes_a_result_and_the_request_is_right(engine_for, window):
    with ChatServer([Step(200, completion(json.dumps(GOOD)))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert result["engine"] == "qwen-plus" and "failures" not in result
    assert (result["product_name"], result["brand"], result["price"]) == ("Hydra Glow Face Cream", "AURORA", "¥129")
    assert result["support"]["price"] == ["asr"] and result["evidence_id"] == window["id"]
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = request.body
    assert (body["model"], body["temperature"], body["seed"]) == ("qwen-plus", 0, 42)
    assert body["response_format"] == {"type": "json_object"}  # plain JSON mode unless cloud.json_schema
    assert "json" in " ".join(m["content"] for m in body["messages"]).lower()  # DashScope's JSON-mode rule


def test_429_without_retry_after_backs_off_then_succeeds(engine_for, window):
    steps = [Step(429, error_body("Throttling.RateQuota", "Requests rate limit exceeded")) for _ in range(2)]
    with ChatServer([*steps, Step(200, completion(json.dumps(GOOD)))]) as server:
        result, elapsed = fuse_timed(engine_for(server.base_url), window)
    assert result["engine"] == "qwen-plus" and len(server.requests) == 3
    assert len(result["failures"]) == 2 and all("HTTP 429" in f and "then retried" in f for f in result["failures"])
    # exponential with jitter: step n waits between half and all of base·2^(n-1)
    assert 0.025 <= server.gaps()[0] < 0.05 + 0.5 and 0.05 <= server.gaps()[1] < 0.1 + 0.5
    assert elapsed < RETRY["max_wait_s"] + 1.0


def test_429_retry_after_is_honoured(engine_for, window):
    steps = [Step(429, error_body("Throttling", "slow down"), {"Retry-After": "0.6"}), Step(200, completion(json.dumps(GOOD)))]
    with ChatServer(steps) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert result["engine"] == "qwen-plus" and len(server.requests) == 2
    assert server.gaps()[0] >= 0.6
    assert "Retry-After 0.6s" in result["failures"][0]


def test_429_retry_after_beyond_the_budget_gives_up_at_once(engine_for, window):
    with ChatServer([Step(429, error_body("Throttling", "slow down"), {"Retry-After": "120"})]) as server:
        result, elapsed = fuse_timed(engine_for(server.base_url), window)
    assert len(server.requests) == 1 and elapsed < 1.0
    assert_fell_back(result, window, "HTTP 429", "Retry-After 120s exceeds")


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_exhausts_attempts_inside_the_wait_budget(engine_for, window, status):
    with ChatServer([Step(status, error_body("InternalError", "try later"))]) as server:
        result, elapsed = fuse_timed(engine_for(server.base_url), window)
    assert len(server.requests) == RETRY["max_attempts"]
    assert sum(server.gaps()) <= RETRY["max_wait_s"] + 0.3
    assert elapsed <= RETRY["max_wait_s"] + 1.0
    assert_fell_back(result, window, f"HTTP {status}", "4 attempt(s) spent")
    assert sum(f"HTTP {status}" in f for f in result["failures"]) == RETRY["max_attempts"]


def test_503_then_success(engine_for, window):
    with ChatServer([Step(503, "Service Unavailable"), Step(200, completion(json.dumps(GOOD)))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert result["engine"] == "qwen-plus" and len(server.requests) == 2 and "HTTP 503" in result["failures"][0]


def test_wait_budget_caps_the_back_off(engine_for, window):
    # base 0.3 s doubling: 0.3 + 0.6 + 1.2 would exceed 0.5 s of budget; the client stops waiting there
    with ChatServer([Step(500, error_body("InternalError", "boom"))]) as server:
        result, elapsed = fuse_timed(engine_for(server.base_url, max_attempts=6, max_wait_s=0.5, base_delay_s=0.3, max_delay_s=5), window)
    assert 2 <= len(server.requests) < 6
    assert sum(server.gaps()) <= 0.5 + 0.3 and elapsed <= 0.5 + 1.0
    assert_fell_back(result, window, "retry budget")


def test_slow_replies_past_the_timeout(engine_for, window):
    with ChatServer([Step(200, completion(json.dumps(GOOD)), delay=1.5)]) as server:
        result, elapsed = fuse_timed(engine_for(server.base_url, read_timeout_s=0.3, max_attempts=3), window)
    assert len(server.requests) == 3
    assert elapsed <= 3 * 0.3 + RETRY["max_wait_s"] + 0.8
    assert_fell_back(result, window, "read timeout after 0.3s", "3 attempt(s) spent")


def test_slow_reply_then_fast_one(engine_for, window):
    with ChatServer([Step(200, completion(json.dumps(GOOD)), delay=1.0), Step(200, completion(json.dumps(GOOD)))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url, read_timeout_s=0.3), window)
    assert result["engine"] == "qwen-plus" and "read timeout" in result["failures"][0]


def test_truncated_answer_is_repaired_once(engine_for, window):
    cut = json.dumps(GOOD)[:40]
    with ChatServer([Step(200, completion(cut, "length")), Step(200, completion(json.dumps(GOOD)))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert result["engine"] == "qwen-plus" and len(server.requests) == 2
    repair = server.requests[1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": cut}
    assert "invalid JSON" in repair[-1]["content"] and "cut off at max_tokens" in repair[-1]["content"]
    assert "asking once to repair" in result["failures"][0]


def test_truncated_answer_twice_falls_back(engine_for, window):
    cut = json.dumps(GOOD)[:40]
    with ChatServer([Step(200, completion(cut, "length"))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert len(server.requests) == 2  # one answer, one repair: no more
    assert_fell_back(result, window, "invalid JSON", "answered unusably again")


def test_truncated_http_body_is_retried(engine_for, window):
    whole = json.dumps(completion(json.dumps(GOOD)))
    with ChatServer([Step(200, whole, cut_body_at=50), Step(200, completion(json.dumps(GOOD)))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert result["engine"] == "qwen-plus" and len(server.requests) == 2


def test_broken_envelope_is_retried_then_falls_back(engine_for, window):
    with ChatServer([Step(200, '{"choices": [{"message": {"content": "x"')]) as server:
        result, _ = fuse_timed(engine_for(server.base_url, max_attempts=2), window)
    assert len(server.requests) == 2
    assert_fell_back(result, window, "HTTP 200 without a chat completion")


@pytest.mark.parametrize(
    "answer, problem",
    [
        ({"name": "Hydra Glow", "maker": "AURORA"}, "wrong shape at $"),
        ({**GOOD, "confidence": {**GOOD["confidence"], "brand": 7}}, "wrong shape at $.confidence.brand"),
        ({**GOOD, "support": {**GOOD["support"], "brand": ["billboard"]}}, "wrong shape at $.support.brand[0]"),
        (["AURORA"], "expected one JSON object"),
    ],
)
def test_valid_json_of_the_wrong_shape_gets_one_repair_then_falls_back(engine_for, window, answer, problem):
    with ChatServer([Step(200, completion(json.dumps(answer)))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert len(server.requests) == 2
    assert problem in server.requests[1].body["messages"][-1]["content"]
    assert_fell_back(result, window, problem)


def test_data_inspection_failed_is_not_retried(engine_for, window):
    body = error_body("data_inspection_failed", "Input data may contain inappropriate content.")
    with ChatServer([Step(400, body)]) as server:
        result, elapsed = fuse_timed(engine_for(server.base_url), window)
    assert len(server.requests) == 1 and elapsed < 1.0
    assert_fell_back(result, window, "HTTP 400 data_inspection_failed", "not retried")


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_other_4xx_are_not_retried(engine_for, window, status):
    with ChatServer([Step(status, error_body("invalid_request_error", "nope"))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    assert len(server.requests) == 1
    assert_fell_back(result, window, f"HTTP {status}")


def test_cloud_away_connection_refused(engine_for, window):
    with ChatServer([Step(200, {})]) as server:
        url = server.base_url  # the port is free again once the server is gone
    result, elapsed = fuse_timed(engine_for(url, max_attempts=3), window)
    assert elapsed <= RETRY["max_wait_s"] + 1.0
    assert_fell_back(result, window, "ConnectError", "3 attempt(s) spent")


def test_the_key_never_leaks(engine_for, window, caplog):
    echo = error_body("invalid_api_key", f"Incorrect API key provided: Bearer {KEY}")
    with caplog.at_level(logging.DEBUG), ChatServer([Step(401, echo)]) as server:
        engine = engine_for(server.base_url)
        result, _ = fuse_timed(engine, window)
        assert server.requests[0].headers["Authorization"] == f"Bearer {KEY}"  # it does travel, in the header
    everywhere = [json.dumps(result), caplog.text, repr(engine.client.__dict__), repr(engine.config)]
    assert all(KEY not in text for text in everywhere)
    assert "***" in "\n".join(result["failures"])


def test_structuring_adds_units_to_the_fusion_prompt(monkeypatch, window):
    monkeypatch.setenv("LIVEGUARD_TEST_KEY", KEY)
    unit = {"brand": "AURORA", "product_name": "Hydra Glow Face Cream", "category": "Skincare", "specs": ["50 ml"],
            "price": None, "confidence": 0.9}
    steps = [Step(200, completion(json.dumps(unit))), Step(200, completion(json.dumps({**unit, "price": "¥129"}))),
             Step(200, completion(json.dumps(GOOD)))]
    with ChatServer(steps) as server:
        cloud = {"base_url": server.base_url, "api_key_env": "LIVEGUARD_TEST_KEY", "retry": RETRY}
        engine = create_fusion(Config.model_validate({"fusion": {"mode": "direct", "structuring": True, "cloud": cloud}}).fusion)
        result, _ = fuse_timed(engine, window)
        engine.close()
    assert result["engine"] == "qwen-plus" and len(server.requests) == 3
    assert "Raw OCR output" in server.requests[0].body["messages"][1]["content"]
    assert "Raw ASR output" in server.requests[1].body["messages"][1]["content"]
    fusion_prompt = server.requests[2].body["messages"][1]["content"]
    assert '"structured_units"' in fusion_prompt and "¥129" in fusion_prompt


def test_answer_support_is_the_modalities_that_hold_the_value_not_the_claim(engine_for, window):
    claims = {**GOOD, "support": {**GOOD["support"], "brand": ["ocr", "vl", "OCR"]}}
    with ChatServer([Step(200, completion(json.dumps(claims)))]) as server:
        result, _ = fuse_timed(engine_for(server.base_url), window)
    # no VL in this window (claimed anyway); the streamer says the brand too (not claimed)
    assert result["support"]["brand"] == ["ocr", "asr"] and "asr" in result["grounds"]["brand"] and "vl" not in result["grounds"]["brand"]


def test_retry_after_as_an_http_date(engine_for, window):
    from email.utils import formatdate

    soon = formatdate(time.time() + 2, usegmt=True)  # whole seconds: waits about 1 to 2 s
    steps = [Step(503, "busy", {"Retry-After": soon}), Step(200, completion(json.dumps(GOOD)))]
    with ChatServer(steps) as server:
        result, _ = fuse_timed(engine_for(server.base_url, max_wait_s=3.0), window)
    assert result["engine"] == "qwen-plus" and 0.9 <= server.gaps()[0] <= 2.5


@pytest.mark.parametrize("value, seconds", [("3", 3.0), ("0", 0.0), ("-5", 0.0), ("soon", None), ("", None), ("nan", None)])
def test_retry_after_values(value, seconds):
    from edge.fusion.client import _retry_after

    assert _retry_after(value) == seconds
