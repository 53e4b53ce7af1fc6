"""Claims in generated clips (issue 15): what the host says or the room pins that false-advertising rules
forbid, with its truth, so that claims screening can be measured per rule family.

``draw_claims(recipe, dataset_seed, index)`` draws from a stream of its own, so that the rest of the clip
stays what it was: in about half the clips one or two claims (an absolute term, a medical claim that the
product's department may not make, a claim of authority, or a price claim: a spoken price other than the
banner's, or an original price), each said by the host (in place of the greeting) or pinned as a tag in the
live room; in the other half none, and in some of those a near miss (a negated claim, a look-alike word,
the banner's price said again) to test precision. Chinese claims are said only by the Mandarin voice
(``--zh-voice cmn-latn-pinyin``): the default one spells pinyin out in English, so they go into the room.

The phrases are written here, not read from the rule files: the truth says what a claim is independently
of the matcher (``tests/tools/test_claims_gen.py`` checks that the shipped rules flag each one and no near
miss). The catalogue's own text (names, taglines, chat, overlay words) carries no claim of these families.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from livegen.overlay import Sticker
from livegen.speech import PINYIN_VOICE

FAMILIES = ("absolute", "medical", "authority", "price")
RULE_SETS = {"zh": "cn-mainland", "en": "generic-en"}
STREAM = 0xC1A1  # the claim stream's key: (dataset seed, index, STREAM)

P_CLAIMS = 0.5  # clips with claims
P_TWO = 0.35  # of those, clips with two
P_SPOKEN = 0.5  # a claim is said (when the clip has sound), else pinned in the room
P_NEAR_MISS = 0.6  # clips without claims that carry a near miss
P_MISMATCH = 0.6  # a spoken price claim: another price than the banner's (else an original price)

# Google product taxonomy prefixes: where a phrase is used (where its rule applies, or where it makes sense)
COSMETICS = ("Health & Beauty > Personal Care > Cosmetics",)
HAIR = ("Health & Beauty > Personal Care > Hair Care",)
FOOD = ("Food, Beverages & Tobacco", "Health & Beauty > Health Care > Fitness & Nutrition")
HOUSEHOLD = ("Home & Garden", "Health & Beauty > Personal Care")


@dataclass(frozen=True)
class Phrase:
    """A claim (or a near miss): the sentence the host says ("": never said), the tag the room shows, the rule
    that forbids it (a near miss: the rule it resembles) and the departments it is used for (none: every product)."""

    family: str
    rule: str
    said: str
    shown: str
    departments: tuple[str, ...] = ()

    def fits(self, department: str, spoken: bool = False) -> bool:
        in_department = not self.departments or any(department.startswith(prefix) for prefix in self.departments)
        return in_department and bool(self.said if spoken else self.shown)


ZH_CLAIMS = (
    Phrase("absolute", "absolute-terms", "全网最低价！", "全网最低价"),
    Phrase("absolute", "absolute-terms", "销量第一！", "销量第一"),
    Phrase("absolute", "absolute-terms", "国家级品质！", "国家级品质"),
    Phrase("absolute", "absolute-terms", "史上最低价！", "史上最低价"),
    Phrase("absolute", "absolute-terms", "顶级品质！", "顶级品质"),
    Phrase("absolute", "absolute-terms", "排名第一！", "排名第一"),
    Phrase("medical", "medical-claims", "还有治疗效果！", "治疗效果"),
    Phrase("medical", "medical-claims", "药到病除！", "药到病除"),
    Phrase("medical", "medical-claims", "还能消炎！", "消炎"),
    Phrase("medical", "cosmetics-medical-effect", "用了能祛痘！", "祛痘祛斑", COSMETICS),
    Phrase("medical", "cosmetics-medical-effect", "还能除皱！", "祛斑除皱", COSMETICS),
    Phrase("medical", "cosmetics-medical-effect", "防脱发！", "防脱发", HAIR),
    Phrase("medical", "cosmetics-medical-effect", "还能生发！", "防脱生发", HAIR),
    Phrase("medical", "food-health-effect", "能增强免疫力！", "增强免疫力", FOOD),
    Phrase("medical", "food-health-effect", "还能排毒减肥！", "排毒减肥", FOOD),
    Phrase("medical", "food-health-effect", "可以降三高！", "降三高", FOOD),
    Phrase("authority", "authority-claims", "官方正品！", "官方正品"),
    Phrase("authority", "authority-claims", "正品保证！", "正品保证"),
    Phrase("authority", "authority-claims", "国家认证！", "国家认证"),
    Phrase("authority", "authority-claims", "专利产品！", "专利产品"),
)
EN_CLAIMS = (  # said: "" where espeak + the bundled Whisper garble it (tools/livegen: the phrases were tried through both)
    Phrase("absolute", "superlatives", "This is the best!", "THE BEST"),
    Phrase("absolute", "superlatives", "It's number one!", "NUMBER ONE"),
    Phrase("absolute", "superlatives", "Lowest price ever!", "LOWEST PRICE EVER"),
    Phrase("absolute", "superlatives", "It's unbeatable!", "UNBEATABLE"),
    Phrase("absolute", "superlatives", "The cheapest anywhere!", "CHEAPEST"),
    Phrase("absolute", "superlatives", "Best ever!", "BEST EVER"),
    Phrase("absolute", "superlatives", "", "GUARANTEED RESULTS"),  # heard "camenteed results"
    Phrase("medical", "medical-claims", "Clinically proven!", "CLINICALLY PROVEN"),
    Phrase("medical", "medical-claims", "", "MEDICAL GRADE"),  # heard "medical raid", "medical dread"
    Phrase("medical", "medical-claims", "It cures acne!", "CURES ACNE", COSMETICS),
    Phrase("medical", "medical-claims", "It heals your skin!", "HEALS DRY SKIN", COSMETICS),
    Phrase("medical", "medical-claims", "It cures colds!", "CURES COLDS", FOOD),
    Phrase("medical", "medical-claims", "", "LOWERS BLOOD PRESSURE", FOOD),  # heard "lower blood pressure", "always blood pressure"
    Phrase("medical", "medical-claims", "It prevents cancer!", "PREVENTS CANCER", FOOD),
    Phrase("medical", "medical-claims", "It kills bacteria!", "KILLS BACTERIA", HOUSEHOLD),
    Phrase("authority", "authority-claims", "Official store!", "OFFICIAL STORE"),
    Phrase("authority", "authority-claims", "100% genuine!", "100% GENUINE"),
    Phrase("authority", "authority-claims", "", "GENUINE PRODUCT"),  # heard "can you in product", "again you in product"
    Phrase("authority", "authority-claims", "It's authentic!", "AUTHENTIC"),
    Phrase("authority", "authority-claims", "Officially licensed!", "OFFICIALLY LICENSED"),
    Phrase("authority", "authority-claims", "Certified organic!", "CERTIFIED ORGANIC", FOOD),
    Phrase("authority", "authority-claims", "", "DERMATOLOGIST APPROVED", COSMETICS),  # heard "the metallurgists have proved"
    Phrase("authority", "authority-claims", "FDA approved!", "FDA APPROVED"),
)
# Near misses: a rule's own "unless" words, or a word that contains part of a term and is no claim
ZH_NEAR_MISSES = (
    Phrase("absolute", "absolute-terms", "不是最低价，但是很划算！", "不是最低价"),
    Phrase("absolute", "absolute-terms", "第一次来的朋友看过来！", "新人第一单"),
    Phrase("absolute", "absolute-terms", "真的超级好用！", "超级好用"),
    Phrase("medical", "medical-claims", "本品不能治疗疾病。", "不能代替药物"),
    Phrase("medical", "cosmetics-medical-effect", "不含激素，放心用！", "不含激素", COSMETICS),
    Phrase("authority", "authority-claims", "我们是非官方店铺。", "非官方店铺"),
)
EN_NEAR_MISSES = (
    Phrase("absolute", "superlatives", "Best wishes to everyone!", "BEST WISHES"),
    Phrase("absolute", "superlatives", "Best before next year.", "BEST BEFORE 2027"),
    Phrase("medical", "medical-claims", "It does not cure anything.", "NOT INTENDED TO TREAT"),
    Phrase("authority", "authority-claims", "It is not certified.", "NOT CERTIFIED"),
)
PRICE_RULES = {"mismatch": "price-mismatch", "original": "original-price"}


def claims_of(language: str) -> tuple[Phrase, ...]:
    return ZH_CLAIMS if language == "zh" else EN_CLAIMS


def near_misses_of(language: str) -> tuple[Phrase, ...]:
    return ZH_NEAR_MISSES if language == "zh" else EN_NEAR_MISSES


def _amount(price: str) -> int:
    return int(price.lstrip("¥"))


def _spoken_price(speech: str, language: str, amount: int) -> str:
    """The words of the speech that say the price ("只要129元。", "only 129 yuan.")."""
    words = f"只要{amount}元。" if language == "zh" else f"only {amount} yuan."
    if not speech.endswith(words):
        raise ValueError(f"the speech does not end on its price ({words!r}): {speech!r}")
    return words


def _greeting(language: str) -> str:
    return "大家好！" if language == "zh" else "Hi everyone! "


@dataclass
class _Draft:
    """The clip's speech and tags while claims are put in."""

    language: str
    speech: str
    price: int
    said: list[str] = dataclasses.field(default_factory=list)  # sentences said in place of the greeting
    stickers: list[Sticker] = dataclasses.field(default_factory=list)
    terse: bool = False  # the greeting dropped to make room (a spoken original price): speech sped up to fit is misheard

    def finish(self) -> str:
        if not self.said and not self.terse:
            return self.speech
        greeting = _greeting(self.language)
        if not self.speech.startswith(greeting):
            raise ValueError(f"the speech does not open with {greeting!r}: {self.speech!r}")
        sep = "" if self.language == "zh" else " "
        rest = self.speech[len(greeting):]
        return sep.join([*self.said, rest]) if self.said else rest[:1].upper() + rest[1:]


def draw_claims(recipe, dataset_seed: int, index: int):
    """``recipe`` (a :class:`livegen.benchmark.ClipRecipe`) with claims or a near miss drawn for it; the
    truth lists them (``claims`` always, ``near_misses`` where drawn)."""
    rng = np.random.default_rng((dataset_seed, index, STREAM))
    product, language = recipe.product, recipe.language
    draft = _Draft(language, product.speech, _amount(product.price))
    # Chinese is said only in Mandarin: the default voice spells its pinyin out in English ("D four"), no claim a listener hears
    can_speak = recipe.audio.present and (language == "en" or recipe.audio.voice == PINYIN_VOICE)
    claims: list[dict] = []
    near: list[dict] = []
    if rng.random() < P_CLAIMS:
        count = 2 if rng.random() < P_TWO else 1
        for family in (FAMILIES[int(i)] for i in rng.permutation(len(FAMILIES))[:count]):
            spoken = rng.random() < P_SPOKEN and can_speak
            if family == "price":
                claims.append(_price_claim(rng, draft, spoken))
            else:
                pool = [p for p in claims_of(language) if p.family == family and p.fits(product.department, spoken)]
                claims.append(_put(pool[int(rng.integers(len(pool)))], draft, spoken))
    elif rng.random() < P_NEAR_MISS:
        spoken = rng.random() < P_SPOKEN and can_speak
        pool = [p for p in near_misses_of(language) if p.fits(product.department, spoken)]
        choice = int(rng.integers(len(pool) + (1 if spoken else 0)))
        if choice == len(pool):  # the banner's price said again: spoken and shown agree
            words = f"记住，只要{draft.price}元！" if language == "zh" else f"Just {draft.price} yuan!"
            draft.said.append(words)
            near.append({"family": "price", "rule": PRICE_RULES["mismatch"], "rule_set": RULE_SETS[language], "modality": "asr",
                         "text": words})
        else:
            near.append(_put(pool[choice], draft, spoken))
    speech = draft.finish()
    extra = {"claims": tuple(claims)}
    if near:
        extra["near_misses"] = tuple(near)
    return dataclasses.replace(
        recipe, product=dataclasses.replace(product, speech=speech),
        live=dataclasses.replace(recipe.live, stickers=tuple(draft.stickers)), **extra,
    )


def _put(phrase: Phrase, draft: _Draft, spoken: bool) -> dict:
    if spoken:
        draft.said.append(phrase.said)
    else:
        draft.stickers.append(Sticker(phrase.shown))
    return {"family": phrase.family, "rule": phrase.rule, "rule_set": RULE_SETS[draft.language], "modality": "asr" if spoken else "ocr",
            "text": phrase.said if spoken else phrase.shown}


def _price_claim(rng: np.random.Generator, draft: _Draft, spoken: bool) -> dict:
    """A spoken price other than the banner's (the host says less), or an original price, said or pinned."""
    language, price = draft.language, draft.price
    truth = {"family": "price", "rule": PRICE_RULES["original"], "rule_set": RULE_SETS[language], "modality": "asr" if spoken else "ocr"}
    original = (price + int(rng.choice([60, 80, 100, 150, 200]))) // 10 * 10 + 9
    if spoken and rng.random() < P_MISMATCH:
        said = max(9, price - int(rng.choice([10, 20, 30, 40, 50])))
        words = _spoken_price(draft.speech, language, price)
        new = words.replace(str(price), str(said))
        draft.speech = draft.speech[: -len(words)] + new
        return {**truth, "rule": PRICE_RULES["mismatch"], "text": new.rstrip("。."), "spoken": f"¥{said}", "shown": f"¥{price}"}
    if spoken:  # "原价199元，直播间只要129元。" / "original price 199 yuan, now only 129 yuan."
        draft.terse = True
        words = _spoken_price(draft.speech, language, price)
        head = draft.speech[: -len(words)]
        if language == "zh":
            text = f"原价{original}元"
            draft.speech = head.removesuffix("直播间") + f"{text}，直播间" + words if head.endswith("直播间") else f"{head}{text}，{words}"
        else:
            text = f"original price {original} yuan"
            draft.speech = f"{head}{text}, now {words}"
    else:
        text = f"原价 ¥{original}" if language == "zh" else f"Original price ¥{original}"
        draft.stickers.append(Sticker(text, struck=f"¥{original}"))
    return {**truth, "text": text, "original": f"¥{original}", "shown": f"¥{price}"}
