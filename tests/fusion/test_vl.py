"""Qwen-VL on the product crop: the crop, its data URL, the call, and the evidence's ``vl`` field."""

import base64
import json

import cv2
import numpy as np
import pytest
from chat_server import ChatServer, Step, completion, error_body

from edge.config import Config
from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, schema_problem
from edge.fusion import create_fusion, create_vl_reader
from edge.fusion.vl import best_crop, jpeg_data_url
from edge.types import Detections, Frame, FrameScore, Keyframe

KEY = "sk-vl-test-key"
RETRY = {"max_attempts": 2, "max_wait_s": 0.5, "base_delay_s": 0.05}
READING = {"brand": "AURORA", "product_name": "Hydra Glow Face Cream", "category": "Skincare",
           "description": "white jar with a gold lid", "confidence": 0.8}


def keyframe(index, total, boxes=(), confidences=(), size=(480, 640)):
    image = np.full((*size, 3), 40, np.uint8)
    image[100:300, 200:400] = (255, 255, 255)  # the product, brighter than the room
    detections = Detections(np.array(boxes, np.float32).reshape(-1, 4), np.array(confidences, np.float32),
                            np.zeros(len(confidences), np.int64))
    return Keyframe(Frame(index, index / 2, image), FrameScore(index, index / 2, total, 0.5), detections)


def decode(data_url):
    assert data_url.startswith("data:image/jpeg;base64,")
    return cv2.imdecode(np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)


def test_best_crop_is_the_most_confident_box_of_the_best_keyframe():
    frames = [keyframe(0, 0.4, [[0, 0, 50, 50]], [0.99]), keyframe(5, 0.9, [[10, 10, 60, 60], [200, 100, 400, 300]], [0.6, 0.95])]
    crop, index, box = best_crop(frames)
    assert index == 5 and box == [200.0, 100.0, 400.0, 300.0] and crop.shape == (200, 200, 3)
    assert crop.mean() == 255


def test_no_product_box_sends_the_whole_frame():
    crop, index, box = best_crop([keyframe(3, 0.5)])
    assert box is None and crop.shape == (480, 640, 3)


def test_box_outside_the_frame_is_clamped():
    crop, _, box = best_crop([keyframe(0, 0.5, [[-20, -10, 900, 700]], [0.9])])
    assert crop.shape == (480, 640, 3) and box == [-20.0, -10.0, 900.0, 700.0]


def test_data_url_is_a_small_jpeg():
    image = np.random.default_rng(0).integers(0, 255, (1080, 1920, 3), np.uint8)
    decoded = decode(jpeg_data_url(image, 512, 85))
    assert decoded.shape == (288, 512, 3)
    small = np.zeros((100, 80, 3), np.uint8)
    assert decode(jpeg_data_url(small, 512, 85)).shape == (100, 80, 3)  # never upscaled


@pytest.fixture
def reader_for(monkeypatch):
    monkeypatch.setenv("LIVEGUARD_VL_KEY", KEY)
    readers = []

    def make(base_url):
        fusion = {"mode": "direct", "vl": {"enabled": True, "max_side": 256},
                  "cloud": {"base_url": base_url, "api_key_env": "LIVEGUARD_VL_KEY", "retry": RETRY}}
        reader = create_vl_reader(Config.model_validate({"fusion": fusion}).fusion)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()


def test_vl_reading_joins_the_evidence(reader_for, make_evidence):
    prose = "Here is the product:\n```json\n" + json.dumps({**READING, "extra": "ignored"}) + "\n```"
    with ChatServer([Step(200, completion(prose))]) as server:
        vl = reader_for(server.base_url).submit([keyframe(2, 0.9, [[200, 100, 400, 300]], [0.9])]).result()
    assert vl == {"model": "qwen-vl-plus", "frame_index": 2, "box": [200.0, 100.0, 400.0, 300.0], **READING, "error": None}
    assert schema_problem(make_evidence(vl=vl), EVIDENCE_SCHEMA) is None
    (request,) = server.requests
    body = request.body
    assert body["model"] == "qwen-vl-plus" and body["temperature"] == 0 and "response_format" not in body
    image_part, text_part = body["messages"][0]["content"]
    assert decode(image_part["image_url"]["url"]).shape == (200, 200, 3)
    assert "json" in text_part["text"] and request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "step, problem",
    [
        (Step(400, error_body("data_inspection_failed", "Input data may contain inappropriate content.")), "data_inspection_failed"),
        (Step(200, completion("I cannot tell what this is.")), "invalid JSON"),
        (Step(200, completion(json.dumps({**READING, "confidence": "high"}))), "wrong shape at $.confidence"),
        (Step(503, "busy"), "HTTP 503"),
    ],
)
def test_vl_failure_is_recorded_and_the_window_goes_on(reader_for, make_evidence, make_line, monkeypatch, step, problem):
    with ChatServer([step]) as server:
        vl = reader_for(server.base_url)([keyframe(0, 0.9, [[200, 100, 400, 300]], [0.9])])
    assert problem in vl["error"] and "\n" not in vl["error"] and KEY not in vl["error"]
    assert vl["brand"] is None and vl["frame_index"] == 0
    evidence = make_evidence([make_line("AURORA", 0.98, height=60)], vl=vl)
    assert schema_problem(evidence, EVIDENCE_SCHEMA) is None
    # the fusion engine reports it, whoever decides (here the cloud is away: the rules)
    monkeypatch.setenv("LIVEGUARD_VL_KEY", KEY)
    cloud = {"base_url": server.base_url, "api_key_env": "LIVEGUARD_VL_KEY", "retry": {"max_attempts": 1}}
    fuse = create_fusion(Config.model_validate({"fusion": {"mode": "direct", "cloud": cloud}}).fusion)
    result = fuse(evidence)
    fuse.close()
    assert schema_problem(result, RESULT_SCHEMA) is None
    assert result["failures"][0].startswith("vl: ") and problem in result["failures"][0]
