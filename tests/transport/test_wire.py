"""The wire form of a document (``compact``): UTF-8 JSON without blanks that reads back to the same document."""

import json

from edge.transport.delivery import compact

DOC = {"ocr": {"lines": [{"text": "直播价¥56", "confidence": 0.9859, "box": [28, 665, 157, 696]}]},
       "asr": {"text": "Only ¥129 today", "segments": [[0.11, 2.11, 0, 15]]}, "vl": None}


def test_compact_is_utf8_json_without_blanks_and_round_trips():
    wire = compact(DOC)
    assert json.loads(wire) == DOC
    assert "直播价¥56".encode() in wire  # Chinese text is 3 bytes a character, not a 6-byte \u escape
    assert b": " not in wire and b", " not in wire
    assert len(wire) == len(json.dumps(DOC, ensure_ascii=False, separators=(",", ":")).encode())
