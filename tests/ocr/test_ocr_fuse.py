"""Multi-frame OCR text fusion (paper §3.4.2) on constructed lines."""

from __future__ import annotations

from difflib import SequenceMatcher

import pytest

from edge.ocr import FusedText, fuse_ocr_lines, normalise_text
from edge.types import OcrLine


def line(text: str, confidence: float, frame: int, in_product: bool | None = True, x: float = 0.0) -> OcrLine:
    return OcrLine(text, confidence, ((x, 0.0), (x + 50, 0.0), (x + 50, 10.0), (x, 10.0)), frame, in_product)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("50ML", "50ml"),
        ("50 ml", "50ml"),
        ("50毫升", "50ml"),
        ("５０ｍｌ", "50ml"),  # full-width forms
        ("1.5 L", "1.5l"),
        ("100 grams", "100g"),
        ("1,299.00", "1299"),
        ("¥1,299.00", "¥1299"),
        ("1,299.00元", "¥1299"),
        ("RMB 129", "¥129"),
        ("￥ 129", "¥129"),
        ("$ 19.90", "$19.9"),
        ("50 %", "50%"),
        ("SPF50+", "spf50+"),
        ("1O0 g", "100g"),  # O between digits
        ("¥l29", "¥129"),  # l after a currency sign
        ("iPhone 5s", "iphone 5s"),  # not inside a digit run: untouched
        ("Galaxy S23", "galaxy s23"),
        ("5l", "5l"),  # a unit, not a 1
        ("v1.0.3", "v1.0.3"),
        ("Hydra   Glow Face Cream!!", "hydra glow face cream"),
        ("@MiaLive  so cute!!", "mialive so cute"),
        ("L'Oréal Paris", "loréal paris"),
        ("限时 特价 ¥129", "限时特价¥129"),
        ("保湿面霜 50 毫升", "保湿面霜50ml"),
        ("!!", ""),
    ],
)
def test_normalise_text(raw: str, key: str) -> None:
    assert normalise_text(raw) == key
    assert normalise_text(key) == key  # a key is its own normal form


def test_exact_duplicates_across_frames_keep_max_confidence_and_all_frames() -> None:
    fused = fuse_ocr_lines([line("AURORA", 0.91, 4), line("Aurora!", 0.97, 0, x=5), line("AURORA", 0.88, 9)], 0.8)
    assert len(fused) == 1
    item = fused[0]
    box = ((5.0, 0.0), (55.0, 0.0), (55.0, 10.0), (5.0, 10.0))
    assert item == FusedText("Aurora!", "aurora", 0.97, (0, 4, 9), True, box)


def test_unit_and_number_variants_merge_across_frames() -> None:
    lines = [line("50 ML", 0.9, 0), line("50毫升", 0.95, 1), line("¥1,299.00", 0.8, 0), line("1299元", 0.7, 2)]
    fused = fuse_ocr_lines(lines, 0.99)
    assert [(f.key, f.frames, f.confidence) for f in fused] == [("50ml", (0, 1), 0.95), ("¥1299", (0, 2), 0.8)]


def test_an_ocr_slip_merges_fuzzily_into_the_confident_variant() -> None:
    fused = fuse_ocr_lines([line("Hydra Glow Face Crearn", 0.71, 0), line("Hydra Glow Face Cream", 0.98, 2)], 0.8)
    assert [(f.text, f.confidence, f.frames) for f in fused] == [("Hydra Glow Face Cream", 0.98, (0, 2))]


def test_the_similarity_threshold_is_inclusive() -> None:
    ratio = SequenceMatcher(None, "abcd", "abce").ratio()
    assert ratio == 0.75
    lines = [line("abcd", 0.9, 0), line("abce", 0.8, 1)]
    assert len(fuse_ocr_lines(lines, 0.75)) == 1
    assert len(fuse_ocr_lines(lines, 0.7500001)) == 2


def test_distinct_lines_stay_in_order_of_first_appearance() -> None:
    lines = [line("AURORA", 0.9, 0), line("50 ml", 0.8, 0), line("so cute", 0.7, 1, False), line("Aurora", 0.95, 1)]
    fused = fuse_ocr_lines(lines, 0.8)
    assert [f.key for f in fused] == ["aurora", "50ml", "so cute"]
    assert fused[0].frames == (0, 1)


def test_different_numbers_never_merge() -> None:
    lines = [line("¥1299", 0.9, 0), line("¥1298", 0.9, 1), line("50ml", 0.9, 0), line("30ml", 0.9, 1)]
    assert [f.key for f in fuse_ocr_lines(lines, 0.5)] == ["¥1299", "¥1298", "50ml", "30ml"]  # all ratios >= 0.75


def test_a_single_frame_passes_through_even_with_repeated_text() -> None:
    lines = [line("AURORA", 0.9, 3), line("AURORA", 0.8, 3, x=100), line("Aurora Glow", 0.7, 3), line("!!", 0.6, 3)]
    fused = fuse_ocr_lines(lines, 0.5)
    expected = [(item.text, item.confidence, (3,), item.box) for item in lines]
    assert [(f.text, f.confidence, f.frames, f.box) for f in fused] == expected


def test_repeated_text_pairs_up_across_frames() -> None:
    lines = [line("AURORA", 0.9, 0), line("AURORA", 0.8, 0), line("AURORA", 0.7, 1), line("AURORA", 0.6, 1)]
    fused = fuse_ocr_lines(lines, 0.8)
    assert [(f.confidence, f.frames) for f in fused] == [(0.9, (0, 1)), (0.8, (0, 1))]


def test_punctuation_only_lines_never_merge() -> None:
    assert len(fuse_ocr_lines([line("!!", 0.9, 0), line("??", 0.9, 1)], 0.5)) == 2


@pytest.mark.parametrize(
    ("flags", "expected"),
    [((True, False), True), ((False, False), False), ((False, None), None), ((None, None), None), ((None, True), True)],
)
def test_in_product_aggregates_over_merged_lines(flags: tuple, expected: bool | None) -> None:
    lines = [line("AURORA", 0.9, frame, flag) for frame, flag in enumerate(flags)]
    assert [f.in_product for f in fuse_ocr_lines(lines, 0.8)] == [expected]


def test_empty_input_and_bad_threshold() -> None:
    assert fuse_ocr_lines([], 0.8) == []
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="similarity"):
            fuse_ocr_lines([line("a", 0.9, 0)], bad)
