"""Flag the claims of one window: rule terms and patterns in its speech segments and OCR lines, and the
spoken price against the one shown.

Every flag carries the rule, its legal reference and severity, the matched words, the text they were found
in, the modality and where (an OCR line's index and whether it lies on the product, or an ASR segment's
start and end).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edge.claims.normalise import contains, normalise
from edge.claims.rules import ClaimRule, RuleSet, in_scope
from edge.numbers import CURRENCY_SYMBOLS, CURRENCY_WORDS, amount, find_prices, words_to_numbers


@dataclass(frozen=True)
class Reading:
    """One piece of the window's text: an OCR line (``index``, ``in_product``) or an ASR segment (``start``, ``end``)."""

    text: str
    modality: str  # "ocr" | "asr"
    index: int | None = None
    in_product: bool | None = None
    start: float | None = None
    end: float | None = None
    told: bool = False  # speech of the decoding told the claim terms (asr.claim_segments)
    written: str | None = None  # the text as the evidence writes it, where ``text`` is what is screened of it


@dataclass(frozen=True)
class Flag:
    rule: str
    rule_set: str
    family: str
    reference: str
    severity: str
    matched: str
    text: str
    modality: str
    ocr_line: int | None = None
    in_product: bool | None = None
    segment: tuple[float, float] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    departments: tuple[str, ...] = ()  # the rule's scope, carried so that a flag can be judged without its rule set
    except_departments: tuple[str, ...] = ()
    claims_decoding: bool = False

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "rule_set": self.rule_set, "family": self.family, "reference": self.reference,
                               "severity": self.severity, "matched": self.matched, "text": self.text, "modality": self.modality}
        if self.ocr_line is not None:
            out["ocr_line"], out["in_product"] = self.ocr_line, self.in_product
        if self.segment is not None:
            out["segment"] = [round(self.segment[0], 3), round(self.segment[1], 3)]
        if self.claims_decoding:
            out["claims_decoding"] = True
        if self.values:
            out["values"] = self.values
        if self.departments:
            out["departments"] = list(self.departments)
        if self.except_departments:
            out["except_departments"] = list(self.except_departments)
        return out


def screen(rule_sets: Iterable[RuleSet], readings: Sequence[Reading], department: str | None = None,
           language: str | None = None, every_department: bool = False, checks: bool | None = None) -> list[Flag]:
    """The flags the rule sets raise on ``readings`` for a product of ``department`` (a taxonomy path); with a
    ``language`` (the window's, ``zh`` or ``en``) only the sets written in it. ``every_department``: the flags
    of every rule whatever its scope (the evidence's, before the product is known; see :func:`applies`).
    ``checks``: True, only the window-wide spoken-vs-shown price check; False, every rule but it; None, all."""
    flags: list[Flag] = []
    for rule_set in rule_sets:
        if language is not None and rule_set.language != language:
            continue
        for rule in rule_set.rules:
            if not every_department and not rule.applies_to(department):
                continue
            if checks is not None and checks != (rule.check == "spoken-vs-shown"):
                continue
            if rule.check == "spoken-vs-shown":
                flags += _price_mismatch(rule, rule_set, readings)
                continue
            for reading in readings:
                if reading.modality not in rule.modalities:
                    continue
                matched = _match(rule, reading)
                if matched is None:
                    continue
                values = {}
                if rule.check == "original-price":
                    values = {"original": _said_after(matched, reading, readings) or prices_in(reading)}
                    if not values["original"]:
                        continue
                flags.append(_flag(rule, rule_set, reading, matched, values))
    return flags


def _match(rule: ClaimRule, reading: Reading) -> str | None:
    """The first of the rule's words or patterns in ``reading`` (ASR mishearings in speech), None if none or
    if an ``unless`` word makes it a near miss."""
    text = normalise(reading.text)
    if any(normalise(word) in text for word in rule.unless):
        return None
    for term in rule.terms:
        spellings = (term, *(rule.heard_as.get(term, ()) if reading.modality == "asr" else ()))
        for spelling in spellings:
            if contains(text, normalise(spelling)):
                return term
    for pattern in rule.patterns:
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            return found.group(0)
    return None


def _flag(rule: ClaimRule, rule_set: RuleSet, reading: Reading, matched: str, values: dict[str, Any] | None = None) -> Flag:
    segment = (reading.start, reading.end) if reading.start is not None and reading.end is not None else None
    text = reading.written or reading.text
    return Flag(rule.id, rule_set.name, rule.family, rule.reference, rule.severity, matched, text, reading.modality,
                reading.index, reading.in_product if reading.modality == "ocr" else None, segment, values or {},
                rule.departments, rule.except_departments, reading.told)


def _price_mismatch(rule: ClaimRule, rule_set: RuleSet, readings: Sequence[Reading]) -> list[Flag]:
    """One flag when the host says a price and the window shows one, and none of the said ones is shown.
    Lines with an original-price marker (the rule's terms) state the old price, not the live one."""
    said = [(r, p) for r in readings if r.modality == "asr" for p in prices_in(r)]
    shown = [(r, p) for r in readings if r.modality == "ocr" and not _marked(rule, r) for p in find_prices(r.text)]
    # any price heard that is shown clears the window, also one of the claims decoding's amounts screened out of it
    heard = {p for r in readings if r.modality == "asr" for p in prices_in(dataclasses.replace(r, text=r.written or r.text))}
    currency = _currency([p for _, p in shown])
    heard |= {f"{currency}{a}" for r in readings if r.modality == "asr" for a in pieced_amounts(r.written or r.text)}
    if not said or not shown or heard & {p for _, p in shown}:
        return []
    values = {"spoken": sorted({p for _, p in said}), "shown": sorted({p for _, p in shown}),
              "spoken_at": [[round(r.start or 0.0, 3), round(r.end or 0.0, 3)] for r, _ in said],
              "shown_on": sorted({r.index for r, _ in shown if r.index is not None})}
    matched = f"{said[0][1]} said, {shown[0][1]} shown"
    return [_flag(rule, rule_set, said[0][0], matched, values)]


FOLLOWS_WITHIN = 0.5  # s: a segment starting this close to another's end continues its sentence
# How the bundled Whisper writes a spoken "yuan" after a number ("129 u.n.", "129 UN", "129 uun", "129 uon", "129 u1":
# seen in the development sets' transcripts), in speech only: on packaging and banners these letters mean something else.
_YUAN_AS_HEARD = re.compile(r"(?<=\d)\s*(?:u\.\s?n\.?|uu?n|uon|u1)(?![a-z0-9])", re.IGNORECASE)


def prices_in(reading: Reading) -> list[str]:
    """The prices a reading states; in speech also after the ASR's known spellings of yuan."""
    text = _YUAN_AS_HEARD.sub(" yuan", reading.text) if reading.modality == "asr" else reading.text
    return find_prices(text)


def _said_after(marker: str, reading: Reading, readings: Sequence[Reading]) -> list[str]:
    """In speech, the amount said right after an original-price marker ("original price 229 yuan, now only 129
    yuan" says ¥229): the marker says it is a price, also where the ASR dropped the unit; the window's shown
    currency then (¥ when none is shown). On packaging a bare number after the words may be anything (a model
    number), so not there."""
    if reading.modality != "asr":
        return []
    then = next((r for r in readings if r.modality == "asr" and r.told == reading.told and _follows(r, reading)), None)
    text = words_to_numbers(normalise(_YUAN_AS_HEARD.sub(" yuan", reading.text if then is None else f"{reading.text} {then.text}")))
    found = re.search(rf"{re.escape(normalise(marker))}\W{{0,3}}(?:is\s+|was\s+|of\s+)?{CURRENCY_SYMBOLS}?\s*(\d+(?:\.\d+)?)"
                      rf"(?![\d.]*\s*%)(?:\s*(?:{CURRENCY_WORDS})\b)?", text)
    if found is None:
        return []
    said = find_prices(found.group(0))  # its currency was said
    if said:
        return said[:1]
    return [f"{_currency([p for r in readings if r.modality == 'ocr' for p in find_prices(r.text)])}{amount(found.group(1))}"]


def _currency(shown: Sequence[str]) -> str:
    """The currency symbol of the window's shown prices (the first one's), ¥ when none is shown."""
    return shown[0][0] if shown else "¥"


# Whisper may write a spoken "one hundred forty one" in its pieces: "100 41", or run together, "10041"
_PIECED = re.compile(r"(?<![\d.,])([1-9])00\s?([1-9]\d?)(?![\d.,]*\d)")


def pieced_amounts(text: str) -> list[int]:
    """The amounts a transcript may say in pieces ("only 100 41 yuan", "10048 UN": 141, 148). They only clear a
    window whose shown price they are, never raise a flag: "10048" may as well be ten thousand and forty-eight."""
    return [int(hundreds) * 100 + int(rest) for hundreds, rest in _PIECED.findall(text)]


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Do two stretches of speech, (start, end) in seconds, share some time?"""
    return a[0] < b[1] and b[0] < a[1]


def _follows(later: Reading, reading: Reading) -> bool:
    """Does speech segment ``later`` start where ``reading`` ends (Whisper may end a segment between "original
    price" and its amount)?"""
    if later.start is None or reading.end is None or later is reading:
        return False
    return abs(later.start - reading.end) <= FOLLOWS_WITHIN


def _marked(rule: ClaimRule, reading: Reading) -> bool:
    text = normalise(reading.text)
    return any(contains(text, normalise(term)) for term in rule.terms)


def applies(flag: Mapping[str, Any], department: str | None) -> bool:
    """Does a flag document hold for a product of ``department``? The rule's scope travels in the flag
    (``departments``, ``except_departments``), judged as :meth:`ClaimRule.applies_to` judges it."""
    return in_scope(department, flag.get("departments") or (), flag.get("except_departments") or ())

