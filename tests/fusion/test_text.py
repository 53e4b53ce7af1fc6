import pytest

from edge.fusion.text import coverage, find_specs, similarity
from edge.numbers import find_prices, words_to_numbers


@pytest.mark.parametrize("text, expected", [
    ("one hundred twenty nine yuan", "129 yuan"),
    ("fifty milliliters", "50 milliliters"),
    ("two thousand and five", "2005"),
    ("nothing here", "nothing here"),
])
def test_words_to_numbers(text, expected):
    assert words_to_numbers(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("¥129", ["¥129"]), ("￥ 129.00", ["¥129"]), ("129元", ["¥129"]), ("only 99 yuan", ["¥99"]),
    ("$9.90", ["$9.9"]), ("RMB 1,299", ["¥1299"]), ("50 ml", []),
    ("只要九十九元", ["¥99"]), ("一百二十九块", ["¥129"]), ("两千零五十元", ["¥2050"]), ("三只松鼠坚果", []),
])
def test_find_prices(text, expected):
    assert find_prices(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("50ML", ["50 ml"]), ("Net wt 200 g", ["200 g"]), ("10000mAh", ["10000 mAh"]),
    ("净含量50毫升", ["50 ml"]), ("version 2.0", []), ("fifty milliliters", ["50 ml"]),
])
def test_find_specs(text, expected):
    assert find_specs(text) == expected


def test_similarity_and_coverage():
    assert similarity("Hydra Glow Face Cream", "hydra glow face crearn") > 0.9
    assert similarity("Aurora", "Borealis") < 0.5
    assert coverage("Hydra Glow Cream", "the aurora hydra glow cream") == 1.0
    assert coverage("Hydra Glow Cream", "something else") == 0.0
