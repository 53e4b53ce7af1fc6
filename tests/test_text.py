"""edge/text.py: one table of unit spellings and one of CJK ranges; each consumer's part of them is pinned."""

import re

import pytest

from edge.asr.transcript import is_cjk
from edge.fusion.local_rules import _NAME_SPEC_UNITS
from edge.fusion.text import find_specs, tokens
from edge.ocr.fuse import normalise_text
from edge.text import IDEOGRAPHS, NO_SPACE_SCRIPTS, UNIT_KINDS, UNITS, char_class, has_cjk, in_ranges, unit_spellings


def test_spellings_are_lower_case_as_both_matchers_lower_case_first():
    assert [s for s in UNITS if s != s.lower()] == []


def test_unit_spellings_by_kind():
    assert unit_spellings(["charge"]) == {"mah": "mAh"}
    assert set(unit_spellings(UNIT_KINDS)) == set(UNITS)
    with pytest.raises(ValueError, match="unknown unit kind"):
        unit_spellings(["volume", "temperature"])


def test_local_rules_name_suffixes_are_table_spellings():
    assert set(_NAME_SPEC_UNITS) <= set(UNITS)


@pytest.mark.parametrize("text, specs", [
    ("50ML", ["50 ml"]), ("1.5 litres", ["1.5 L"]), ("10000mAh", ["10000 mAh"]), ("65W", ["65 W"]),
    ("10片", ["10 pcs"]), ("3袋", ["3 bags"]), ("2 pieces", ["2 pcs"]),
    # not units of a spec for the local rules (the OCR matching keys know them)
    ("5 cm", []), ("12 fl oz", []), ("1 piece", []), ("2 pc", []),
])
def test_the_units_of_a_spec(text, specs):
    assert find_specs(text) == specs


@pytest.mark.parametrize("text, key", [
    ("50 ML", "50ml"), ("2 L", "2l"), ("12 fl. oz", "12floz"), ("5000 mAh", "5000mah"), ("5 cm", "5cm"), ("1 piece", "1pcs"),
    # not attached in OCR matching keys (the local rules know them)
    ("65 W", "65 w"), ("10 片", "10片"), ("3 watts", "3 watts"),
])
def test_the_units_of_an_ocr_matching_key(text, key):
    assert normalise_text(text) == key


def test_char_class_and_in_ranges_agree():
    pattern = re.compile(f"[{char_class(NO_SPACE_SCRIPTS)}]")
    for code in (0x2FFF, 0x3000, 0x3042, 0x4E2D, 0x9FFF, 0xAC00, 0xFF01, 0x20000, 0x3FFFF, 0x40000):
        assert bool(pattern.fullmatch(chr(code))) == in_ranges(chr(code), NO_SPACE_SCRIPTS), hex(code)


def test_each_consumer_uses_its_own_cjk_ranges():
    # transcripts join kana and full-width punctuation without spaces; fusion tokens are ideographs only
    assert is_cjk("あ") and is_cjk("，") and is_cjk("中") and not is_cjk("한")
    assert has_cjk("中") and not has_cjk("あ") and tokens("中文 あ") == ["中", "文"]
    assert all(in_ranges(ch, IDEOGRAPHS) for ch in "花漾")
    assert normalise_text("水光 保湿") == "水光保湿" and normalise_text("こんにちは さようなら") == "こんにちは さようなら"
