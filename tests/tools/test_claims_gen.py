"""Claims in generated clips (tools/livegen/claims.py, make_benchmark --claims; issue 15): about half the clips
carry claims in the host's speech or the live room with their truth, some others a near miss; the shipped
rules flag every phrase the generator can put in, for each department it puts it in, and no near miss;
without --claims every clip is what it was."""

from __future__ import annotations

import dataclasses

import pytest
from livegen import claims as gen
from livegen import photos, speech
from livegen.benchmark import clip_recipe
from livegen.layouts import FAMILIES
from livegen.overlay import SKINS, Sticker
from livegen.products import LINES
from livegen.render import build_assets, render_frame

from edge.claims import Reading, screen, shipped_rule_sets

DEPARTMENTS = sorted({d for line in LINES for d in line.departments} | {p.department for p in photos.CATALOGUE.values()})
PINYIN = speech.PINYIN_VOICE


def _recipes(seed, n, **kw):
    return [clip_recipe(seed, i, layouts=FAMILIES, skins=SKINS, claims=True, **kw) for i in range(n)]


def _flags(text, modality, department, language):
    reading = Reading(text, modality, index=0) if modality == "ocr" else Reading(text, modality, start=0.0, end=1.0)
    return screen(shipped_rule_sets(), [reading], department, language)


def _readings(recipe):
    """Everything a clip says and shows: the speech, the room's text, the pack's print."""
    p, live = recipe.product, recipe.live
    shown = [live.streamer, live.viewers, "LIVE", live.price_banner, live.buy_button, *(f"{m.user}: {m.text}" for m in live.chat),
             *live.skin_text(), *(s.text for s in live.stickers), live.next_title, live.next_subtitle, live.next_note,
             p.brand, p.printed_brand, *p.name_lines, p.spec_text, p.tagline, p.claim, p.other_name]
    readings = [Reading(text, "ocr", index=i) for i, text in enumerate(shown) if text]
    if recipe.audio.present:
        readings.append(Reading(p.speech, "asr", start=0.5, end=6.0))
    return readings


def test_without_claims_every_recipe_is_what_it_was_and_claims_change_only_speech_and_tags():
    for i in range(40):
        default = clip_recipe(3, i, layouts=FAMILIES, skins=SKINS)
        assert default == clip_recipe(3, i, layouts=FAMILIES, skins=SKINS, claims=False)
        assert default.claims is None and not default.live.stickers and "claims" not in default.truth_extra()
        assert "near_misses" not in default.truth_extra() and default.audio.voice in ("cmn", "en-us")
        made = clip_recipe(3, i, layouts=FAMILIES, skins=SKINS, claims=True)
        assert made.truth_extra()["claims"] == [dict(c) for c in made.claims]
        back = dataclasses.replace(made, product=dataclasses.replace(made.product, speech=default.product.speech),
                                   live=dataclasses.replace(made.live, stickers=()), claims=None, near_misses=())
        assert back == default
        if not made.claims and not made.near_misses:
            assert made.product.speech == default.product.speech and not made.live.stickers


def test_about_half_the_clips_carry_claims_of_every_family_in_both_modalities():
    recipes = _recipes(11, 400, zh_voice=PINYIN)
    with_claims = [r for r in recipes if r.claims]
    assert 0.4 <= len(with_claims) / len(recipes) <= 0.6
    assert 0.2 <= sum(len(r.claims) == 2 for r in with_claims) / len(with_claims) <= 0.5
    assert all(len({c["family"] for c in r.claims}) == len(r.claims) for r in with_claims)
    seen = {(c["family"], c["modality"], r.language) for r in with_claims for c in r.claims}
    assert seen == {(f, m, lang) for f in gen.FAMILIES for m in ("asr", "ocr") for lang in ("en", "zh")}
    assert {c["rule"] for r in with_claims for c in r.claims if c["family"] == "price"} == {"price-mismatch", "original-price"}
    clean = [r for r in recipes if not r.claims]
    assert 0.4 <= sum(bool(r.near_misses) for r in clean) / len(clean) <= 0.8
    assert not any(r.near_misses for r in with_claims)
    near = {(m["family"], m["modality"]) for r in clean for m in r.near_misses}
    assert {("price", "asr"), ("absolute", "asr"), ("absolute", "ocr"), ("medical", "ocr"), ("authority", "ocr")} <= near


def test_each_claim_is_where_its_truth_says():
    for recipe in _recipes(12, 200) + _recipes(13, 100, zh_voice=PINYIN):
        p, language = recipe.product, recipe.language
        tags = [s.text for s in recipe.live.stickers]
        for c in (*recipe.claims, *recipe.near_misses):
            assert c["rule_set"] == {"zh": "cn-mainland", "en": "generic-en"}[language]
            if c["modality"] == "asr":
                assert recipe.audio.present and c["text"] in p.speech
                assert language == "en" or recipe.audio.voice == PINYIN  # the default Mandarin voice says no Chinese
            else:
                assert c["text"] in tags
            if c["rule"] == "price-mismatch" and "spoken" in c:
                assert c["shown"] == p.price and c["shown"] in recipe.live.price_banner and c["spoken"] != c["shown"]
                assert p.speech.endswith(f"{c['spoken'][1:]}元。" if language == "zh" else f"only {c['spoken'][1:]} yuan.")
            if c["rule"] == "original-price":
                assert c["shown"] == p.price and int(c["original"][1:]) > int(p.price[1:]) and c["original"][1:] in c["text"]
        assert len(tags) == sum(c["modality"] == "ocr" for c in (*recipe.claims, *recipe.near_misses))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_shipped_rules_flag_every_phrase_for_every_department_it_is_used_in(language):
    rule_set = gen.RULE_SETS[language]
    checked = 0
    for phrase in gen.claims_of(language):
        for department in DEPARTMENTS:
            for modality, spoken in (("asr", True), ("ocr", False)):
                if not phrase.fits(department, spoken):
                    continue
                flags = _flags(phrase.said if spoken else phrase.shown, modality, department, language)
                assert {(f.family, f.rule, f.rule_set) for f in flags} == {(phrase.family, phrase.rule, rule_set)}, (phrase, department)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_near_miss_is_flagged(language):
    for phrase in gen.near_misses_of(language):
        for department in DEPARTMENTS:
            for modality, spoken in (("asr", True), ("ocr", False)):
                if phrase.fits(department, spoken):
                    assert _flags(phrase.said if spoken else phrase.shown, modality, department, language) == [], (phrase, department)


def test_a_whole_clip_raises_exactly_the_families_its_truth_lists():
    """Speech, room and pack together: the catalogue's own text claims nothing, each claim its family, a
    spoken price other than the banner's is flagged with both values."""
    plain = [clip_recipe(16, i, layouts=FAMILIES, skins=SKINS) for i in range(60)]
    recipes = _recipes(14, 150) + _recipes(15, 100, zh_voice=PINYIN) + plain
    for recipe in recipes:
        flags = screen(shipped_rule_sets(), _readings(recipe), recipe.product.department, recipe.language)
        assert {f.family for f in flags} == {c["family"] for c in recipe.claims or ()}, (recipe.clip_id, flags)
        for c in recipe.claims or ():
            if c["rule"] == "price-mismatch":
                (mismatch,) = [f for f in flags if f.rule == "price-mismatch"]
                assert mismatch.values["spoken"] == [c["spoken"]] and mismatch.values["shown"] == [c["shown"]]


@pytest.mark.slow
def test_the_claim_tags_are_legible_in_every_skin_and_orientation():
    """The real OCR reads each tag (an original price struck through included) off the rendered frame: the
    tags of the three skins cut out and stacked, one read per language and orientation."""
    import numpy as np

    from edge.config.models import OcrConfig
    from edge.ocr import create_reader
    from edge.types import Frame

    reader = create_reader(OcrConfig(), 2)
    picks = {}
    for i in range(60):
        r = clip_recipe(9, i)
        picks.setdefault((r.language, r.orientation), r)
    assert len(picks) == 4
    for (language, orientation), base in sorted(picks.items()):
        tags = (Sticker("全网最低价"), Sticker("原价 ¥199", struck="¥199")) if language == "zh" else (
            Sticker("CLINICALLY PROVEN"), Sticker("Original price ¥199", struck="¥199"))
        crops = []
        for skin in SKINS:
            recipe = dataclasses.replace(base, live=dataclasses.replace(base.live, skin=skin, stickers=tags))
            assets = build_assets(recipe.product, recipe.live, recipe.clip, recipe.seed, recipe.font_path())
            sharp = recipe.clip.first("sharp")
            frame = render_frame(assets, recipe.clip, recipe.live, recipe.seed, int(sharp.start * recipe.clip.fps) + 2, recipe.motion)
            for piece, (x, y) in assets.ui.extras[-len(tags):]:
                h, w = piece.shape[:2]
                assert 0 <= x and x + w <= recipe.clip.width and 0 <= y and y + h <= recipe.clip.height
                crops.append(frame.image[max(y - 6, 0): y + h + 6, max(x - 6, 0): x + w + 6])
        sheet = np.full((len(SKINS) * 80 + 40, 720, 3), 128, np.uint8)  # a frame-sized page: the tags of a skin on a row
        for k, crop in enumerate(crops):
            row, col = divmod(k, len(tags))
            sheet[40 + 80 * row: 40 + 80 * row + crop.shape[0], 20 + 360 * col: 20 + 360 * col + crop.shape[1]] = crop
        read = [line.text.replace(" ", "") for line in reader.read(Frame(0, 0.0, sheet), None)]
        for tag in tags:
            assert sum(tag.text.replace(" ", "") in line for line in read) == len(SKINS), (language, orientation, tag.text, read)


def test_the_mandarin_voice_hands_latin_words_to_the_english_one():
    text = "今天给大家推荐Cloudpeak丝绒哑光唇釉，直播间只要118元。"
    assert speech._input(text, "cmn") == text and speech._voice_args(text, "cmn") == ["-v", "cmn"]
    assert speech._input("大家好", PINYIN) == "大家好" and speech._voice_args("大家好", PINYIN) == ["-v", PINYIN]
    ssml = speech._input(text, PINYIN)
    assert speech._voice_args(text, PINYIN) == ["-m", "-v", PINYIN]
    assert ssml == (f'<speak><voice name="{PINYIN}">今天给大家推荐</voice><voice name="en-us">Cloudpeak</voice>'
                    f'<voice name="{PINYIN}">丝绒哑光唇釉，直播间只要118元。</voice></speak>')
    with pytest.raises(ValueError, match="unknown Chinese voice"):
        clip_recipe(0, 0, zh_voice="zh")


def test_the_truth_and_the_manifest_of_a_clip_with_claims(tmp_path):
    from livegen.clip import make_clip
    from make_benchmark import manifest_row

    recipe = next(r for r in _recipes(17, 60) if r.claims and all(c["modality"] == "ocr" for c in r.claims) and len(r.claims) == 2)
    truth = make_clip(tmp_path / "c.mp4", recipe.seed, product=recipe.product, live=recipe.live,
                      clip=dataclasses.replace(recipe.clip, duration=4.0, timeline=recipe.clip.timeline[:2]),
                      pose_at=recipe.motion, font_path=recipe.font_path(), audio_spec=dataclasses.replace(recipe.audio, present=False),
                      extra_truth=recipe.truth_extra())
    assert truth["claims"] == [dict(c) for c in recipe.claims] and "near_misses" not in truth
    assert {c["text"] for c in truth["claims"]} <= set(truth["overlay_text"])
    row = manifest_row(truth, tmp_path)
    assert row["claims"] == 2 and row["claim_families"] == sorted(c["family"] for c in recipe.claims)
    plain = clip_recipe(17, 0)
    assert "claims" not in manifest_row({**plain.truth_extra(), "brand": "b", "product_name": "p", "category": "c", "price": "¥1",
                                         "video": {"duration": 6.0}, "segments": []}, tmp_path)
