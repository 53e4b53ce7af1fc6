"""The claims stage wired into the window (issue 15): evidence carries every flag with its rule's scope,
results keep those that hold for the recognised product, the local and the cloud engine (a scripted
OpenAI-compatible endpoint on loopback: the real Qwen cannot be reached here) report the same flags,
the prompt passes them on, the watchlist flags a listed brand, and a faulty site rules file stops the
start with one line naming the file and the rule."""

from __future__ import annotations

import json

import pytest
from chat_server import ChatServer, Step, completion
from evidence_docs import evidence, line

from edge.claims import Screening, result_claims, screening_for, shipped_rule_sets
from edge.config import Config
from edge.errors import ConfigError
from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, schema_problem
from edge.fusion import create_fusion, fuse_local

KEY = "sk-test-claims-DO-NOT-LEAK"
SKIN = "Health & Beauty > Personal Care > Cosmetics > Skin Care"
TEA = "Food, Beverages & Tobacco > Beverages > Tea & Infusions"


def screened(doc: dict, config: dict | None = None) -> dict:
    """``doc`` with its claims section, as the box writes it (checked against the schema)."""
    screening = screening_for(Config.model_validate({"claims": config or {}}).claims)
    doc = dict(doc, claims=screening.section(doc))
    assert schema_problem(doc, EVIDENCE_SCHEMA) is None
    return doc


@pytest.fixture
def serum():
    """A Chinese serum window: a cosmetics claim on the pack, a superlative in speech, the price said = shown."""
    speech = "这款精华三天祛痘。全网最低价，直播间只要一百二十九元。"
    return evidence(
        [line("清颜", height=60, top=40), line("祛痘精华液", height=30, top=120), line("30ml", height=16, top=170),
         line("直播价 ¥129", height=30, in_product=False, top=600)],
        speech, segments=[(0.5, 2.5, "这款精华三天祛痘。"), (2.6, 6.0, "全网最低价，直播间只要一百二十九元。")],
    )


def test_evidence_carries_every_rule_flag_with_its_scope(serum):
    doc = screened(serum)
    section = doc["claims"]
    assert section["rule_sets"] == ["cn-mainland", "generic-en"]  # Chinese lines by the Chinese set, "30ml" by the English one
    by_rule = {(f["rule"], f["modality"]) for f in section["flags"]}
    assert by_rule == {("cosmetics-medical-effect", "ocr"), ("cosmetics-medical-effect", "asr"), ("absolute-terms", "asr")}
    pack = next(f for f in section["flags"] if f["modality"] == "ocr")
    assert (pack["ocr_line"], pack["in_product"], pack["matched"], pack["text"]) == (1, True, "祛痘", "祛痘精华液")
    assert pack["departments"][0].startswith("Health & Beauty > Personal Care > Cosmetics")
    said = next(f for f in section["flags"] if f["rule"] == "absolute-terms")
    assert said["segment"] == [2.6, 6.0] and said["reference"].startswith("《广告法》第九条")
    assert not any(f["family"] == "price" for f in section["flags"])  # ¥129 said and shown


def test_result_keeps_the_flags_of_its_department(serum):
    section = screened(serum)["claims"]
    on_skin = {f["rule"] for f in result_claims(section, SKIN, "清颜", "祛痘精华液")}
    on_tea = {f["rule"] for f in result_claims(section, TEA, "清颜", "祛痘精华液")}
    unknown = {f["rule"] for f in result_claims(section, None, None, None)}
    assert on_skin == unknown == {"cosmetics-medical-effect", "absolute-terms"}  # nothing rules out a cosmetic
    assert on_tea == {"absolute-terms"}  # a cosmetics rule stays quiet on tea


def test_local_rules_put_the_flags_in_the_result(serum):
    result = fuse_local(screened(serum))
    assert schema_problem(result, RESULT_SCHEMA) is None
    assert result["category"].startswith("Health & Beauty > Personal Care > Cosmetics")
    assert {f["rule"] for f in result["claims"]} == {"cosmetics-medical-effect", "absolute-terms"}
    assert "claims" not in fuse_local(serum)  # evidence written before screening, or with it off


def test_cloud_and_local_engines_report_the_same_flags_and_the_prompt_carries_them(serum, monkeypatch):
    doc = screened(serum)
    answer = {"product_name": "祛痘精华液", "brand": "清颜", "product_type": "精华液", "category": SKIN,
              "key_attributes": {"spec": "30 ml"}, "price": "¥129",
              "confidence": dict.fromkeys(("product_name", "brand", "product_type", "category", "key_attributes", "price"), 0.9),
              "support": dict.fromkeys(("product_name", "brand", "product_type", "category", "key_attributes", "price"), ["ocr"])}
    monkeypatch.setenv("LIVEGUARD_TEST_KEY", KEY)
    cloud = {"base_url": "", "model": "qwen-plus", "api_key_env": "LIVEGUARD_TEST_KEY", "retry": {"max_attempts": 1}}
    with ChatServer([Step(200, completion(json.dumps(answer, ensure_ascii=False)))]) as server:
        cloud["base_url"] = server.base_url
        with create_fusion(Config.model_validate({"fusion": {"mode": "direct", "cloud": cloud}}).fusion) as fuse:
            remote = fuse(doc)
    assert remote["engine"] == "qwen-plus" and "failures" not in remote
    local = fuse_local(doc)
    assert remote["category"] == local["category"]
    assert remote["claims"] == local["claims"] and len(local["claims"]) == 3
    sent = json.loads(server.requests[0].body["messages"][1]["content"].split("\n", 1)[1])
    assert {(c["family"], c["matched"], c["modality"]) for c in sent["claims"]} == {
        ("medical", "祛痘", "ocr"), ("medical", "祛痘", "asr"), ("absolute", "全网最低", "asr")}


def test_a_spoken_price_that_differs_from_the_banner_is_flagged_with_both_and_where():
    speech = "Only ninety nine yuan today!"
    lines = [line("AURORA", height=60, top=40), line("Hydra Glow Face Cream", height=30, top=120),
             line("Only ¥129 today", height=30, in_product=False, top=600)]
    doc = screened(evidence(lines, speech, segments=[(3.0, 5.5, speech)]))
    flags = [f for f in fuse_local(doc)["claims"] if f["rule"] == "price-mismatch"]
    assert len(flags) == 1 and flags[0]["rule_set"] == "generic-en"  # one fact, flagged once: the window is English
    assert flags[0]["values"] == {"spoken": ["¥99"], "shown": ["¥129"], "spoken_at": [[3.0, 5.5]], "shown_on": [2]}
    said = "Only one hundred twenty nine yuan today!"
    agree = screened(evidence(lines, said, segments=[(3.0, 5.5, said)]))
    assert not [f for f in fuse_local(agree)["claims"] if f["family"] == "price"]


def test_the_watchlist_flags_the_listed_brand_only_when_the_window_shows_it():
    lines = [line("AURORA", height=60, top=40), line("Hydra Glow Face Cream", height=30, top=120), line("50 ml", height=16, top=170)]
    doc = evidence(lines, "This is the Aurora face cream.", segments=[(0.0, 2.0, "This is the Aurora face cream.")])
    listed = {"watchlist": [{"brand": "Aurora", "aliases": ["极光"], "reason": "counterfeits reported, notice 2026-113"}]}
    result = fuse_local(screened(doc, listed))
    watched = [f for f in result["claims"] if f["family"] == "watchlist"]
    assert result["brand"] == "AURORA" and {f["modality"] for f in watched} == {"ocr", "asr"}
    assert watched[0]["reference"] == "counterfeits reported, notice 2026-113" and watched[0]["values"] == {"brand": "Aurora"}
    other = fuse_local(screened(doc, {"watchlist": [{"brand": "Lumina"}]}))
    assert not [f for f in other["claims"] if f["family"] == "watchlist"]
    other_product = fuse_local(screened(doc, {"watchlist": [{"brand": "Aurora", "product": "Night Serum"}]}))
    assert not [f for f in other_product["claims"] if f["family"] == "watchlist"]
    same_product = fuse_local(screened(doc, {"watchlist": [{"brand": "Aurora", "product": "face cream"}]}))
    assert [f for f in same_product["claims"] if f["family"] == "watchlist"]


def test_a_site_rule_set_is_applied_and_screening_can_be_off(tmp_path, serum):
    site = tmp_path / "site.yaml"
    site.write_text("name: site-a\njurisdiction: CN (Zhejiang)\nlanguage: zh\nrules:\n"
                    "  - {id: local-term, family: absolute, reference: 地方规定第一条, terms: [精华液]}\n", encoding="utf-8")
    section = screened(serum, {"rule_sets": ["cn-mainland"], "files": [str(site)]})["claims"]
    assert section["rule_sets"] == ["cn-mainland", "site-a"]
    assert ("site-a", "local-term") in {(f["rule_set"], f["rule"]) for f in section["flags"]}
    english_only = screened(serum, {"rule_sets": ["generic-en"]})["claims"]
    assert english_only["rule_sets"] == ["generic-en"]  # no set in the window's language: every configured one
    assert screening_for(Config.model_validate({"claims": {"enabled": False}}).claims) is None


def test_a_faulty_site_rules_file_stops_the_pipeline_in_one_line(tmp_path):
    from edge.pipeline import Pipeline

    site = tmp_path / "site.yaml"
    site.write_text("name: site-a\njurisdiction: X\nlanguage: zh\nrules:\n"
                    "  - {id: bad-pattern, family: absolute, reference: r, patterns: ['最(高']}\n", encoding="utf-8")
    config = Config.model_validate({"detector": {"model": None}, "asr": {"backend": "none"}, "claims": {"files": [str(site)]}})
    with pytest.raises(ConfigError) as caught:
        Pipeline(config)
    message = str(caught.value)
    assert "\n" not in message and str(site) in message and "bad-pattern" in message and "malformed pattern" in message


def test_two_sets_with_one_name_are_refused(tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text("name: cn-mainland\njurisdiction: X\nlanguage: zh\nrules:\n"
                    "  - {id: a, family: absolute, reference: r, terms: [最]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cn-mainland.*used by two sets"):
        screening_for(Config.model_validate({"claims": {"files": [str(copy)]}}).claims)


def test_screening_equals_the_matcher_on_the_same_readings(serum):
    """The stage adds nothing of its own: its flags are the matcher's over the evidence's readings."""
    from edge.claims import evidence_readings, screen

    section = Screening(shipped_rule_sets()).section(serum)
    chinese = [r for r in evidence_readings(serum) if r.text != "30ml"]
    expected = [f.document() for f in screen(shipped_rule_sets()[:1], chinese, every_department=True)]
    assert sorted(map(str, section["flags"])) == sorted(map(str, expected)) and len(expected) == 3


def test_each_reading_is_screened_by_the_set_of_its_script_whatever_the_asr_language():
    """Whisper may name the wrong language for synthetic Mandarin: the overlay's Chinese claim is still read by the
    Chinese set, and an English claim on the pack by the English one."""
    lines = [line("清颜", height=60, top=40), line("Clinically proven", height=20, top=120),
             line("国家级品质", height=24, in_product=False, top=300), line("直播价 ¥129", height=30, in_product=False, top=600)]
    doc = screened(evidence(lines, "T4 T1 3 D four", segments=[(0.0, 2.0, "T4 T1 3 D four")], language="en"))
    found = {(f["rule_set"], f["rule"], f["ocr_line"]) for f in doc["claims"]["flags"]}
    assert found == {("generic-en", "medical-claims", 1), ("cn-mainland", "absolute-terms", 2)}


def test_vocabulary_lists_each_languages_claim_terms_for_the_asr():
    """What Whisper is given as hotwords: the claim terms per language, without the price rules' markers ("was")."""
    vocabulary = screening_for(Config().claims).vocabulary()
    assert set(vocabulary) == {"zh", "en"}
    assert "clinically proven" in vocabulary["en"] and "was" not in vocabulary["en"]
    assert "最佳" in vocabulary["zh"] or any("最" in term for term in vocabulary["zh"])
    assert len(vocabulary["en"]) == len(set(vocabulary["en"]))


def test_the_claims_decoding_is_screened_once_and_marked_and_never_fused():
    """asr.claim_segments (the decoding told the claim terms): a claim only it heard is flagged and marked as its; one
    both decodings heard is flagged once, from the first; its words never reach the fused fields or the watchlist."""
    lines = [line("AURORA", height=60, top=40), line("Hydra Glow Face Cream", height=30, top=120),
             line("Only ¥129 today", height=30, in_product=False, top=600)]
    speech = "It's your Macnick. The best price, only 129 yuan."
    doc = evidence(lines, speech, segments=[(0.0, 1.5, "It's your Macnick."), (1.6, 4.0, "The best price, only 129 yuan.")])
    doc["asr"]["claim_segments"] = [{"start": 0.0, "end": 1.5, "text": "It cures acne. Lumina"},
                                    {"start": 1.6, "end": 4.0, "text": "The best price, only 120 yuan."}]
    listed = {"watchlist": [{"brand": "Lumina"}]}
    flags = screened(doc, listed)["claims"]["flags"]
    medical = [f for f in flags if f["family"] == "medical"]
    assert len(medical) == 1 and medical[0]["claims_decoding"] is True and medical[0]["segment"] == [0.0, 1.5]
    absolute = [f for f in flags if f["family"] == "absolute"]
    assert len(absolute) == 1 and "claims_decoding" not in absolute[0], absolute
    # the first decoding's ¥129 is the one shown: the claims decoding's ¥120 raises no mismatch
    assert not [f for f in flags if f["rule"] == "price-mismatch"] and not [f for f in flags if f["family"] == "watchlist"]
    result = fuse_local(screened(doc, listed))
    assert "acne" not in json.dumps({k: v for k, v in result.items() if k != "claims"}).lower()
    assert [f["family"] for f in result["claims"] if f["family"] == "medical"] == ["medical"]
    without = dict(doc, asr={k: v for k, v in doc["asr"].items() if k != "claim_segments"})
    assert not [f for f in screened(without)["claims"]["flags"] if f["family"] == "medical"]


def test_the_claims_decoding_of_speech_taken_for_another_language_than_the_packs_is_not_screened():
    """Whisper decoded the speech as English on a Chinese pack and live room: told the English terms, it writes them
    into speech it cannot make out, so that decoding's "cure" is no claim; on an English pack it is one."""
    segments = [(0.0, 3.0, "T4-1, every, d1-1, every.")]
    told = [{"start": 0.0, "end": 3.0, "text": "T4-1, every, d1-1, every, cure."}]
    chinese = evidence([line("清颜", height=60, top=40), line("保湿精华液", height=30, top=120), line("直播价 ¥129", height=30, top=600)],
                       "T4-1, every, d1-1, every.", segments=segments, language="en")
    chinese["asr"]["claim_segments"] = told
    assert not [f for f in screened(chinese)["claims"]["flags"] if f["family"] == "medical"]
    english = evidence([line("AURORA", height=60, top=40), line("Hydra Glow Face Cream", height=30, top=120)],
                       "T4-1, every, d1-1, every.", segments=segments, language="en")
    english["asr"]["claim_segments"] = told
    assert [f["matched"] for f in screened(english)["claims"]["flags"] if f["family"] == "medical"] == ["cure"]


def test_an_amount_only_the_claims_decoding_heard_raises_nothing_and_one_it_heard_shown_clears_the_window():
    """The claims decoding is told words and how prices are stated, not amounts: "100% genuine" where the first
    decoding heard "103 UN", or its "200.8 yuan", flag nothing; its amount that is the one shown still clears a
    mismatch the first decoding's mishearing would raise; an amount both heard is its to state."""
    banner = [line("AURORA", height=60, top=40), line("Hydra Glow Face Cream", height=30, top=120),
              line("Only ¥103 today", height=30, in_product=False, top=600)]

    def flags(first: str, told: str) -> list[dict]:
        doc = evidence(banner, first, segments=[(0.0, 4.0, first)])
        doc["asr"]["claim_segments"] = [{"start": 0.0, "end": 4.0, "text": told}]
        return screened(doc)["claims"]["flags"]

    assert not flags("Just 103 UN, only 103 UN.", "Just 100% genuine, only 100% genuine.")
    assert not flags("only 200A to 1.", "only 200.8 yuan.")
    assert not flags("only for 1809 yuan.", "only for 103 yuan.")  # the first decoding's 1809 is a mishearing of ¥103
    mismatch = [f for f in flags("only 98 urine.", "only 98 yuan.") if f["rule"] == "price-mismatch"]
    assert mismatch and mismatch[0]["values"]["spoken"] == ["¥98"] and mismatch[0]["claims_decoding"] is True
    genuine = flags("It's 100% genuine, only 98 urine.", "It's 100% genuine, only 98 yuan.")
    assert [f["family"] for f in genuine if f["family"] == "authority"] == ["authority"]
