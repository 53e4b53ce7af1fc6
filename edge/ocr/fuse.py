"""Multi-frame OCR text fusion (paper §3.4.2): normalise, exact then fuzzy dedupe, keep the max.

Pure functions on ``OcrLine`` values. A fused item stands for one physical text line followed
across keyframes, so two lines read in the same frame are never merged with each other: a
single frame passes through unchanged (one ``FusedText`` per line), and text printed twice on a
product stays twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from edge.text import (
    CHARGE,
    CJK_COMPAT,
    CJK_EXT_A,
    CJK_SYMBOLS,
    CJK_UNIFIED,
    COUNT,
    COUNT_SINGULAR,
    FLUID_OUNCE,
    LENGTH,
    MASS,
    VOLUME,
    alternation,
    char_class,
    unit_spellings,
)
from edge.types import FusedText, OcrLine

# CJK punctuation and ideographs: a key keeps no space next to them. Not kana (Japanese keys keep
# their spaces) nor full-width forms (NFKC has folded most of them by then).
_CJK = char_class((CJK_SYMBOLS, CJK_EXT_A, CJK_UNIFIED, CJK_COMPAT))
_CURRENCY = "¥$€£"

# Units attached to a number in a matching key. Not power ("50 w") nor Chinese measure words ("10片"):
# keys have always kept those as read, and attaching them would merge lines differently.
MATCHING_UNIT_KINDS = (VOLUME, FLUID_OUNCE, MASS, CHARGE, LENGTH, COUNT, COUNT_SINGULAR)
# spelling -> its matching form: the canonical unit in lower case without spaces ("50 fl. oz" -> "50floz")
_UNITS = {spelling: unit.lower().replace(" ", "") for spelling, unit in unit_spellings(MATCHING_UNIT_KINDS).items()}
_UNIT = re.compile(r"(\d)\s*(" + alternation(_UNITS) + r")(?![a-z])")
_CURRENCY_WORD_BEFORE = re.compile(r"(?<![a-z])(?:rmb|cny)\s*(?=\d)")
_CURRENCY_AFTER = re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块|yuan|rmb)(?![a-z])")
_CURRENCY_SPACE = re.compile(rf"([{_CURRENCY}])\s+(?=\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ZERO_DECIMALS = re.compile(r"(?<![\d.])(\d+)\.0+(?!\.?\d)")  # not inside versions like 1.0.3
_TRAILING_ZEROS = re.compile(r"(?<![\d.])(\d+\.\d*?[1-9])0+(?!\.?\d)")
_PERCENT = re.compile(r"(\d)\s+%")
_CONFUSABLE = {"o": "0", "i": "1", "l": "1", "s": "5"}
_CONFUSED_IN_DIGITS = re.compile(r"(?<=\d)[oils]+(?=\d)")
_CONFUSED_AFTER_CURRENCY = re.compile(rf"(?<=[{_CURRENCY}])[oils]+(?=\d)")
_APOSTROPHE = re.compile(r"['’`´]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_NEAR_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_DIGITS = re.compile(r"\d")


def normalise_text(text: str) -> str:
    """The matching form of an OCR line (paper §3.4.2, step 1).

    NFKC (full-width forms), lower case, OCR confusions inside digit runs (o->0, i/l->1, s->5,
    only between digits or between a currency sign and a digit), thousands separators and zero
    decimals dropped ("1,299.00" -> "1299"), currencies as a sign before the number ("129元" ->
    "¥129"), units canonical and attached ("50 ML", "50毫升" -> "50ml"), punctuation removed except
    '.' inside numbers, '%' and '+' after a digit and a currency sign before one; whitespace
    collapsed and dropped next to CJK characters.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHE.sub("", text)
    text = _fix_confusions(text)
    text = _unify_numbers(text)
    text = _unify_currency(text)
    text = _UNIT.sub(lambda m: m.group(1) + _UNITS[m.group(2)], text)
    text = _PERCENT.sub(r"\1%", text)
    text = _PUNCTUATION.sub(_keep_or_blank, text)
    text = " ".join(text.split())
    return _NEAR_CJK_SPACE.sub("", text)


def _fix_confusions(text: str) -> str:
    def digits(match: re.Match[str]) -> str:
        return "".join(_CONFUSABLE[c] for c in match.group(0))

    return _CONFUSED_AFTER_CURRENCY.sub(digits, _CONFUSED_IN_DIGITS.sub(digits, text))


def _unify_numbers(text: str) -> str:
    text = _THOUSANDS.sub("", text)
    text = _ZERO_DECIMALS.sub(r"\1", text)
    return _TRAILING_ZEROS.sub(r"\1", text)


def _unify_currency(text: str) -> str:
    text = _CURRENCY_WORD_BEFORE.sub("¥", text)
    text = _CURRENCY_AFTER.sub(r"¥\1", text)
    return _CURRENCY_SPACE.sub(r"\1", text)


def _keep_or_blank(match: re.Match[str]) -> str:
    """Keep a punctuation mark that carries meaning next to a number, blank out the rest."""
    char, text, at = match.group(0), match.string, match.start()
    before = text[at - 1] if at > 0 else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    if char == "." and before.isdigit() and after.isdigit():
        return char
    if char in "%+" and before.isdigit():
        return char
    if char in _CURRENCY and after.isdigit():
        return char
    return " "


@dataclass
class _Group:
    """Lines taken to be one text item; at most one line per frame."""

    lines: list[OcrLine]
    keys: list[str]

    @property
    def frames(self) -> set[int]:
        return {line.frame_index for line in self.lines}

    def absorb(self, other: _Group) -> None:
        self.lines += other.lines
        self.keys += other.keys


def fuse_ocr_lines(lines: Sequence[OcrLine], similarity: float) -> list[FusedText]:
    """Fuse the lines of several keyframes (paper §3.4.2, steps 2-4).

    Lines with equal keys merge first; then items whose keys are at least ``similarity`` alike
    (difflib ratio, best match first) merge, provided their digits agree ("50ml" and "30ml" stay
    apart) and they share no frame. A merged item keeps the max confidence and the union of frames;
    unmerged lines are kept. Lines with an empty key (only punctuation) never merge. Output order
    is that of each item's first line in ``lines``.
    """
    if not 0.0 < similarity <= 1.0:
        raise ValueError(f"similarity must be in (0, 1], got {similarity}")
    keyed = [(line, normalise_text(line.text)) for line in lines]
    groups = _exact_groups(keyed)
    return [_fused(group) for group in _fuzzy_merge(groups, similarity)]


def _exact_groups(keyed: Sequence[tuple[OcrLine, str]]) -> list[_Group]:
    """Group equal non-empty keys, one line per frame per group, in order of first appearance."""
    groups: list[_Group] = []
    by_key: dict[str, list[_Group]] = {}
    for line, key in keyed:
        same = by_key.setdefault(key, []) if key else []
        group = next((g for g in same if line.frame_index not in g.frames), None)
        if group is None:
            group = _Group([], [])
            groups.append(group)
            same.append(group)
        group.lines.append(line)
        group.keys.append(key)
    return groups


def _fuzzy_merge(groups: list[_Group], similarity: float) -> list[_Group]:
    """Merge each group into the most similar earlier one that qualifies (ties: the earliest)."""
    kept: list[_Group] = []
    for group in groups:
        best, best_ratio = None, 0.0
        for candidate in kept:
            ratio = _group_ratio(candidate, group)
            if ratio >= similarity and ratio > best_ratio and not candidate.frames & group.frames:
                best, best_ratio = candidate, ratio
        if best is None:
            kept.append(group)
        else:
            best.absorb(group)
    return kept


def _group_ratio(a: _Group, b: _Group) -> float:
    """Best key similarity between two groups; 0 when a key is empty or the digits differ."""
    best = 0.0
    for ka in dict.fromkeys(a.keys):
        for kb in dict.fromkeys(b.keys):
            if ka and kb and _DIGITS.findall(ka) == _DIGITS.findall(kb):
                best = max(best, SequenceMatcher(None, ka, kb, autojunk=False).ratio())
    return best


def _fused(group: _Group) -> FusedText:
    best = max(range(len(group.lines)), key=lambda i: (group.lines[i].confidence, -i))
    line = group.lines[best]
    flags = {item.in_product for item in group.lines}
    in_product = True if True in flags else (False if flags == {False} else None)
    return FusedText(
        text=line.text,
        key=group.keys[best],
        confidence=max(item.confidence for item in group.lines),
        frames=tuple(sorted(group.frames)),
        in_product=in_product,
        box=tuple(line.box),
    )
