import pytest

from edge.evidence import EVIDENCE_SCHEMA, schema_problem


def line(text, conf=0.95, height=20.0, in_product=True, top=100.0, frames=(0,)):
    box = [[10.0, top], [200.0, top], [200.0, top + height], [10.0, top + height]]
    return {"text": text, "confidence": conf, "box": box, "frames": list(frames), "in_product": in_product}


def evidence(lines=(), speech="", vl=None):
    doc = {
        "schema": EVIDENCE_SCHEMA,
        "id": "0" * 32,
        "created_at": "2026-11-24T00:00:00+00:00",
        "device": {"id": "box-0", "site": "site-0"},
        "stream": {"id": "demo", "source": "demo.mp4"},
        "window": {"start": 0.0, "end": 10.0},
        "selection": {"strategy": "A", "top_k": 1, "sample_fps": 2.0, "sampled_frames": 20, "d_min": 10.0,
                      "detector": "d-fine", "whole_frame_fallback": False},
        "keyframes": [],
        "ocr": {"raw_lines": len(lines), "lines": list(lines)},
        "asr": {"backend": "whisper", "language": "en", "text": speech, "segments": []},
        "vl": vl,
        "models": {},
        "config_hash": "0" * 64,
    }
    assert schema_problem(doc, EVIDENCE_SCHEMA) is None
    return doc


@pytest.fixture
def make_line():
    return line


@pytest.fixture
def make_evidence():
    return evidence
