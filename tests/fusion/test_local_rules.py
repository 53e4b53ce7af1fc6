"""The local-rules engine applies the paper's four fusion principles (§3.5.2)."""

import pytest

from edge.evidence import RESULT_SCHEMA, schema_problem
from edge.fusion import Candidate, decide, fuse_local


def test_consistency_first_agreeing_modalities_beat_a_stronger_loner():
    d = decide([Candidate("Aurora", "ocr", 0.6), Candidate("aurora", "asr", 0.6), Candidate("Borealis", "ocr", 0.7)])
    assert d.value == "Aurora" and d.support == ("ocr", "asr")
    assert d.confidence == pytest.approx(0.6 + 0.15)


def test_reliability_ranking_ocr_over_vl_over_asr():
    assert decide([Candidate("Zeta", "asr", 0.9), Candidate("Theta", "vl", 0.9)]).value == "Theta"
    assert decide([Candidate("Theta", "vl", 0.9), Candidate("Kappa", "ocr", 0.9)]).value == "Kappa"


def test_conflict_goes_to_higher_confidence():
    assert decide([Candidate("Kappa", "ocr", 0.3), Candidate("Theta", "vl", 0.9)]).value == "Theta"


def test_equal_strength_conflict_prefers_ocr_backed_value():
    # 0.8·1.0 (vl) vs 1.0·0.8 (ocr): equal strength, OCR wins the tie.
    assert decide([Candidate("Theta", "vl", 1.0), Candidate("Kappa", "ocr", 0.8)]).value == "Kappa"


def test_value_spelling_comes_from_highest_priority_modality():
    d = decide([Candidate("aurora", "asr", 0.9), Candidate("AURORA", "ocr", 0.5)])
    assert d.value == "AURORA" and d.support == ("ocr", "asr")


def test_no_candidates():
    assert decide([]) is None


def test_package_text_gives_brand_name_spec(make_evidence, make_line):
    ev = make_evidence([
        make_line("AURORA", 0.98, height=60, top=50),
        make_line("Hydra Glow Face Cream", 0.95, height=30, top=130),
        make_line("50 ml", 0.97, height=18, top=180),
    ])
    result = fuse_local(ev)
    assert schema_problem(result, RESULT_SCHEMA) is None
    assert (result["brand"], result["product_name"], result["product_type"]) == ("AURORA", "Hydra Glow Face Cream", "face cream")
    assert result["category"] == "Health & Beauty > Personal Care > Cosmetics > Skin Care > Lotion & Moisturizer"
    assert result["category_id"] == 2592 and result["grounds"]["category"] == result["grounds"]["product_type"] == {"ocr_lines": [1]}
    assert result["key_attributes"] == {"spec": "50 ml"}
    assert result["support"]["brand"] == ["ocr"] and result["engine"] == "local-rules"
    assert result["evidence_id"] == ev["id"]


def test_overlay_text_never_names_the_product(make_evidence, make_line):
    ev = make_evidence([
        make_line("@MiaLive", 0.99, height=80, in_product=False),
        make_line("Super Deal Today", 0.99, height=70, in_product=False),
        make_line("NOVA", 0.9, height=40),
        make_line("Silk Repair Shampoo", 0.9, height=25),
    ])
    result = fuse_local(ev)
    assert result["brand"] == "NOVA" and result["product_name"] == "Silk Repair Shampoo"
    assert result["product_type"] == "shampoo"
    assert result["category"] == "Health & Beauty > Personal Care > Hair Care > Shampoo & Conditioner > Shampoo"


def test_price_from_banner_and_speech_agree(make_evidence, make_line):
    ev = make_evidence(
        [make_line("AURORA", height=50), make_line("Only ¥129 today", 0.9, in_product=False)],
        speech="Only one hundred twenty nine yuan today.",
    )
    result = fuse_local(ev)
    assert result["price"] == "¥129" and result["support"]["price"] == ["ocr", "asr"]


def test_speech_confirms_brand_and_completes_name(make_evidence, make_line):
    # Without a detector nothing is known about boxes; speech agreement picks the right line.
    ev = make_evidence(
        [
            make_line("LUMA", 0.9, height=50, in_product=None),
            make_line("so cute!!", 0.95, height=20, in_product=None),
            make_line("BEST SELLER", 0.95, height=55, in_product=None),
        ],
        speech="Hi everyone, today I'm showing you the Luma Night Repair Serum, fifty milliliters.",
    )
    result = fuse_local(ev)
    assert result["brand"] == "LUMA" and "asr" in result["support"]["brand"]
    assert result["product_name"] == "Night Repair Serum" and result["support"]["product_name"] == ["asr"]
    assert result["product_type"] == "facial serum" and result["category"] == "Health & Beauty > Personal Care > Cosmetics > Skin Care"
    assert result["support"]["category"] == ["asr"]
    assert result["key_attributes"] == {"spec": "50 ml"}


def test_speech_only_completion(make_evidence):
    result = fuse_local(make_evidence([], speech="This one is from Zephyr Audio Pro Earbuds with a great bass."))
    assert result["brand"] == "Zephyr" and result["support"]["brand"] == ["asr"]
    assert result["product_type"] == "earbuds" and result["category_id"] == 543626  # Electronics > Audio > ... > Headphones
    assert schema_problem(result, RESULT_SCHEMA) is None


def test_nothing_known_gives_empty_but_valid_result(make_evidence):
    result = fuse_local(make_evidence())
    assert schema_problem(result, RESULT_SCHEMA) is None
    assert all(result[f] is None for f in ("brand", "product_name", "product_type", "category", "category_id", "price"))
    assert result["key_attributes"] == {} and result["confidence"]["brand"] == 0.0


def test_vl_fills_missing_category_and_ocr_keeps_brand(make_evidence, make_line):
    ev = make_evidence(
        [make_line("KIRA", 0.9, height=50)],
        vl={"model": "qwen-vl-plus", "brand": "Kira", "product_name": "Kira lip tint", "category": "Makeup", "confidence": 0.8},
    )
    result = fuse_local(ev)
    assert result["brand"] == "KIRA" and result["support"]["brand"] == ["ocr", "vl"]
    assert result["product_type"] == "lip gloss" and result["support"]["product_type"] == ["vl"]  # "lip tint" in its name
    assert result["category"] == "Health & Beauty > Personal Care > Cosmetics > Makeup > Lip Makeup > Lip Gloss"
    assert result["support"]["category"] == ["vl"]


def test_chinese_packaging(make_evidence, make_line):
    ev = make_evidence(
        [make_line("花漾", 0.95, height=60), make_line("水光保湿面霜", 0.93, height=30), make_line("净含量50毫升", 0.9, height=15)],
        speech="今天给大家推荐花漾水光保湿面霜，只要99元",
    )
    result = fuse_local(ev)
    assert result["brand"] == "花漾" and result["product_name"] == "水光保湿面霜"
    assert result["product_type"] == "面霜" and result["category_id"] == 2592 and result["price"] == "¥99"
    assert result["key_attributes"] == {"spec": "50 ml"}


def test_name_printed_over_two_lines_is_joined(make_evidence, make_line):
    ev = make_evidence([
        make_line("AURORA", 0.99, height=40, top=100),
        make_line("Hydra Glow", 0.98, height=26, top=160),
        make_line("Face Cream", 0.97, height=26, top=192),
        make_line("FOR ALL SKIN TYPES", 0.95, height=12, top=260),
        make_line("50 ml", 0.97, height=20, top=290),
    ])
    result = fuse_local(ev)
    assert result["brand"] == "AURORA"
    assert result["product_name"] == "Hydra Glow Face Cream"
    assert result["key_attributes"] == {"spec": "50 ml"}


def test_lines_of_different_print_size_are_not_joined(make_evidence, make_line):
    ev = make_evidence([
        make_line("NOVA", 0.99, height=40, top=100),
        make_line("Silk Repair Shampoo", 0.98, height=26, top=160),
        make_line("with argan oil and keratin", 0.97, height=12, top=192),
    ])
    assert fuse_local(ev)["product_name"] == "Silk Repair Shampoo"


@pytest.mark.parametrize("in_product", [None, True])
def test_live_room_controls_and_counters_never_name_the_product(make_evidence, make_line, in_product):
    """Without product boxes (or with a badge drawn over one) the room's UI is the largest, sharpest text."""
    ev = make_evidence([
        make_line("LIVE", 0.99, height=90, top=10, in_product=in_product),
        make_line("3.1万人观看", 0.99, height=80, top=110, in_product=in_product),
        make_line("27.8k watching", 0.99, height=80, top=210, in_product=in_product),
        make_line("抢购", 0.99, height=85, top=310, in_product=in_product),
        make_line("Buy now", 0.99, height=85, top=410, in_product=in_product),
        make_line("星河", 0.95, height=50, top=520, in_product=in_product),
        make_line("乳木果护手霜", 0.95, height=30, top=600, in_product=in_product),
    ])
    result = fuse_local(ev)
    assert (result["brand"], result["product_name"]) == ("星河", "乳木果护手霜")


def test_words_like_live_inside_a_name_are_kept(make_evidence, make_line):
    ev = make_evidence([make_line("LUMA", 0.98, height=60, top=50), make_line("Live Well Vitamin Gummies", 0.95, height=30, top=130)])
    assert fuse_local(ev)["product_name"] == "Live Well Vitamin Gummies"


def test_chinese_chat_lines_are_not_names(make_evidence, make_line):
    ev = make_evidence([
        make_line("用户：上次买的很好用", 0.99, height=60, top=10),
        make_line("CLOUDPEAK", 0.97, height=45, top=200),
        make_line("柑橘香水", 0.95, height=30, top=300),
    ])
    result = fuse_local(ev)
    assert (result["brand"], result["product_name"]) == ("CLOUDPEAK", "柑橘香水")
