"""What the pages show of a stored result: its fields with confidence, support and grounds, the evidence
(OCR lines on or off the product, the transcript with times, the frame-score curve with the keyframes),
model identities, conflicts between modalities, and the claim flags. Plain data: the templates escape it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from edge.centre.store import low_fields
from edge.evidence.forms import box_points, ocr_lines, segments
from edge.fusion.documents import FIELDS
from edge.fusion.text import similarity

LOW_CONFIDENCE = 0.5
CURVE_W, CURVE_H = 600, 120


def when(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the results list (also the API's list item)."""
    result = row["result"]
    low = low_fields(result, LOW_CONFIDENCE)
    return {"evidence_id": result["evidence_id"], "received": row["received"], "received_at": when(row["received"]),
            "site": row["site"], "device": row["device"], "stream": row["stream"], "engine": result.get("engine"),
            "brand": result.get("brand"), "product_name": result.get("product_name"), "category": result.get("category"),
            "price": result.get("price"), "low_confidence": low, "claims": len(result.get("claims") or ())}


def detail(row: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the result page shows (also the API's result)."""
    result, evidence = row["result"], row["evidence"]
    confidence, support = result.get("confidence") or {}, result.get("support") or {}
    grounds, aside = result.get("grounds") or {}, result.get("ungrounded") or {}
    fields = []
    for name in FIELDS:
        value = result.get(name)
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or None
        fields.append({"name": name, "value": value, "confidence": confidence.get(name, 0.0), "support": support.get(name, []),
                       "low": value is not None and confidence.get(name, 0.0) < LOW_CONFIDENCE, "grounds": grounds.get(name, {}),
                       "ungrounded": aside.get(name)})
    view = {**summary(row), "fields": fields, "claims": [_claim(flag) for flag in result.get("claims") or ()],
            "failures": result.get("failures") or [], "conflicts": conflicts(result, evidence), "evidence": None}
    if evidence is not None:
        view["evidence"] = _evidence(evidence, grounds)
    return view


def conflicts(result: Mapping[str, Any], evidence: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Fields where the modalities disagree: the image model's reading against the fused value, and values
    the engine gave that no evidence holds (kept aside) against what the result carries."""
    out = []
    for name, aside in (result.get("ungrounded") or {}).items():
        out.append({"field": name, "values": [{"source": "result", "value": result.get(name)},
                                              {"source": f"{result.get('engine')} (ungrounded)", "value": aside.get("value")}]})
    vl = (evidence or {}).get("vl") or {}
    for name in ("brand", "product_name", "category"):
        said, fused = vl.get(name), result.get(name)
        if said and fused and similarity(str(said), str(fused)) < 0.8:
            out.append({"field": name, "values": [{"source": "result", "value": fused}, {"source": "vl", "value": said}]})
    return out


def _claim(flag: Mapping[str, Any]) -> dict[str, Any]:
    where = ""
    if flag.get("segment"):
        start, end = flag["segment"]
        where = f"said at {start:.1f}-{end:.1f} s"
    elif flag.get("ocr_line") is not None:
        place = {True: "on the product", False: "in the overlay", None: "on screen"}[flag.get("in_product")]
        where = f"OCR line {flag['ocr_line']}, {place}"
    return {**flag, "where": where, "values_text": ", ".join(f"{k}: {v}" for k, v in (flag.get("values") or {}).items())}


def _evidence(evidence: Mapping[str, Any], grounds: Mapping[str, Any]) -> dict[str, Any]:
    used = {index for g in grounds.values() for index in (g.get("ocr_lines") or ())}
    lines = [{"index": i, "text": line["text"], "confidence": line["confidence"], "in_product": line.get("in_product"),
              "frames": line.get("frames") or [], "used": i in used} for i, line in enumerate(ocr_lines(evidence))]
    asr = evidence.get("asr") or {}
    stream = evidence.get("stream") or {}
    width, height = stream.get("width") or 1, stream.get("height") or 1
    keyframes = []
    for i, keyframe in enumerate(evidence.get("keyframes") or ()):
        boxes = [{"x": b["box"][0], "y": b["box"][1], "w": b["box"][2] - b["box"][0], "h": b["box"][3] - b["box"][1],
                  "confidence": b["confidence"]} for b in keyframe.get("products") or ()]
        texts = [{"points": " ".join(f"{x:.0f},{y:.0f}" for x, y in box_points(line.get("box"))), "in_product": line.get("in_product")}
                 for line in ocr_lines(evidence) if line.get("box") and keyframe["frame_index"] in (line.get("frames") or [])]
        keyframes.append({"index": i, "pts": keyframe["pts"], "sha256": keyframe["jpeg_sha256"], "score": keyframe["score"],
                          "products": boxes, "texts": texts, "width": width, "height": height})
    selection = evidence.get("selection") or {}
    return {"id": evidence["id"], "window": evidence.get("window") or {}, "stream": stream, "selection": selection,
            "ocr_lines": lines, "speech": asr.get("text") or "", "asr_backend": asr.get("backend"), "asr_language": asr.get("language"),
            "segments": segments(asr), "keyframes": keyframes, "curve": curve(selection.get("scores") or [], keyframes,
                                                                              evidence.get("window") or {}),
            "models": evidence.get("models") or {}, "config_hash": evidence.get("config_hash"), "vl": evidence.get("vl"),
            "claims_sets": (evidence.get("claims") or {}).get("rule_sets")}


def curve(scores: list[list[float]], keyframes: list[dict[str, Any]], window: Mapping[str, Any]) -> dict[str, Any] | None:
    """The window's frame-score curve as SVG coordinates (score 0-1 bottom to top), the keyframes marked."""
    if not scores:
        return None
    start = float(window.get("start", scores[0][0]))
    span = max(float(window.get("end", scores[-1][0])) - start, scores[-1][0] - start, 1e-6)

    def x(t: float) -> float:
        return round((t - start) / span * CURVE_W, 1)

    def y(v: float) -> float:
        return round((1 - max(0.0, min(1.0, v))) * CURVE_H, 1)

    return {"width": CURVE_W, "height": CURVE_H, "points": " ".join(f"{x(t)},{y(v)}" for t, v in scores),
            "marks": [{"x": x(k["pts"]), "y": y(k["score"]["total"]), "pts": k["pts"], "total": k["score"]["total"]} for k in keyframes]}
