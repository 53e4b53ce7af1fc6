"""Packaging layouts a person reads without thinking (issue 14), as constructed evidence for the local
rules: the brand is not whatever is printed largest, and a name stacked over several lines stays whole.

Only the tuned layout families (tools/livegen/layouts.py TUNED) and the case the issue quotes are
pinned here; the held-out families are judged by the benchmark, never tuned on.
"""

from __future__ import annotations

import pytest

from edge.config.models import Config
from edge.fusion import create_fusion

SPEECH = "Hi everyone! Today I'm showing you the Verdant Amber Night Perfume, fifty milliliters, only 199 yuan."


def lines(make_line, rows):
    return [make_line(text, 0.97, height=height, top=top) for text, height, top in rows]


CASES = {
    # the serum: AQUAVERA / Hyaluronic / Hydrating / Serum / 30 ml
    "issue": ([("AQUAVERA", 40, 40), ("Hyaluronic", 30, 100), ("Hydrating", 30, 140), ("Serum", 30, 180), ("30 ml", 16, 230)],
              "AQUAVERA", "Hyaluronic Hydrating Serum"),
    "classic": ([("VERDANT", 60, 50), ("Amber Night", 30, 130), ("Perfume", 30, 170), ("50 ml", 28, 300)],
                "VERDANT", "Amber Night Perfume"),
    # the name in the largest type, over two lines; the brand smaller, under it
    "name-first": ([("Amber Night", 44, 60), ("Perfume", 44, 110), ("VERDANT", 26, 180), ("50 ml", 28, 300)],
                   "VERDANT", "Amber Night Perfume"),
    "name-first-zh": ([("晚香香水", 44, 60), ("锦鲤", 26, 130), ("50ml", 28, 300)], "锦鲤", "晚香香水"),
    # a small brand on top, the name one word a line in larger type
    "stacked": ([("VERDANT", 28, 40), ("Amber", 40, 100), ("Night", 40, 145), ("Perfume", 40, 190), ("50 ml", 24, 300)],
                "VERDANT", "Amber Night Perfume"),
    "stacked-four": ([("HALCYON", 28, 40), ("Nude", 38, 100), ("Rose", 38, 142), ("Velvet", 38, 184), ("Lipstick", 38, 226)],
                     "HALCYON", "Nude Rose Velvet Lipstick"),
    "stacked-zh": ([("锦鲤", 28, 40), ("晚香", 40, 100), ("香水", 40, 145), ("50ml", 24, 300)], "锦鲤", "晚香香水"),
    # a stacked Chinese name whose last line is one character, the head noun (霜: cream)
    "stacked-zh-head": ([("KIYOMI", 22, 40), ("烟酰", 22, 70), ("胺亮", 22, 93), ("肤面", 22, 115), ("霜", 22, 138), ("30ml", 20, 190)],
                        "KIYOMI", "烟酰胺亮肤面霜"),
}


SPOKEN = ("classic", "name-first", "stacked")  # the packs of the Verdant perfume SPEECH talks about


@pytest.mark.parametrize("case, speech", [(c, "") for c in CASES] + [(c, SPEECH) for c in SPOKEN])
def test_brand_and_name_as_a_person_reads_the_pack(make_evidence, make_line, case, speech):
    rows, brand, name = CASES[case]
    with create_fusion(Config().fusion) as fuse:
        result = fuse(make_evidence(lines(make_line, rows), speech=speech))
    assert (result["brand"], result["product_name"]) == (brand, name)
