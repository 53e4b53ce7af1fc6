"""What the fusion LLM is told (paper §3.5.2) and the JSON it must answer with.

The evidence goes in compact: OCR lines with their confidence and whether they lie on the product
(the live room's overlay is text too), the transcript, Qwen-VL's reading of the crop, the claims the box
flagged (so that a claim is not taken for the product's name) and, when structuring is on, the
per-modality evidence units of paper §3.2. The answer is the product part of ``liveguard.result/1``;
the engine adds the identity fields (and the claims that hold for the product, decided on the box's flags).
"""

from __future__ import annotations

import json
from typing import Any

from edge.fusion.documents import FIELDS, MODALITIES, EvidenceView

MAX_OCR_LINES = 40
MAX_SPEECH_CHARS = 2000
MAX_CLAIMS = 20


def _text_or_null(max_length: int) -> dict[str, Any]:
    return {"anyOf": [{"type": "string", "maxLength": max_length}, {"type": "null"}]}


ANSWER_SCHEMA: dict[str, Any] = {
    "title": "fusion answer (the product fields of liveguard.result/1)",
    "type": "object",
    "additionalProperties": False,
    "required": ["product_name", "brand", "product_type", "category", "key_attributes", "price", "confidence", "support"],
    "properties": {
        "product_name": _text_or_null(120),
        "brand": _text_or_null(60),
        "product_type": _text_or_null(60),
        "category": _text_or_null(200),
        "key_attributes": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 60}},
        "price": _text_or_null(30),
        "confidence": {
            "type": "object",
            "additionalProperties": False,
            "required": list(FIELDS),
            "properties": {f: {"type": "number", "minimum": 0, "maximum": 1} for f in FIELDS},
        },
        "support": {
            "type": "object",
            "additionalProperties": False,
            "required": list(FIELDS),
            "properties": {f: {"type": "array", "items": {"enum": list(MODALITIES)}, "maxItems": 3} for f in FIELDS},
        },
    },
}


def decoding_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as sent for schema-constrained decoding (``cloud.json_schema``).

    Grammar-based decoders (llama.cpp) cannot bound numbers, so every confidence in [0, 1] is sent
    as one of the tenths; the answer is still checked against ``schema`` itself.
    """
    if isinstance(schema, dict):
        if schema.get("type") == "number" and schema.get("minimum") == 0 and schema.get("maximum") == 1:
            return {"enum": [i / 10 for i in range(11)]}
        return {k: decoding_schema(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [decoding_schema(v) for v in schema]
    return schema


UNIT_SCHEMA: dict[str, Any] = {
    "title": "structured evidence unit of one modality (paper §3.2)",
    "type": "object",
    "additionalProperties": False,
    "required": ["brand", "product_name", "category", "specs", "price", "confidence"],
    "properties": {
        "brand": _text_or_null(60),
        "product_name": _text_or_null(120),
        "category": _text_or_null(60),
        "specs": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 8},
        "price": _text_or_null(30),
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
}

VL_SCHEMA: dict[str, Any] = {
    "title": "Qwen-VL's reading of a product crop",
    "type": "object",
    "additionalProperties": False,
    "required": ["brand", "product_name", "category", "description", "confidence"],
    "properties": {
        "brand": _text_or_null(60),
        "product_name": _text_or_null(120),
        "category": _text_or_null(60),
        "description": _text_or_null(300),
        "confidence": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}]},
    },
}

FUSION_SYSTEM = """\
You identify the one product shown in a window of an e-commerce livestream by fusing evidence from three modalities:
- ocr: text read on the selected keyframe(s), each line with its recognition confidence. on_product=true: printed on the \
product or its packaging; on_product=false: the live room's overlay (streamer names, chat, banners), which never names \
the product but may state the live price; on_product=null: position unknown.
- vl: an image model's reading of the product crop (may be absent).
- asr: the host's speech, transcribed automatically (may contain recognition errors; may be empty).
- claims (may be absent): words the box flagged as advertising claims (superlatives, medical or authority claims, \
prices), each with its rule family and where it was found. They say what is claimed about the product, never its \
name or brand.

Fuse them by these four principles:
1. Consistency first: a value that several modalities agree on is preferred.
2. Reliability ranking: ocr (packaging text) > vl (image recognition) > asr (speech).
3. Conflict resolution: when modalities disagree, take the value with the higher confidence and the stronger \
agreement with the ocr evidence.
4. Fault-tolerant completion: fill a field that one modality lacks from the others; never invent a value no modality \
supports: use null.

Answer with one JSON object and nothing else, with exactly these keys:
{"product_name": string or null, "brand": string or null, "product_type": string or null (what the product is, a \
short noun phrase such as "shampoo", "facial serum", "洗面奶"), "category": string or null (its department: the full \
path of a category of Google's product taxonomy, e.g. "Health & Beauty > Personal Care > Hair Care > Shampoo & \
Conditioner > Shampoo"), "key_attributes": {attribute: value, e.g. "spec": "50 ml"}, "price": string or null (currency \
symbol and amount, e.g. "¥129"), "confidence": {each of the six fields: a number from 0 to 1}, \
"support": {each of the six fields: the list of modalities among "ocr", "vl", "asr" that support its value}}.
Keep the spelling of the highest-ranked modality that supports a value. Write values in the language of the evidence \
(the category path always in English, as the taxonomy writes it)."""

STRUCTURE_SYSTEM = """\
You turn the raw {modality} output of one e-commerce livestream window into a structured evidence unit (json).
{about}
Answer with one JSON object and nothing else: {{"brand": string or null, "product_name": string or null, \
"category": string or null, "specs": [quantities with units, e.g. "50 ml"], "price": string or null \
(currency symbol and amount), "confidence": a number from 0 to 1 for how clearly the evidence names the product}}. \
Use null for what the evidence does not say; never invent."""

_ABOUT = {
    "ocr": "The input lists text lines read on the keyframe with their confidence and whether they lie on the product "
    "(on_product=false lines are the live room's overlay and never name the product).",
    "asr": "The input is the host's speech, transcribed automatically; it may contain recognition errors.",
}

VL_PROMPT = """\
This image is the product region of a frame of an e-commerce livestream. Identify the product. Answer with one \
json object and nothing else: {"brand": string or null, "product_name": string or null, "category": string or null, \
"description": a short description of its appearance and packaging, "confidence": a number from 0 to 1}. \
Use null for what you cannot read or recognise; never guess a brand."""

REPAIR = """\
Your previous answer was not usable: {problem}. Reply again with only the corrected JSON object, with exactly the \
keys and value types asked for."""


def ocr_evidence(evidence: EvidenceView) -> list[dict[str, Any]]:
    """The OCR lines as the LLM sees them: text, confidence, on_product, print height (bigger is more prominent)."""
    lines = []
    for line in evidence.ocr_lines[:MAX_OCR_LINES]:
        item: dict[str, Any] = {"text": line.text, "confidence": round(line.confidence, 3), "on_product": line.in_product}
        if line.height is not None:
            item["height"] = round(line.height)
        lines.append(item)
    return lines


def speech_evidence(evidence: EvidenceView) -> str:
    return evidence.speech[:MAX_SPEECH_CHARS]


def vl_evidence(evidence: EvidenceView) -> dict[str, Any] | None:
    """Qwen-VL's reading as the LLM sees it; None when VL was off or failed."""
    vl = evidence.vl
    if vl is None or vl.error:
        return None
    return {"brand": vl.brand, "product_name": vl.product_name, "category": vl.category,
            "description": vl.description, "confidence": vl.confidence}


def claims_evidence(evidence: EvidenceView) -> list[dict[str, Any]]:
    """The box's claim flags as the LLM sees them: family, matched words, modality, on_product for OCR."""
    flags = (evidence.claims or {}).get("flags") or ()
    out = []
    for flag in flags[:MAX_CLAIMS]:
        item: dict[str, Any] = {"family": flag["family"], "matched": flag["matched"], "modality": flag["modality"]}
        if flag["modality"] == "ocr":
            item["on_product"] = flag.get("in_product")
        out.append(item)
    return out


def fusion_messages(evidence: EvidenceView, units: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """System + user messages for the fusion call over ``evidence`` (and structured ``units`` if any)."""
    payload: dict[str, Any] = {
        "ocr": ocr_evidence(evidence),
        "vl": vl_evidence(evidence),
        "asr": speech_evidence(evidence),
    }
    claims = claims_evidence(evidence)
    if claims:
        payload["claims"] = claims
    if units:
        payload["structured_units"] = units
    user = "Evidence (json):\n" + json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return [{"role": "system", "content": FUSION_SYSTEM}, {"role": "user", "content": user}]


def structuring_messages(modality: str, evidence: EvidenceView) -> list[dict[str, Any]]:
    """Messages that ask for the evidence unit of ``modality`` (``ocr`` or ``asr``), paper §3.2."""
    raw: Any = ocr_evidence(evidence) if modality == "ocr" else speech_evidence(evidence)
    system = STRUCTURE_SYSTEM.format(modality=modality.upper(), about=_ABOUT[modality])
    user = f"Raw {modality.upper()} output (json):\n" + json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def repair_messages(messages: list[dict[str, Any]], answer: str, problem: str) -> list[dict[str, Any]]:
    """The conversation again, with the unusable answer and what was wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": REPAIR.format(problem=problem)},
    ]


def vl_messages(data_url: str) -> list[dict[str, Any]]:
    """One user turn with the crop as a data URL and the question (OpenAI vision format)."""
    return [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": data_url}},
                {"type": "text", "text": VL_PROMPT},
            ],
        }
    ]
