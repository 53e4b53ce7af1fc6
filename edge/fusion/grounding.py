"""Which evidence supports each field of a result, and whether a cloud answer's value has any.

A value is *grounded* in a modality when that modality's text holds it: most of its tokens occur
there (:data:`GROUNDED_COVERAGE`; a token of more than three characters may be a near miss, so an OCR
slip still counts), or its letters run together occur there (``Aqua Vera`` in ``AQUAVERA``). Case,
width and spacing never matter (NFKC, lower case). A price is grounded where the same amount is
read or said. The references name the evidence: OCR line indexes (into ``evidence.ocr.lines``),
ASR segment times, and whether the VL answer says it.

The product type and the category (its department) are a classification, not a reading (``Skin Care``
is seldom printed), so they are located where a word naming the type is, but never judged. Every
engine's result carries the references (``grounds``); the cloud engine also nulls a field no modality
supports (:func:`judge`), keeps the value aside in ``ungrounded`` for audit, and counts it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edge.fusion.taxonomy import type_words
from edge.fusion.text import coverage, tokens
from edge.numbers import find_prices, words_to_numbers

GROUNDED_COVERAGE = 0.6  # share of a value's tokens the modality must hold
JUDGED = ("product_name", "brand", "price", "key_attributes")  # fields a reading must support; category is inferred
UNGROUNDED_PENALTY = 0.8  # a result with an invented field: every other field's confidence times this
_AMOUNT = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass
class Grounds:
    """Where one value was found: OCR line indexes, ASR segment (start, end) times, the VL answer."""

    ocr: list[int] = field(default_factory=list)
    asr: list[tuple[float, float]] = field(default_factory=list)
    said: bool = False  # the transcript holds it (also when it has no timed segments)
    vl: bool = False

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m, found in (("ocr", self.ocr), ("vl", self.vl), ("asr", self.said)) if found)

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ocr:
            out["ocr_lines"] = sorted(set(self.ocr))
        if self.asr:
            out["asr_segments"] = [[round(s, 3), round(e, 3)] for s, e in dict.fromkeys(self.asr)]
        elif self.said:
            out["asr"] = True  # in the transcript, which has no timed segments
        if self.vl:
            out["vl"] = True
        return out

    def merge(self, other: Grounds) -> Grounds:
        return Grounds(self.ocr + other.ocr, self.asr + other.asr, self.said or other.said, self.vl or other.vl)


def _squashed(text: str) -> str:
    return "".join(tokens(text))


def holds(text: str, value: str) -> bool:
    """True when ``text`` holds ``value`` (see the module)."""
    if not value.strip() or not text.strip():
        return False
    if coverage(value, text) >= GROUNDED_COVERAGE:
        return True
    squashed = _squashed(value)
    return len(squashed) >= 3 and squashed in _squashed(text)


def _amounts(text: str) -> set[str]:
    found = {p.lstrip("¥$€£") for p in find_prices(text)}
    return found | set(_AMOUNT.findall(words_to_numbers(unicodedata.normalize("NFKC", text))))


def _holds_price(text: str, value: str) -> bool:
    wanted = {p.lstrip("¥$€£") for p in find_prices(value)} or set(_AMOUNT.findall(value))
    return bool(wanted) and wanted <= _amounts(text)


def locate(value: str, ocr: list[str], segments: list[Segment], speech: str, vl: list[str], price: bool = False) -> Grounds:
    """The evidence that holds ``value``: lines and segments that hold it, or (a name over several lines,
    a phrase over several segments) the ones that share its tokens when together they hold it."""
    test = _holds_price if price else holds
    grounds = Grounds()
    single = [i for i, line in enumerate(ocr) if test(line, value)]
    if single:
        grounds.ocr = single
    elif test(" ".join(ocr), value):
        wanted = set(tokens(value))
        grounds.ocr = [i for i, line in enumerate(ocr) if wanted & set(tokens(line))]
    said = [(s.start, s.end) for s in segments if test(s.text, value)]
    if said:
        grounds.asr, grounds.said = said, True
    elif test(speech, value):
        wanted = set(tokens(value))
        grounds.asr, grounds.said = [(s.start, s.end) for s in segments if wanted & set(tokens(s.text))], True
    grounds.vl = any(test(text, value) for text in vl if text)
    return grounds


def field_grounds(field: str, value: Any, ocr: list[str], segments: list[Segment], speech: str, vl: list[str]) -> Grounds:
    """Where ``field``'s ``value`` (a string, or key_attributes' mapping) is found."""
    if isinstance(value, Mapping):
        found = Grounds()
        for item in value.values():
            found = found.merge(locate(str(item), ocr, segments, speech, vl))
        return found
    if field in ("product_type", "category"):  # a type is found where any word that names it is ("Serum" for facial serum)
        found = Grounds()
        for word in type_words(str(value)):
            found = found.merge(locate(word, ocr, segments, speech, vl))
        return found
    return locate(str(value), ocr, segments, speech, vl, price=field == "price")


def ungrounded_attributes(attributes: Mapping[str, str], ocr: list[str], segments: list[Segment], speech: str,
                          vl: list[str]) -> dict[str, str]:
    """The key attributes whose values no modality holds."""
    return {k: v for k, v in attributes.items() if not locate(v, ocr, segments, speech, vl).modalities}


@dataclass(frozen=True)
class Readings:
    """The texts a value can be found in: the window's OCR lines, ASR segments and transcript, the VL answer."""

    ocr: list[str]
    segments: list[Segment]
    speech: str
    vl: list[str]

    def grounds(self, field: str, value: Any) -> Grounds:
        return field_grounds(field, value, self.ocr, self.segments, self.speech, self.vl)


def grounds_of(result: Mapping[str, Any], readings: Readings, fields: tuple[str, ...]) -> dict[str, Any]:
    """``result["grounds"]``: for each field with a value, the evidence that holds it (fields found nowhere are left out)."""
    out = {}
    for name in fields:
        value = result.get(name)
        if name == "category" and value is not None:
            value = result.get("product_type") or value  # a department is found where its type is named
        if value is None or value == {}:
            continue
        found = readings.grounds(name, value).document()
        if found:
            out[name] = found
    return out


def judge(result: dict[str, Any], readings: Readings, modalities: tuple[str, ...]) -> list[str]:
    """Null each :data:`JUDGED` field (each key attribute) of ``result`` that no modality holds, keep it in
    ``result["ungrounded"]`` with the modalities the engine claimed, set every judged field's support to the
    modalities that do hold it (and ``result["grounds"]`` to what is left), and lower every confidence when
    something was nulled. One line per nulled value."""
    lines: list[str] = []
    ungrounded: dict[str, Any] = {}
    grounds = result.setdefault("grounds", {})
    engine = result.get("engine", "the engine")
    for name in JUDGED:
        value = result.get(name)
        if value is None or value == {}:
            continue
        claimed = list(result["support"].get(name, []))
        if name == "key_attributes":
            bad = ungrounded_attributes(value, readings.ocr, readings.segments, readings.speech, readings.vl)
            if bad:
                ungrounded[name] = {"value": bad, "claimed": claimed}
                lines.append(f"grounding: {engine}'s key attributes {sorted(bad)} are held by no evidence; left out")
                value = {k: v for k, v in value.items() if k not in bad}
                result[name] = value
                if not value:
                    result["confidence"][name], result["support"][name] = 0.0, []
                    grounds.pop(name, None)
                    continue
        found = readings.grounds(name, value)
        if not found.modalities:
            ungrounded[name] = {"value": value, "claimed": claimed}
            result[name] = None
            result["confidence"][name], result["support"][name] = 0.0, []
            lines.append(f"grounding: {engine}'s {name} {str(value)[:60]!r} (claimed from {'+'.join(claimed) or 'nothing'}) "
                         "is held by no evidence; nulled")
            grounds.pop(name, None)
            continue
        result["support"][name] = [m for m in modalities if m in found.modalities]
        grounds[name] = found.document()
    if ungrounded:
        result["ungrounded"] = ungrounded
        result["confidence"] = {k: round(v * UNGROUNDED_PENALTY, 4) for k, v in result["confidence"].items()}
    return lines
