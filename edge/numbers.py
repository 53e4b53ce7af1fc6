"""Numbers and prices in text: English number words, Chinese numerals, currency amounts.

A bottom-layer helper (it imports nothing from ``edge``): fusion reads prices and specs with it, the
claims screening compares the price a host says with the one a banner shows.
"""

from __future__ import annotations

import re
import unicodedata

CURRENCY_SYMBOLS = r"[¥￥$€£]"  # written before an amount
CURRENCY_WORDS = r"元|块|yuan|rmb|dollars?|euros?"  # said or written after one
_CURRENCY_BEFORE = re.compile(rf"({CURRENCY_SYMBOLS}|rmb|cny)\s*(\d+(?:[.,]\d+)?)", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(rf"(\d+(?:[.,]\d+)?)\s*({CURRENCY_WORDS})", re.IGNORECASE)
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
    return [f"{symbol}{amount(number.replace(',', ''))}" for _, symbol, number in sorted(found)]


def amount(number: str) -> str:
    """A decimal amount without trailing zeros: "129.0" -> "129", "9.90" -> "9.9"."""
    value = float(number)
    return str(int(value)) if value.is_integer() else f"{value:g}"
