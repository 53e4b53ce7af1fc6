"""`liveguard results --format csv`: a result's claim flags in one cell, readable without the JSON."""

from __future__ import annotations

import csv
import io

from edge.centre.export import write_csv

FLAGS = [
    {"rule": "absolute-terms", "rule_set": "cn-mainland", "family": "absolute", "reference": "广告法第九条", "severity": "high",
     "matched": "全网最低", "text": "全网最低价", "modality": "asr", "segment": [1.0, 2.5]},
    {"rule": "authority-claims", "rule_set": "cn-mainland", "family": "authority", "reference": "广告法第二十八条",
     "severity": "medium", "matched": "官方正品", "text": "官方正品 假一赔十", "modality": "ocr", "ocr_line": 3, "in_product": False},
]


def row(claims):
    result = {"evidence_id": "0" * 32, "engine": "local-rules", "brand": "清颜", "confidence": {}, "support": {}}
    if claims is not None:
        result["claims"] = claims
    return {"received": 0.0, "site": "lab", "device": "box-1", "stream": "cam1", "result": result, "evidence": None}


def test_claim_flags_are_one_readable_cell_and_empty_without_any():
    out = io.StringIO()
    assert write_csv([row(FLAGS), row([]), row(None)], out) == 3
    cells = [r["claims"] for r in csv.DictReader(io.StringIO(out.getvalue()))]
    assert cells[0] == ("cn-mainland/absolute-terms (high): 全网最低 [asr 1-2.5 s] | "
                        "cn-mainland/authority-claims (medium): 官方正品 [ocr line 3 in the overlay]")
    assert cells[1:] == ["", ""]
