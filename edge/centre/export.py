"""``liveguard results`` output: JSON lines (the whole record with its evidence) or CSV (one flat row each)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, TextIO

from edge.fusion.documents import FIELDS

CSV_COLUMNS = ["received", "site", "device", "stream", "evidence_id", "engine", "window_start", "window_end",
               *FIELDS, "category_id", *(f"{f}_confidence" for f in FIELDS), *(f"{f}_support" for f in FIELDS)]


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")


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
        writer.writerow(flat)
        count += 1
    return count
