"""``liveguard fuse`` re-fuses saved evidence; the pipeline's VL hook puts Qwen-VL's reading in the evidence."""

import json

import cv2
import numpy as np
import pytest
from chat_server import ChatServer, Step, completion, error_body

from edge.cli import main
from edge.config import Config
from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, schema_problem
from edge.fusion import fuse_local

KEY = "sk-cli-test-key"
ANSWER = {
    "product_name": "Hydra Glow Face Cream", "brand": "AURORA", "category": "Skincare", "key_attributes": {"spec": "50 ml"},
    "price": None, "confidence": {"product_name": 0.9, "brand": 0.95, "category": 0.8, "key_attributes": 0.9, "price": 0.0},
    "support": {"product_name": ["ocr"], "brand": ["ocr", "vl"], "category": ["vl"], "key_attributes": ["ocr"], "price": []},
}


@pytest.fixture
def saved(tmp_path, make_evidence, make_line):
    evidence = make_evidence([make_line("AURORA", 0.98, height=60, top=50), make_line("Hydra Glow Face Cream", 0.95, height=30, top=130)],
                             speech="only 129 yuan today")
    path = tmp_path / f"{evidence['id']}.evidence.json"
    path.write_text(json.dumps(evidence), encoding="utf-8")
    return path, evidence


def direct_config(tmp_path, base_url):
    path = tmp_path / "direct.yaml"
    path.write_text(
        "fusion:\n  mode: direct\n  cloud:\n"
        f"    base_url: {base_url}\n    api_key_env: LIVEGUARD_CLI_KEY\n"
        "    retry: {max_attempts: 2, max_wait_s: 0.5, base_delay_s: 0.05}\n",
        encoding="utf-8",
    )
    return path


def test_fuse_local_by_default(saved, capsys):
    path, evidence = saved
    assert main(["fuse", str(path)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line) == fuse_local(evidence)


def test_fuse_direct_with_config_and_a_bad_input_among_good_ones(saved, tmp_path, capsys, monkeypatch):
    path, evidence = saved
    monkeypatch.setenv("LIVEGUARD_CLI_KEY", KEY)
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "liveguard.evidence/1"', encoding="utf-8")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**evidence, "ocr": {"lines": "AURORA"}}), encoding="utf-8")
    with ChatServer([Step(200, completion(json.dumps(ANSWER)))]) as server:
        status = main(["fuse", str(broken), str(path), str(wrong), "--config", str(direct_config(tmp_path, server.base_url))])
    out, err = capsys.readouterr()
    assert status == 3  # the inputs that failed say why; the good one is fused
    (line,) = out.splitlines()
    result = json.loads(line)
    assert result["engine"] == "qwen-plus" and result["brand"] == "AURORA" and schema_problem(result, RESULT_SCHEMA) is None
    assert result["support"]["brand"] == ["ocr"]  # the evidence had no VL reading
    lines = err.splitlines()
    assert any(line.startswith(f"liveguard: error: {broken}: invalid JSON at line 1") for line in lines)
    assert any(line.startswith(f"liveguard: error: {wrong}: not a liveguard.evidence/1 document: $.ocr.lines") for line in lines)


def test_fuse_mode_override_and_warnings(saved, tmp_path, capsys, monkeypatch):
    path, _ = saved
    monkeypatch.setenv("LIVEGUARD_CLI_KEY", KEY)
    with ChatServer([Step(400, error_body("data_inspection_failed", "Input data may contain inappropriate content."))]) as server:
        config = direct_config(tmp_path, server.base_url)
        assert main(["fuse", str(path), "-c", str(config), "--mode", "local"]) == 0
        assert not server.requests  # local: no network
        assert main(["fuse", str(path), "-c", str(config)]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["engine"] for line in out.splitlines()] == ["local-rules", "local-rules"]
    assert f"liveguard: warning: {path}: fusion: qwen-plus at " in err and "data_inspection_failed" in err
    assert KEY not in out + err


def test_fuse_direct_without_a_key_is_a_config_error(saved, tmp_path, capsys, monkeypatch):
    path, _ = saved
    monkeypatch.delenv("LIVEGUARD_CLI_KEY", raising=False)
    assert main(["fuse", str(path), "-c", str(direct_config(tmp_path, "http://127.0.0.1:9/v1"))]) == 2
    assert capsys.readouterr().err.strip() == (
        "liveguard: error: fusion.cloud.api_key_env: environment variable LIVEGUARD_CLI_KEY is not set (or empty); "
        "export the key there or set api_key_file"
    )


def write_clip(path, seconds=2, fps=10, size=(320, 240)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(seconds * fps):
        frame = np.full((size[1], size[0], 3), 60, np.uint8)
        cv2.rectangle(frame, (60, 60), (260, 180), (255, 255, 255), -1)
        cv2.putText(frame, "AURORA", (80, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
        writer.write(frame)
    writer.release()


@pytest.mark.slow
def test_pipeline_vl_hook_puts_the_reading_in_the_evidence(tmp_path, monkeypatch):
    from edge.pipeline import Pipeline

    clip = tmp_path / "clip.mp4"
    write_clip(clip)
    monkeypatch.setenv("LIVEGUARD_CLI_KEY", KEY)
    reading = {"brand": "AURORA", "product_name": "Hydra Glow Face Cream", "category": "Skincare",
               "description": "white box", "confidence": 0.7}
    steps = [Step(200, completion(json.dumps(reading))), Step(200, completion(json.dumps(ANSWER)))]
    with ChatServer(steps) as server:
        fusion = {"mode": "direct", "vl": {"enabled": True},
                  "cloud": {"base_url": server.base_url, "api_key_env": "LIVEGUARD_CLI_KEY", "retry": {"max_attempts": 1}}}
        config = Config.model_validate({"asr": {"backend": "none"}, "detector": {"model": None}, "fusion": fusion})
        outcome = Pipeline(config).run(clip)
    evidence, result = outcome.evidence, outcome.result
    assert schema_problem(evidence, EVIDENCE_SCHEMA) is None and schema_problem(result, RESULT_SCHEMA) is None
    assert evidence["vl"]["brand"] == "AURORA" and evidence["vl"]["box"] is None  # no detector: the whole frame
    assert evidence["vl"]["frame_index"] == evidence["keyframes"][0]["frame_index"]
    assert result["engine"] == "qwen-plus" and result["support"]["brand"] == ["ocr", "vl"]
    assert [r.body["model"] for r in server.requests] == ["qwen-vl-plus", "qwen-plus"]
    assert '"brand":"AURORA"' in server.requests[1].body["messages"][1]["content"]  # the VL reading reached the prompt
