"""Hand-made ``liveguard.evidence/1`` documents: OCR lines with boxes, speech with timed segments."""

from __future__ import annotations

from typing import Any

from edge.evidence import EVIDENCE_SCHEMA, schema_problem
from edge.text import has_cjk


def line(text: str, conf: float = 0.95, height: float = 20.0, in_product: bool | None = True, top: float = 100.0,
         frames: tuple[int, ...] = (0,)) -> dict[str, Any]:
    box = [[10.0, top], [200.0, top], [200.0, top + height], [10.0, top + height]]
    doc = {"text": text, "confidence": conf, "box": box, "frames": list(frames)}
    if in_product is not None:
        doc["in_product"] = in_product
    return doc


def evidence(lines=(), speech: str = "", vl: dict[str, Any] | None = None, segments=(), language: str | None = None) -> dict[str, Any]:
    """``segments``: ``(start, end, text)`` pieces of ``speech``, in order; ``language``: the transcript's
    (default: zh for Chinese speech, else en)."""
    spans, cursor = [], 0
    for start, end, text in segments:
        at = speech.index(text, cursor)
        cursor = at + len(text)
        spans.append([start, end, at, cursor])
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
        "asr": {"backend": "whisper", "language": language or ("zh" if has_cjk(speech) else "en"), "text": speech, "segments": spans},
        "vl": vl,
        "models": {},
        "config_hash": "0" * 64,
    }
    problem = schema_problem(doc, EVIDENCE_SCHEMA)
    assert problem is None, problem
    return doc
