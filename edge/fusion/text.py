"""Text helpers for fusion: matching tokens and specifications (numbers and prices: :mod:`edge.numbers`)."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from edge.numbers import amount, words_to_numbers
from edge.text import CHARGE, COUNT, IDEOGRAPHS, MASS, MEASURE_WORD, POWER, VOLUME, alternation, char_class, unit_spellings

# Each CJK ideograph is a token; kana, CJK punctuation and full-width forms are not (NFKC folds the latter).
_CJK = char_class(IDEOGRAPHS)
_TOKEN = re.compile(rf"[{_CJK}]|[a-z0-9]+(?:\.[0-9]+)?")

# The units a spec may carry. No lengths, fluid ounces or singular "pc"/"piece": recognising them
# would make new specs (and keep such lines from naming the product).
SPEC_UNIT_KINDS = (VOLUME, MASS, CHARGE, POWER, COUNT, MEASURE_WORD)
_UNITS = unit_spellings(SPEC_UNIT_KINDS)
_SPEC = re.compile(
    r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s*(" + alternation(_UNITS) + r")(?![a-z])",
    re.IGNORECASE,
)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; each CJK character is a token."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def after_tokens(text: str, count: int) -> str:
    """``text`` (NFKC) after its first ``count`` tokens as :func:`tokens` counts them, in its own spelling; "" if no more."""
    text = unicodedata.normalize("NFKC", text)
    found = list(re.finditer(_TOKEN.pattern, text, re.IGNORECASE))
    return text[found[count].start():].strip() if len(found) > count else ""


def similarity(a: str, b: str) -> float:
    """Similarity of two phrases in [0, 1] over their token strings."""
    ta, tb = " ".join(tokens(a)), " ".join(tokens(b))
    if not ta or not tb:
        return 0.0
    return SequenceMatcher(None, ta, tb).ratio()


def coverage(phrase: str, text: str) -> float:
    """Share of ``phrase``'s tokens that occur (exactly or nearly) in ``text``."""
    want, have = tokens(phrase), set(tokens(text))
    if not want:
        return 0.0
    hit = sum(1 for t in want if t in have or any(len(t) > 3 and SequenceMatcher(None, t, h).ratio() >= 0.8 for h in have))
    return hit / len(want)


def find_specs(text: str) -> list[str]:
    """Quantities with units, normalised ("50ML" -> "50 ml", "fifty milliliters" -> "50 ml")."""
    found = []
    for number, unit in _SPEC.findall(words_to_numbers(unicodedata.normalize("NFKC", text))):
        found.append(f"{amount(number)} {_UNITS[unit.lower()]}")
    return found
