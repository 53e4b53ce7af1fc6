"""Claim rule sets (issue 15, first part): every shipped rule fires on a claim and stays quiet on a near
miss; the tolerances (full width, traditional characters, spacing, known ASR mishearings) each hold; a
broken rules file is refused at load with one line naming the file and the rule."""

from __future__ import annotations

import pytest

from edge.claims import Reading, RulesError, load_rule_set, screen, shipped_rule_sets

SKIN = "Health & Beauty > Personal Care > Cosmetics > Skin Care"
HAIR = "Health & Beauty > Personal Care > Hair Care > Shampoo & Conditioner > Shampoo"
TEA = "Food, Beverages & Tobacco > Beverages > Tea & Infusions"
MEDICINE = "Health & Beauty > Health Care > Medicine & Drugs"

# rule id -> (a claim that fires it, a near miss that must not), each (text, modality, department)
EXAMPLES = {
    ("cn-mainland", "absolute-terms"): (("这款是全网最低价", "asr", SKIN), ("今天不是最低价哦", "asr", SKIN)),
    ("cn-mainland", "medical-claims"): (("喝了能根治失眠", "asr", TEA), ("本品不能代替药物，不能治疗疾病", "ocr", TEA)),
    ("cn-mainland", "cosmetics-medical-effect"): (("三天祛斑", "ocr", SKIN), ("无激素配方", "ocr", SKIN)),
    ("cn-mainland", "food-health-effect"): (("每天一杯排毒养颜", "asr", TEA), ("每天一杯好心情", "asr", TEA)),
    ("cn-mainland", "authority-claims"): (("官方正品 假一赔十", "ocr", SKIN), ("非官方渠道请勿购买", "ocr", SKIN)),
    ("cn-mainland", "original-price"): (("原价¥299", "ocr", SKIN), ("原价太贵了", "ocr", SKIN)),
    ("generic-en", "superlatives"): (("This is the best cream ever", "asr", SKIN), ("Best before 2027", "ocr", SKIN)),
    ("generic-en", "medical-claims"): (("It cures acne overnight", "asr", SKIN), ("This product does not cure anything", "asr", SKIN)),
    ("generic-en", "authority-claims"): (("Official store, FDA approved", "ocr", SKIN), ("This seller is not certified", "ocr", SKIN)),
    ("generic-en", "original-price"): (("Original price $59", "ocr", SKIN), ("Original packaging", "ocr", SKIN)),
}
PRICE_RULES = {("cn-mainland", "price-mismatch"), ("generic-en", "price-mismatch")}  # tested below with two readings


def _flags(text, modality, department, language=None):
    reading = Reading(text, modality, index=0, in_product=True) if modality == "ocr" else Reading(text, modality, start=1.5, end=4.0)
    return screen(shipped_rule_sets(), [reading], department, language)


def test_every_shipped_rule_has_a_claim_and_a_near_miss():
    shipped = {(s.name, r.id) for s in shipped_rule_sets() for r in s.rules}
    assert shipped == set(EXAMPLES) | PRICE_RULES


@pytest.mark.parametrize("rule_set, rule", sorted(EXAMPLES))
def test_a_claim_fires_its_rule_and_a_near_miss_does_not(rule_set, rule):
    claim, near = EXAMPLES[(rule_set, rule)]
    fired = [f for f in _flags(*claim) if (f.rule_set, f.rule) == (rule_set, rule)]
    assert len(fired) == 1 and fired[0].reference and fired[0].modality == claim[1]
    assert not [f for f in _flags(*near) if (f.rule_set, f.rule) == (rule_set, rule)]


def test_a_flag_says_where_it_was_found():
    said = _flags("国家级配方，全网最低", "asr", SKIN)[0].document()
    assert said["segment"] == [1.5, 4.0] and said["modality"] == "asr" and said["matched"] == "国家级" and "ocr_line" not in said
    shown = _flags("国家级配方", "ocr", SKIN)[0].document()
    assert shown["ocr_line"] == 0 and shown["in_product"] is True and shown["severity"] == "high" and "第九条" in shown["reference"]


@pytest.mark.parametrize("text", ["國家級配方", "国 家 级配方", "ＢＥＳＴ　ＥＶＥＲ", "best   ever"])
def test_traditional_characters_full_width_forms_and_spacing_are_tolerated(text):
    assert {f.family for f in _flags(text, "ocr", SKIN)} == {"absolute"}


def test_a_known_asr_mishearing_fires_in_speech_only():
    assert [f.rule for f in _flags("全网醉佳的选择", "asr", SKIN)] == ["absolute-terms"]
    assert not _flags("全网醉佳的选择", "ocr", SKIN)  # OCR does not mishear like ASR
    assert [f.matched for f in _flags("it's number won in Japan", "asr", SKIN)] == ["number one"]


HEARD = [(s.name, r, term, spelling) for s in shipped_rule_sets() for r in s.rules for term, spellings in r.heard_as.items()
         for spelling in spellings]


@pytest.mark.parametrize(("rule_set", "rule", "term", "spelling"), HEARD, ids=[f"{h[1].id}:{h[3]}" for h in HEARD])
def test_every_listed_mishearing_fires_its_term_in_speech_and_not_on_screen(rule_set, rule, term, spelling):
    department = rule.departments[0] if rule.departments else SKIN
    said = [f for f in _flags(f"well, {spelling} for sure", "asr", department) if f.rule == rule.id and f.rule_set == rule_set]
    assert [f.matched for f in said] == [term]
    assert term not in [f.matched for f in _flags(f"well, {spelling} for sure", "ocr", department)]  # OCR does not mishear


@pytest.mark.parametrize("heard", ["99 yuan", "99 u.n.", "99 UN", "99 uun", "99 uon", "99 u1", "ninety nine yuan"])
def test_a_spoken_price_is_read_in_the_asr_spellings_of_yuan(heard):
    readings = [Reading(f"Only {heard} today", "asr", start=1.0, end=3.0), Reading("Only ¥129 today", "ocr", index=0, in_product=False)]
    (flag,) = [f for f in screen(shipped_rule_sets(), readings, SKIN, "en") if f.rule == "price-mismatch"]
    assert flag.values["spoken"] == ["¥99"] and flag.values["shown"] == ["¥129"]
    on_screen = [Reading("UN 99 un 99 u1", "ocr", index=0, in_product=True), Reading("Only ¥129 today", "ocr", index=1, in_product=False)]
    assert not [f for f in screen(shipped_rule_sets(), on_screen, SKIN, "en") if f.family == "price"]  # letters on a pack are not yuan


@pytest.mark.parametrize("said", ["99 units today", "99 u10 today", "99 under the lid"])
def test_letters_after_a_number_that_are_no_yuan_say_no_price(said):
    readings = [Reading(f"Only {said}", "asr", start=1.0, end=3.0), Reading("Only ¥129 today", "ocr", index=0, in_product=False)]
    assert not [f for f in screen(shipped_rule_sets(), readings, SKIN, "en") if f.rule == "price-mismatch"]


@pytest.mark.parametrize("label", ["最佳食用期至2027年5月", "最佳赏味期：12个月", "最 佳 使 用 期 见 包 装"])
def test_a_best_before_date_is_not_a_superlative(label):
    assert not _flags(label, "ocr", TEA)
    assert [f.rule for f in _flags("口感最佳的一款茶", "ocr", TEA)] == ["absolute-terms"]


def test_the_recognised_department_decides_which_rules_apply():
    assert [f.rule for f in _flags("三天祛斑", "ocr", SKIN)] == ["cosmetics-medical-effect"]
    assert not _flags("三天祛斑", "ocr", TEA)  # a cosmetics rule, not a food one
    assert [f.rule for f in _flags("三天祛斑", "ocr", None)] == ["cosmetics-medical-effect"]  # unknown: nothing rules it out
    assert [f.rule for f in _flags("消炎止痛", "ocr", TEA)] == ["medical-claims"]
    assert not _flags("消炎止痛", "ocr", MEDICINE)  # a medicine may claim to treat
    assert [f.rule for f in _flags("消炎止痛", "ocr", None)] == ["medical-claims"]


def test_a_window_in_one_language_is_screened_by_the_sets_written_in_it():
    readings = [Reading("只要99元", "asr", start=0.0, end=2.0), Reading("直播价¥129", "ocr", index=3, in_product=False)]
    assert {f.rule_set for f in screen(shipped_rule_sets(), readings, SKIN, "zh")} == {"cn-mainland"}


def test_a_spoken_price_the_banner_does_not_show_is_flagged_with_both_values_and_their_sources():
    readings = [Reading("今天直播间只要九十九元", "asr", start=2.0, end=5.5), Reading("直播价 ¥129", "ocr", index=4, in_product=False),
                Reading("原价¥299", "ocr", index=5, in_product=True)]
    flags = {f.rule: f for f in screen(shipped_rule_sets(), readings, SKIN, "zh")}
    mismatch = flags["price-mismatch"].document()
    assert mismatch["values"] == {"spoken": ["¥99"], "shown": ["¥129"], "spoken_at": [[2.0, 5.5]], "shown_on": [4]}
    assert flags["original-price"].values == {"original": ["¥299"]}  # the old price is a claim of its own, not the live one
    agree = [Reading("only one hundred twenty nine yuan", "asr", start=0.0, end=3.0), Reading("Only ¥129 today", "ocr", index=1)]
    assert not [f for f in screen(shipped_rule_sets(), agree, SKIN, "en") if f.rule == "price-mismatch"]


@pytest.mark.parametrize("said, shown, original", [
    ("original price 229, now only 129", "Only ¥129 today", "¥229"),            # the ASR dropped the yuan
    ("Original price: two hundred twenty nine, now only 129 yuan", "$129", "$229"),  # the currency of what is shown
    ("原价 229，直播间只要129元", "直播价 ¥129", "¥229"),
    ("original price 199 yuan, now only 129 yuan", "Only ¥129 today", "¥199"),  # the old price, not the live one too
])
def test_a_spoken_original_price_is_a_price_without_its_unit(said, shown, original):
    readings = [Reading(said, "asr", start=0.0, end=3.0), Reading(shown, "ocr", index=0)]
    flags = [f for f in screen(shipped_rule_sets(), readings, SKIN) if f.rule == "original-price"]
    assert [f.values for f in flags] == [{"original": [original]}]


@pytest.mark.parametrize("said, shown, flagged", [
    ("only 100 41 yuan", "Only ¥141 today", False),    # "one hundred forty one" written in its pieces
    ("only 10048 UN", "Only ¥148 today", False),       # ... or run together
    ("only 10048 UN", "Only ¥99 today", True),         # pieces that are not the shown price clear nothing
    ("only 100 41, what a deal", "Only ¥99 today", False),  # and raise nothing: no price was said
])
def test_a_spoken_amount_written_in_pieces_agrees_with_the_shown_price(said, shown, flagged):
    readings = [Reading(said, "asr", start=0.0, end=3.0), Reading(shown, "ocr", index=0)]
    assert bool([f for f in screen(shipped_rule_sets(), readings, SKIN, "en") if f.rule == "price-mismatch"]) == flagged


def test_an_original_price_whose_amount_whisper_put_in_the_next_segment_is_read():
    readings = [Reading("the vitamin C, 60 pieces, original price", "asr", start=0.1, end=4.3),
                Reading("340 I-NU-N, now only 240", "asr", start=4.3, end=7.1), Reading("¥240", "ocr", index=0)]
    assert [f.values for f in screen(shipped_rule_sets(), readings, SKIN) if f.rule == "original-price"] == [{"original": ["¥340"]}]
    later = [readings[0], Reading("340 I-NU-N, now only 240", "asr", start=6.0, end=7.1)]  # another sentence
    assert not [f for f in screen(shipped_rule_sets(), later, SKIN) if f.rule == "original-price"]


@pytest.mark.parametrize("text, modality", [
    ("the original price formula, now only 129", "asr"),  # no amount after the words
    ("original price 20% higher", "asr"),                   # a percentage is no price
    ("Original price 229", "ocr"),                          # on packaging a bare number may be a model number
])
def test_a_bare_number_is_an_original_price_only_right_after_the_words_in_speech(text, modality):
    reading = Reading(text, modality, start=0.0, end=3.0) if modality == "asr" else Reading(text, modality, index=0)
    assert not [f for f in screen(shipped_rule_sets(), [reading], SKIN) if f.rule == "original-price"]


@pytest.mark.parametrize("body, message", [
    ("name: s\njurisdiction: x\nlanguage: zh\nrules:\n  - {id: r1, family: absolute, reference: a, terms: [x], colour: red}\n",
     "sets.yaml: rule r1: colour: unknown key"),
    ("name: s\njurisdiction: x\nlanguage: zh\nrules:\n  - {id: r2, family: absolute, reference: a, patterns: ['最(']}\n",
     "sets.yaml: rule r2: patterns: malformed pattern '最('"),
    ("name: s\njurisdiction: x\nlanguage: zh\nrules:\n  - {id: r3, family: medical, reference: a}\n",
     "sets.yaml: rule r3: a rule needs terms or patterns"),
    ("name: s\njurisdiction: x\nlanguage: zh\nrules:\n  - {id: r4, family: absolute, reference: a, terms: [x], heard_as: {y: [z]}}\n",
     "sets.yaml: rule r4: heard_as names terms the rule does not have"),
    ("name: s\njurisdiction: x\nlanguage: zh\nextra: 1\nrules:\n  - {id: r5, family: absolute, reference: a, terms: [x]}\n",
     "sets.yaml: extra: unknown key"),
    ("name: s\njurisdiction: [\n", "sets.yaml: cannot read the rule set"),
])
def test_a_broken_rules_file_is_refused_in_one_line_naming_file_and_rule(tmp_path, body, message):
    path = tmp_path / "sets.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rule_set(path)
    assert message in str(caught.value) and "\n" not in str(caught.value) and str(path) in str(caught.value)
