"""The claims stage of a window: what its evidence says, screened by the configured rule sets and watchlist.

The box screens every speech segment and OCR line before the product is known, so the evidence's
``claims`` holds the flags of every rule with each rule's scope (departments) in the flag, and the
watchlist candidates. A fusion engine, wherever it runs, keeps in the result the flags that hold for the
product it recognised (:func:`result_claims`): the local and the cloud engine report the same flags for
the same evidence and department, and a central worker needs no rule sets of its own.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from edge.claims.match import Flag, Reading, applies, overlaps, screen
from edge.claims.rules import RulesError, RuleSet, configured_rule_sets
from edge.claims.watchlist import FAMILY, RULE_SET, holds_for, watch_flags
from edge.config.models import ClaimsConfig, WatchEntry
from edge.errors import ConfigError
from edge.evidence.forms import ocr_lines, segments
from edge.numbers import words_to_numbers
from edge.text import has_cjk


@dataclass(frozen=True)
class Screening:
    """The rule sets and watchlist a box screens its windows with. Each reading is screened with the sets
    written in its script (Chinese text by the Chinese set, English by the English one) and the window's
    price check with those of the window's language; with no set in a language, every set serves it."""

    rule_sets: tuple[RuleSet, ...]
    watchlist: tuple[WatchEntry, ...] = ()

    def section(self, evidence: Mapping[str, Any]) -> dict[str, Any]:
        """The evidence's ``claims``: the sets applied (watchlist included, when one is configured) and their flags."""
        told_fits = _told_fits(evidence)
        readings = [r for r in evidence_readings(evidence) if not r.told or told_fits]
        flags, used = [], []
        for language in ("zh", "en"):  # terms: each reading by the sets written in its own script
            mine = [r for r in readings if (script_of(r.text) == language)]
            sets = self._sets(language)
            found = screen(sets, mine, every_department=True, checks=False)
            flags += found
            used += [s.name for s in sets if mine]
        window = self._sets(window_language(evidence))  # a price mismatch is one fact of the window: flagged once
        flags += screen(window, readings, every_department=True, checks=True)
        flags = _once(flags)
        flags += watch_flags(self.watchlist, [r for r in readings if not r.told])  # names are the first decoding's to hear
        names = [s.name for s in self.rule_sets if s.name in used or s in window] + ([RULE_SET] if self.watchlist else [])
        return {"rule_sets": names, "flags": [flag.document() for flag in sorted(flags, key=_order)]}

    def vocabulary(self) -> dict[str, tuple[str, ...]]:
        """Language -> the claim terms its sets write (price rules' markers such as "was" left out): what an ASR is
        told to expect, so that a spoken claim comes out spelt as a rule matches it."""
        out: dict[str, list[str]] = {}
        for rule_set in self.rule_sets:
            terms = out.setdefault(rule_set.language, [])
            terms += [t for rule in rule_set.rules if rule.family != "price" for t in rule.terms if t not in terms]
        return {language: tuple(terms) for language, terms in out.items()}

    def _sets(self, language: str) -> list[RuleSet]:
        """The sets written in ``language``, or every set when none is (a site may list one jurisdiction only)."""
        return [s for s in self.rule_sets if s.language == language] or list(self.rule_sets)


def asr_vocabulary(config: ClaimsConfig) -> dict[str, tuple[str, ...]] | None:
    """The claim terms per language that ``config``'s screening expects to hear (``Screening.vocabulary``), None when off."""
    screening = screening_for(config)
    return screening.vocabulary() if screening else None


@lru_cache(maxsize=8)
def screening_for(config: ClaimsConfig) -> Screening | None:
    """The screening ``config`` asks for (its files read once), None when screening is off; a faulty set is a
    :class:`ConfigError` of ``claims`` naming the file and the rule."""
    if not config.enabled:
        return None
    try:
        return Screening(configured_rule_sets(config), config.watchlist)
    except RulesError as exc:
        raise ConfigError("claims", str(exc)) from None


def window_language(evidence: Mapping[str, Any]) -> str:
    """``zh`` or ``en``: the script most OCR lines are in (packaging and the live room say it reliably), else the
    transcript's language (an ASR model may name the wrong one for accented or synthetic speech), else ``en``."""
    lines = [line["text"] for line in (evidence.get("ocr") or {}).get("lines") or ()]
    if lines:
        return "zh" if sum(has_cjk(text) for text in lines) * 2 > len(lines) else "en"
    asr = evidence.get("asr") or {}
    spoken = str(asr.get("language") or "").lower()[:2]
    return spoken if spoken in ("zh", "en") else script_of(asr.get("text") or "")


def script_of(text: str) -> str:
    """``zh`` for text with Chinese characters, else ``en``."""
    return "zh" if has_cjk(text) else "en"


def _told_fits(evidence: Mapping[str, Any]) -> bool:
    lines = (evidence.get("ocr") or {}).get("lines")
    return screens_claims_decoding((evidence.get("asr") or {}).get("language"), window_language(evidence) if lines else None)


def screens_claims_decoding(spoken: str | None, shown: str | None) -> bool:
    """Is the claims decoding screened? Not when the speech was decoded as another language (``spoken``) than the
    pack and the live room are written in (``shown``, None when nothing is): Whisper misjudged the language, was
    told the other language's terms, and writes them into speech it cannot make out (espeak's Mandarin decoded as
    English: "T4-1, every, cure")."""
    spoken = str(spoken or "").lower()[:2]
    return spoken not in ("zh", "en") or shown is None or spoken == shown


def _once(flags: list[Flag]) -> list[Flag]:
    """The flags less those of the claims decoding that a flag of the first decoding already raised for the same
    rule over the same stretch of speech (both decodings heard the claim)."""
    first = [f for f in flags if f.modality == "asr" and not f.claims_decoding]
    return [f for f in flags if not f.claims_decoding or not any(_same_claim(f, g) for g in first)]


def _same_claim(told: Flag, plain: Flag) -> bool:
    return (told.rule_set, told.rule) == (plain.rule_set, plain.rule) and overlaps(told.segment or (0.0, 0.0), plain.segment or (0.0, 0.0))


def _order(flag: Any) -> tuple:
    """Flags in reading order: OCR lines by index, then speech by time."""
    line = flag.ocr_line if flag.ocr_line is not None else -1
    return (flag.modality != "ocr", line, flag.segment or (0.0, 0.0), flag.rule_set, flag.rule)


def evidence_readings(evidence: Mapping[str, Any]) -> list[Reading]:
    """The evidence's OCR lines (index, on the product or not) and speech segments (start, end) as readings, those
    of the claims decoding last. A transcript without segments is one reading over the window."""
    readings = [Reading(line["text"], "ocr", index=i, in_product=line.get("in_product")) for i, line in enumerate(ocr_lines(evidence))]
    asr = evidence.get("asr") or {}
    timed = segments(asr)
    if not timed and (asr.get("text") or "").strip():
        window = evidence.get("window") or {}
        timed = [{"start": 0.0, "end": float(window.get("end", 0.0)) - float(window.get("start", 0.0)), "text": asr["text"]}]
    first = [Reading(s["text"], "asr", start=float(s["start"]), end=float(s["end"])) for s in timed if s["text"].strip()]
    told = [Reading(s["text"], "asr", start=float(s["start"]), end=float(s["end"]), told=True)
            for s in asr.get("claim_segments") or () if s["text"].strip()]
    return readings + first + [_amounts_heard_first(r, first) for r in told]


_AMOUNT = re.compile(r"\d+(?:[.,]\d+)*")


def _amounts_heard_first(told: Reading, first: Sequence[Reading]) -> Reading:
    """``told`` with every amount the first decoding did not hear over the same stretch blanked out. The claims
    decoding is told words and how prices are stated, not amounts: an amount only it heard is its prompt's and
    hotwords' doing ("100% genuine" for "103 UN", "200.8 yuan" for "200A to 1"), so no price or term with a
    number comes of it."""
    near = [r for r in first if overlaps((r.start or 0.0, r.end or 0.0), (told.start or 0.0, told.end or 0.0))] or list(first)
    heard = {m.group(0) for r in near for m in _AMOUNT.finditer(words_to_numbers(r.text))}
    text = _AMOUNT.sub(lambda m: m.group(0) if m.group(0) in heard else "…", words_to_numbers(told.text))
    return dataclasses.replace(told, text=text, written=told.text) if text != told.text else told


def result_claims(section: Mapping[str, Any], department: str | None, brand: str | None, product_name: str | None) -> list[dict[str, Any]]:
    """The evidence's flags that hold for the recognised product: a rule's flag when ``department`` lies in the
    rule's scope, a watchlist candidate when the product is the listed one."""
    kept = []
    for flag in section.get("flags") or ():
        holds = holds_for(flag, brand, product_name) if flag["family"] == FAMILY else applies(flag, department)
        if holds:
            kept.append(dict(flag))
    return kept

