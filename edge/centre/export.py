"""``liveguard results`` output: JSON lines (the whole record with its evidence) or CSV (one flat row each)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, TextIO

from edge.fusion.documents import FIELDS

CSV_COLUMNS = ["received", "site", "device", "stream", "evidence_id", "engine", "window_start", "window_end",
               *FIELDS, "category_id", *(f"{f}_confidence" for f in FIELDS), *(f"{f}_support" for f in FIELDS), "claims"]


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")


def claim_text(flag: dict[str, Any]) -> str:
    """One claim flag in a cell: ``cn-mainland/absolute-terms (high): 全网最低 [asr 1.0-2.5 s]``."""
    if flag.get("segment"):
        where = f"asr {flag['segment'][0]:g}-{flag['segment'][1]:g} s"
    else:
        where = f"ocr line {flag.get('ocr_line')}" + {True: " on the product", False: " in the overlay"}.get(flag.get("in_product"), "")
    return f"{flag['rule_set']}/{flag['rule']} ({flag['severity']}): {flag['matched']} [{where}]"


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO, with_evidence: bool = True) -> int:
    """One JSON object per stored result: where and when it came, the result, and (unless told not to) its evidence."""
    count = 0
    for row in rows:
        line = {"received": when(row["received"]), "site": row["site"], "device": row["device"], "stream": row["stream"],
                "result": row["result"]}
        if with_evidence:
            line["evidence"] = row["evidence"]
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A flat row per result: each field's value, confidence and supporting modalities (``ocr+asr``)."""
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        result, evidence = row["result"], row["evidence"] or {}
        window = evidence.get("window", {})
        flat: dict[str, Any] = {"received": when(row["received"]), "site": row["site"], "device": row["device"],
                                "stream": row["stream"], "evidence_id": result["evidence_id"], "engine": result.get("engine"),
                                "window_start": window.get("start"), "window_end": window.get("end"),
                                "category_id": result.get("category_id")}
        for field in FIELDS:
            value = result.get(field)
            flat[field] = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else value
            flat[f"{field}_confidence"] = result.get("confidence", {}).get(field)
            flat[f"{field}_support"] = "+".join(result.get("support", {}).get(field, []))
        flat["claims"] = " | ".join(claim_text(flag) for flag in result.get("claims") or ())
        writer.writerow(flat)
        count += 1
    return count
