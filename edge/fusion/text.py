"""Text helpers for fusion: matching tokens, number words, prices and specifications."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

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
_CURRENCY_BEFORE = re.compile(r"([¥￥$€£]|rmb|cny)\s*(\d+(?:[.,]\d+)?)", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"(\d+(?:[.,]\d+)?)\s*(元|块|yuan|rmb|dollars?|euros?)", re.IGNORECASE)
_SYMBOL = {"¥": "¥", "￥": "¥", "rmb": "¥", "cny": "¥", "元": "¥", "块": "¥", "yuan": "¥", "$": "$",
           "dollar": "$", "dollars": "$", "€": "€", "euro": "€", "euros": "€", "£": "£"}

_ONES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = re.compile(
    r"\b(?:(?:" + "|".join(list(_ONES) + list(_TENS) + list(_SCALES) + ["and"]) + r")(?:[\s-]+|\b))+", re.IGNORECASE
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


def words_to_numbers(text: str) -> str:
    """Replace English number words by digits ("one hundred twenty nine" -> "129")."""

    def convert(match: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", match.group(0).lower()) if w and w != "and"]
        if not words:
            return match.group(0)
        total, current = 0, 0
        for word in words:
            if word in _ONES:
                current += _ONES[word]
            elif word in _TENS:
                current += _TENS[word]
            elif word == "hundred":
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * _SCALES[word]
                current = 0
        trailing = " " if match.group(0)[-1:].isspace() else ""
        return f"{total + current}{trailing}"

    return _NUMBER_WORDS.sub(convert, text)


def find_specs(text: str) -> list[str]:
    """Quantities with units, normalised ("50ML" -> "50 ml", "fifty milliliters" -> "50 ml")."""
    found = []
    for amount, unit in _SPEC.findall(words_to_numbers(unicodedata.normalize("NFKC", text))):
        found.append(f"{_amount(amount)} {_UNITS[unit.lower()]}")
    return found


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_AMOUNT = re.compile(r"([零〇一二两三四五六七八九十百千万]+)(?=\s*(?:元|块))")


def _cn_number(numeral: str) -> int:
    """'一百二十九' -> 129, '九十九' -> 99, '十五' -> 15, '三万' -> 30000."""
    total, section, digit = 0, 0, 0
    for ch in numeral:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
    return total + section + digit


def find_prices(text: str) -> list[str]:
    """Prices, normalised to symbol + amount ("129元" -> "¥129", "九十九元" -> "¥99", "$9.90" -> "$9.9")."""
    text = words_to_numbers(unicodedata.normalize("NFKC", text))
    text = _CN_AMOUNT.sub(lambda m: str(_cn_number(m.group(1))), text)
    found = [(m.start(), _SYMBOL[m.group(1).lower()], m.group(2)) for m in _CURRENCY_BEFORE.finditer(text)]
    found += [(m.start(), _SYMBOL[m.group(2).lower()], m.group(1)) for m in _CURRENCY_AFTER.finditer(text)]
    return [f"{symbol}{_amount(amount.replace(',', ''))}" for _, symbol, amount in sorted(found)]


def _amount(number: str) -> str:
    value = float(number)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def has_cjk(text: str) -> bool:
    return re.search(rf"[{_CJK}]", text) is not None
