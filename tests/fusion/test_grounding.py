"""Grounding (issue 14): every field names the evidence that holds it, whichever engine fused it, and a
cloud answer whose value no evidence holds is not passed on as fact. Driven through a scripted
OpenAI-compatible endpoint on loopback (tests/helpers/chat_server.py), which stands in for DashScope."""

from __future__ import annotations

import json

import pytest
from chat_server import ChatServer, Step, completion

from edge.config.models import Config
from edge.evidence.schema import RESULT_SCHEMA, schema_problem
from edge.fusion import create_fusion
from edge.fusion.grounding import UNGROUNDED_PENALTY, holds

KEY = "sk-grounding-test"


@pytest.fixture
def serum(make_evidence, make_line):
    """The serum clip of the issue: AQUAVERA / Hyaluronic / Hydrating / Serum / 30 ml, and the streamer's words."""
    doc = make_evidence([
        make_line("AQUAVERA", 0.97, height=40, top=40),
        make_line("Hyaluronic", 0.96, height=30, top=100),
        make_line("Hydrating", 0.95, height=30, top=140),
        make_line("Serum", 0.96, height=30, top=180),
        make_line("30 ml", 0.97, height=16, top=230),
        make_line("@MiaLive", 0.99, height=30, in_product=False, top=400),
    ], speech="Girls, this hydrating serum is only 129 yuan today.")
    doc["asr"]["segments"] = [{"start": 0.5, "end": 3.0, "text": "Girls, this hydrating serum"},
                              {"start": 3.0, "end": 5.2, "text": " is only 129 yuan today."}]
    return doc


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setenv("LIVEGUARD_TEST_KEY", KEY)
    made = []

    def fuse(answer: dict, evidence: dict) -> dict:
        with ChatServer([Step(200, completion(json.dumps(answer)))]) as server:
            config = Config.model_validate({"fusion": {"mode": "direct", "cloud": {
                "base_url": server.base_url, "api_key_env": "LIVEGUARD_TEST_KEY", "retry": {"max_attempts": 1}}}})
            engine = create_fusion(config.fusion)
            made.append(engine)
            result = engine(evidence)
        assert schema_problem(result, RESULT_SCHEMA) is None
        return result

    yield fuse
    for engine in made:
        engine.close()


def answer(**fields) -> dict:
    base = {"product_name": None, "brand": None, "category": None, "key_attributes": {}, "price": None,
            "confidence": dict.fromkeys(("product_name", "brand", "category", "key_attributes", "price"), 0.9),
            "support": dict.fromkeys(("product_name", "brand", "category", "key_attributes", "price"), ["ocr"])}
    base.update(fields)
    return base


def test_an_invented_brand_and_name_are_nulled_kept_aside_counted_and_lower_the_confidence(cloud, serum):
    result = cloud(answer(brand="Lumina", product_name="Retinol Night Cream", category="Skincare", price="¥129"), serum)
    assert result["engine"] == "qwen-plus"
    assert result["brand"] is None and result["product_name"] is None
    assert result["ungrounded"] == {"brand": {"value": "Lumina", "claimed": ["ocr"]},
                                    "product_name": {"value": "Retinol Night Cream", "claimed": ["ocr"]}}
    assert result["support"]["brand"] == [] and result["confidence"]["brand"] == 0.0
    assert result["price"] == "¥129" and result["support"]["price"] == ["asr"]  # said, not printed: support corrected
    assert result["confidence"]["price"] == pytest.approx(0.9 * UNGROUNDED_PENALTY)
    assert result["category"] == "Skincare"  # a classification, never judged
    lines = [f for f in result["failures"] if f.startswith("grounding:")]
    assert len(lines) == 2 and "'Lumina' (claimed from ocr) is held by no evidence; nulled" in lines[0] + lines[1]


def test_a_normalised_value_is_kept_with_the_lines_that_hold_it(cloud, serum):
    result = cloud(answer(brand="Aquavera", product_name="Hyaluronic Hydrating Serum", key_attributes={"volume": "30ml"}), serum)
    assert (result["brand"], result["product_name"], result["key_attributes"]) == ("Aquavera", "Hyaluronic Hydrating Serum",
                                                                                   {"volume": "30ml"})
    assert "ungrounded" not in result and not any(f.startswith("grounding:") for f in result.get("failures", []))
    assert result["grounds"]["brand"] == {"ocr_lines": [0]}
    assert result["grounds"]["product_name"] == {"ocr_lines": [1, 2, 3], "asr_segments": [[0.5, 3.0]]}  # over three lines
    assert result["grounds"]["key_attributes"] == {"ocr_lines": [4]}
    assert result["confidence"]["brand"] == 0.9  # nothing invented: no penalty


def test_an_ocr_slip_fixed_with_speech_passes_and_a_wrong_price_or_spec_does_not(cloud, make_evidence, make_line):
    evidence = make_evidence([make_line("AQUAVFRA", 0.7, height=40), make_line("30 ml", 0.9, height=16, top=200)],
                             speech="Aquavera, one hundred twenty nine yuan")
    result = cloud(answer(brand="Aquavera", price="¥199", key_attributes={"volume": "30 ml", "count": "2 bottles"}), evidence)
    assert result["brand"] == "Aquavera" and set(result["support"]["brand"]) == {"ocr", "asr"}
    assert result["price"] is None and result["ungrounded"]["price"]["value"] == "¥199"
    assert result["key_attributes"] == {"volume": "30 ml"}
    assert result["ungrounded"]["key_attributes"]["value"] == {"count": "2 bottles"}


def test_the_local_rules_name_their_evidence_too(serum):
    with create_fusion(Config().fusion) as fuse:
        result = fuse(serum)
    assert result["engine"] == "local-rules" and "ungrounded" not in result
    texts = [line["text"] for line in serum["ocr"]["lines"]]
    for name in ("brand", "product_name", "key_attributes"):  # each names the lines its value was read from
        value = result[name] if name != "key_attributes" else " ".join(result[name].values())
        found = [texts[i] for i in result["grounds"][name]["ocr_lines"]]
        assert found and all(text in value or value in text for text in found), (name, value, found)
    assert result["grounds"]["price"] == {"asr_segments": [[3.0, 5.2]]}


@pytest.mark.parametrize("text, value, expected", [
    ("AQUAVERA", "Aquavera", True),  # case
    ("AQUAVERA", "Aqua Vera", True),  # spacing
    ("ＡＱＵＡＶＥＲＡ", "Aquavera", True),  # full width
    ("AQUAVFRA", "Aquavera", True),  # one OCR slip in a long word
    ("水光精华液", "水光精华", True),
    ("AQUAVERA", "Lumina", False),
    ("Hyaluronic Serum", "Retinol Night Cream", False),
    ("水光精华液", "面霜", False),
])
def test_what_holds_a_value(text, value, expected):
    assert holds(text, value) is expected
