"""Text tables shared by every stage that reads text: unit spellings and the CJK character ranges.

The bottom layer: it imports nothing from ``edge``. OCR fusion, the transcripts and the local
fusion rules each take from these tables the part they use, named where they use it, so that the
one table does not silently widen what any of them recognises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Kinds of unit. A consumer names the kinds it recognises; a kind it leaves out is a behaviour it
# does not have (the local rules find no lengths in specs, OCR matching keys keep Chinese measure words).
VOLUME = "volume"
FLUID_OUNCE = "fluid ounce"
MASS = "mass"
CHARGE = "charge"
POWER = "power"
LENGTH = "length"
COUNT = "count"  # plural spellings
COUNT_SINGULAR = "count, singular"
MEASURE_WORD = "measure word"  # Chinese classifiers written after a number (片 sheets, 粒 capsules, 袋 bags)

# spelling (lower case, or CJK as written) -> (canonical unit as displayed, kind)
UNITS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("ml", "milliliter", "milliliters", "millilitre", "millilitres", "毫升"), ("ml", VOLUME)),
    **dict.fromkeys(("l", "liter", "liters", "litre", "litres", "升"), ("L", VOLUME)),
    **dict.fromkeys(("fl oz", "fl. oz", "fl.oz"), ("fl oz", FLUID_OUNCE)),
    **dict.fromkeys(("mg", "milligram", "milligrams", "毫克"), ("mg", MASS)),
    **dict.fromkeys(("g", "gram", "grams", "克"), ("g", MASS)),
    **dict.fromkeys(("kg", "kilogram", "kilograms", "千克", "公斤"), ("kg", MASS)),
    **dict.fromkeys(("oz", "ounce", "ounces"), ("oz", MASS)),
    "mah": ("mAh", CHARGE),
    **dict.fromkeys(("w", "watt", "watts"), ("W", POWER)),
    "cm": ("cm", LENGTH),
    "mm": ("mm", LENGTH),
    **dict.fromkeys(("pcs", "pieces"), ("pcs", COUNT)),
    **dict.fromkeys(("pc", "piece"), ("pcs", COUNT_SINGULAR)),
    **dict.fromkeys(("片", "粒"), ("pcs", MEASURE_WORD)),
    "袋": ("bags", MEASURE_WORD),
}
UNIT_KINDS = frozenset(kind for _, kind in UNITS.values())


def unit_spellings(kinds: Iterable[str]) -> dict[str, str]:
    """spelling -> canonical unit, for the units of ``kinds`` (ValueError for a kind not in the table)."""
    wanted = set(kinds)
    unknown = wanted - UNIT_KINDS
    if unknown:
        raise ValueError(f"unknown unit kind(s) {sorted(unknown)} (known: {sorted(UNIT_KINDS)})")
    return {spelling: unit for spelling, (unit, kind) in UNITS.items() if kind in wanted}


def alternation(spellings: Iterable[str]) -> str:
    """A regex alternation of ``spellings``, longest first (so "liters" is tried before "l", "pcs" before "pc")."""
    return "|".join(sorted(map(re.escape, spellings), key=len, reverse=True))


# Unicode blocks of the scripts written without spaces between words. Hangul is left out on
# purpose: Korean separates words with spaces.
CJK_SYMBOLS = (0x3000, 0x303F)  # CJK symbols and punctuation (。、「」)
KANA = (0x3040, 0x30FF)  # hiragana, katakana
CJK_EXT_A = (0x3400, 0x4DBF)  # CJK unified ideographs extension A
CJK_UNIFIED = (0x4E00, 0x9FFF)  # CJK unified ideographs
CJK_COMPAT = (0xF900, 0xFAFF)  # CJK compatibility ideographs
FULL_WIDTH = (0xFF00, 0xFFEF)  # half-width and full-width forms (，！？)
CJK_EXT_B_ON = (0x20000, 0x3FFFF)  # CJK extensions B and later
NO_SPACE_SCRIPTS = (CJK_SYMBOLS, KANA, CJK_EXT_A, CJK_UNIFIED, CJK_COMPAT, FULL_WIDTH, CJK_EXT_B_ON)
IDEOGRAPHS = (CJK_EXT_A, CJK_UNIFIED)  # the Chinese characters of everyday text (one token each in fusion)

Ranges = Iterable[tuple[int, int]]


def char_class(ranges: Ranges) -> str:
    r"""The inside of a regex character class for ``ranges`` (``\u3400-\u4dbf\u4e00-\u9fff``)."""
    return "".join(f"{_escape(low)}-{_escape(high)}" for low, high in ranges)


def in_ranges(char: str, ranges: Ranges) -> bool:
    """True when the one character ``char`` lies in one of ``ranges``."""
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_CJK_CHAR = re.compile(f"[{char_class(IDEOGRAPHS)}]")


def has_cjk(text: str) -> bool:
    """True when ``text`` holds a CJK ideograph."""
    return _CJK_CHAR.search(text) is not None
