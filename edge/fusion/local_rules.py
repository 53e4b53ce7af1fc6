"""Deterministic local fusion (engine ``local-rules``): evidence in, ``liveguard.result/1`` out.

It applies the paper's four principles (§3.5.2) to candidate values that each modality offers:

1. consistency first: a value that several modalities agree on gains support;
2. reliability ranking: OCR (packaging text) > image recognition (VL) > speech (ASR);
3. conflicts go to the higher-confidence value, and among equals to the one OCR backs;
4. fault-tolerant completion: a field missing from one modality is filled from the others.

OCR lines outside every product box (the live-room overlay: streamer name, chat, banners) never
name the product; they may still carry the live price.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from edge.fusion.documents import CONFIDENCE_DIGITS, MODALITIES, Decision, EvidenceView, VlReading, result_record, with_claims
from edge.fusion.engine import Closing, Document
from edge.fusion.taxonomy import taxonomy, type_named, types_in
from edge.fusion.text import after_tokens, coverage, find_specs, similarity, tokens
from edge.fusion.typography import LINE_GAP, TAIL, Line, in_stacked_text, join_split_boxes, text_blocks
from edge.numbers import find_prices
from edge.text import CJK_UNIFIED, char_class, has_cjk

if TYPE_CHECKING:
    from edge.config.models import FusionConfig
    from edge.fusion.engine import FusionEngine

ENGINE = "local-rules"

# Principle 1, consistency first: a value that several modalities agree on gains support.
AGREEMENT_BONUS = 0.15  # added per additional modality that agrees on a value
SAME_VALUE = 0.8  # similarity at which two candidate values count as the same
BRAND_SPOKEN = 0.999  # share of a brand line's tokens the host must say for speech to back it: all of them
NAME_SPOKEN = 0.75  # share of a name line's tokens the host must say to back it (long names get misheard)
CORROBORATED = 0.5  # share of an unplaced line's tokens that speech must cover for it to count in full ...
UNCORROBORATED = 0.5  # ... else its prior is scaled by this: it may be overlay text

# Principle 2, reliability ranking: OCR (packaging text) > VL (image recognition) > ASR (speech).
MODALITY_WEIGHT = {"ocr": 1.0, "vl": 0.8, "asr": 0.6}  # a candidate's strength is its confidence times this
VL_CONFIDENCE = 0.7  # a VL reading that states no confidence
ASR_BRAND = 0.8  # speech saying a packaging brand line in full
ASR_NAME = 0.7  # speech saying most of a packaging name line
ASR_PRICE = 0.7  # a price the host says (number words included)
ASR_SPEC = 0.7  # a quantity the host says
ASR_TYPE = 0.6  # a word naming a product type that the host says
OCR_TYPE_OF_NAME = 0.9  # a word naming a product type in the chosen product name
OCR_TYPE_OF_PACKAGING = 0.7  # a word naming a product type anywhere on the packaging

# Principle 3, conflict resolution: which of several OCR readings of one field is the stronger.
MULTI_WORD_BRAND = 0.85  # a brand is mostly one word (in Chinese two or three characters); a longer line is more often a slogan
BRAND_IN_BLOCK = 0.6  # a line printed as one of several lines of the same type is part of a name, not a brand
BRAND_NAMES_A_CATEGORY = 0.5  # a line that says what the product is ("Perfume", "香水") is rarely who makes it
BRAND_WITH_NUMBER = 0.7  # a number that is no quantity ("24H", "2X", "72小时") belongs to a claim, seldom to a brand
CLAIM = 0.4  # a line in the words of a marketing claim ("NEW FORMULA", "全新配方") names neither brand nor product
TRANSLATION = 0.8  # a smaller line in the other script right under a name is its translation, not the name
NAME_FRAGMENT = 0.85  # a line that is part of a larger text block is a fragment of the name
NAME_WITH_CATEGORY = 1.1  # a name that says what the product is ("... Face Cream") ...
NAME_WITHOUT_CATEGORY = 0.9  # ... beats one that does not
OVERLAY_PRICE = 0.8  # a price on the overlay banner: the live price, but not printed on the product

UNSURE_READING = 0.9  # an OCR reading less sure than this (a logo's closed letters, a small print) ...
SPOKEN_SPELLING = 0.6  # ... takes the spelling of words the host says that are at least this similar ("Herdic Leof": Nordic Leaf)

# Principle 4, fault-tolerant completion: a field one modality lacks is filled from the others.
ASR_NAME_AFTER_BRAND = 0.6  # the words the host says right after the brand, taken as the name
ASR_BRAND_ALONE = 0.4  # a capitalised name after "the"/"from"/"by" when no text names a brand

# Layout and text heuristics: which lines may name the product, and which form one text block.
PROMINENCE_FLOOR = 0.5  # prior of the smallest print; the tallest naming print has 1 (bigger print names)
BRAND_MAX_WORDS = 3  # a Latin-script brand has at most three words ...
BRAND_MAX_CJK_TOKENS = 6  # ... a Chinese one at most six tokens (each character is one) ...
BRAND_CJK_WORD = 3  # ... of which up to three read as one word (花漾, 百雀羚), more as several (营养均衡, 温和不刺激)
BRAND_MIN_CJK_TOKENS = 2  # ... and at least two: a lone character on a pack is a word of the name
NAME_MIN_WORDS = 2  # a Latin-script name has two words or more (one word is a brand or a label)
NAME_MIN_LETTERS = 2  # a naming line has at least two letters ...
NAME_LETTER_SHARE = 0.5  # ... and letters make at least half of its non-space characters
SPOKEN_NAME_MAX_WORDS = 6  # a name the host says after the brand is at most six words

# "@streamer", "user: comment", "用户：评论" (no space after a full-width colon)
_HANDLE = re.compile(rf"^\s*@|^\s*[\w{char_class((CJK_UNIFIED,))}]{{1,16}}\s*(?::\s|：)")
_PROMO = re.compile(
    r"best ?sell|hot ?sale|new arrival|limited|free shipping|flash sale|deal|discount|% ?off|buy \d|"
    r"link below|follow|subscribe|包邮|秒杀|限时|热卖|新品|爆款|优惠|福利|下单|关注",
    re.IGNORECASE,
)
# The live room's own controls and counters (Douyin, Taobao Live, TikTok Shop alike): never packaging,
# wherever they sit, since an overlay badge drawn over a product box still lies "inside" it.
_LIVE_UI = re.compile(
    r"^\s*(live|live now|直播|直播中|buy|buy now|shop|shop now|抢购|马上抢|立即购买|去购买|购买|加购|下单)\s*$|"
    r"\bwatching\b|\bviewers?\b|\blikes\b|人观看|人在看|在线人数|点赞",
    re.IGNORECASE,
)
# A spec printed at the end of a name line: only these short spellings, a subset of edge.text.UNITS
# (a wider set would cut more off names).
_NAME_SPEC_UNITS = ("ml", "g", "kg", "mg", "oz", "l", "mah", "毫升", "克")
_TRAILING_SPEC = re.compile(r"\s*\d+(?:\.\d+)?\s*(" + "|".join(_NAME_SPEC_UNITS) + r")\b\s*$", re.IGNORECASE)
_CHATTY = re.compile(r"[!?！？]{1,}\s*$|^(wow|omg|lol|so |love|want|buy|how much|price|link)", re.IGNORECASE)
# The words of packaging claims: novelty, strength, naturalness, superlatives, duration ("24H"), multiples ("2X"),
# and the benefits a pack's tagline promises in small type (long lasting, easy to clean, gentle, for all skin types).
# Absolute terms that advertising law restricts (最, 第一, 国家级) are among them: they are claims wherever printed.
_CLAIM_WORDS = re.compile(
    r"\b(new|formula|natural|organic|best|seller|extra|strong|stronger|advanced|improved|premium|original|certified|"
    r"clinically|proven|tested|vegan|ultimate|intensive|upgraded?|hydration|\d+\s*h|\d+\s*x|\d+\s*hours?|"
    r"long[- ]?lasting|easy to \w+|fast charging|all skin types?|complete nutrition|daily care|salon care|at home)\b|\d+\s*%|"
    r"全新|新款|配方|天然|有机|加倍|升级|人气|小时|强效|专业|官方|正品|第一|国家级|最|"
    r"持久|不脱妆|留香|温和|不刺激|易清洗|超长|续航|均衡|精选|沙龙级|家庭装",
    re.IGNORECASE,
)
# A claim whose words OCR ran together ("ALLNATURAL", "NEWFORMULA", "24HHYDRATION"): one token made of nothing else
_CLAIM_RUN = re.compile(
    r"^(?:all|new|formula|natural|organic|best|seller|extra|strong|stronger|advanced|improved|premium|original|"
    r"clinically|proven|vegan|ultimate|intensive|hydration|\d+h|\d+x)+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    """One modality's proposal for a field."""

    value: str
    modality: str
    confidence: float


def decide(candidates: Iterable[Candidate]) -> Decision | None:
    """Pick a field's value from candidates by the four principles; None if there are none."""
    groups: list[list[Candidate]] = []
    for cand in sorted(candidates, key=lambda c: (MODALITIES.index(c.modality), -c.confidence)):
        for group in groups:
            if similarity(group[0].value, cand.value) >= SAME_VALUE:
                group.append(cand)
                break
        else:
            groups.append([cand])
    if not groups:
        return None

    def strength(group: list[Candidate]) -> tuple[float, bool]:
        modalities = {c.modality for c in group}
        best = max(MODALITY_WEIGHT[c.modality] * c.confidence for c in group)
        return best + AGREEMENT_BONUS * (len(modalities) - 1), "ocr" in modalities

    group = max(groups, key=strength)  # stable: earlier (higher-priority) groups win exact ties
    lead = group[0]  # highest-priority modality, then highest confidence
    support = tuple(m for m in MODALITIES if any(c.modality == m for c in group))
    return Decision(lead.value, round(min(1.0, strength(group)[0]), CONFIDENCE_DIGITS), support)


class LocalRules(Closing):
    """Engine ``local-rules``: no state, no network; :meth:`close` has nothing to release."""

    name = ENGINE

    def __call__(self, evidence: Document) -> Document:
        """The ``liveguard.result/1`` record for the evidence document by the local rules."""
        return self.fuse(EvidenceView.from_document(evidence))

    def fuse(self, evidence: EvidenceView) -> Document:
        speech, vl = evidence.speech, evidence.vl
        spoken = set(tokens(speech))
        lines = join_split_boxes([Line.from_view(line, spoken) for line in evidence.ocr_lines])

        brands = _brand_candidates(lines, speech, vl)
        brand = decide(brands)
        taken = brand.value if brand and "ocr" in brand.support else None
        name = decide(_without_brand(_name_candidates(lines, speech, vl, brand.value if brand else None, taken), brand))
        if (name is None or not types_in(name.value)) and taken and types_in(taken, min_cjk=2):
            # the line that says what the product is went to the brand, and no other line says it: that line is the name
            brand = decide(c for c in brands if similarity(c.value, taken) < SAME_VALUE and not _is_claim(c.value))
            name = decide(_without_brand(_name_candidates(lines, speech, vl, None, None), brand))
        product_type = decide(_type_candidates(lines, speech, vl, name))
        category = _department(product_type, vl)
        price = decide(_price_candidates(lines, speech))
        spec = decide(_spec_candidates(lines, speech))
        attributes = Decision({"spec": spec.value}, spec.confidence, spec.support) if spec else None

        decisions = {"product_name": name, "brand": brand, "product_type": product_type, "category": category,
                     "key_attributes": attributes, "price": price}
        return with_claims(result_record(evidence, ENGINE, decisions), evidence)


fuse_local = LocalRules()  # the rules hold no state: one engine serves every caller


def create_engine(config: FusionConfig, fallback: FusionEngine | None = None, **client_options: Any) -> LocalRules:
    """The registry's factory for ``fusion.engine: local-rules`` (it needs neither config nor fallback)."""
    return fuse_local


def _names_product(line: Line) -> bool:
    """Could this line be packaging text naming the product (not overlay, price or spec)?"""
    if line.in_product is False or not tokens(line.text):
        return False
    if _HANDLE.search(line.text) or _LIVE_UI.search(line.text):
        return False
    if line.in_product is None and _CHATTY.search(line.text):
        return False
    if find_prices(line.text) or _PROMO.search(line.text):
        return False
    letters = sum(ch.isalpha() for ch in line.text)
    # one Chinese character is a word (霜, 水: the head noun of a stacked name); one Latin letter is not
    least = 1 if has_cjk(line.text) else NAME_MIN_LETTERS
    needed = max(least, int(len(line.text.replace(" ", "")) * NAME_LETTER_SHARE))
    return letters >= needed and not find_specs(line.text) == [line.text]


def _packaging(lines: Sequence[Line]) -> tuple[list[Line], float]:
    eligible = [line for line in lines if _names_product(line)]
    tallest = max((line.print_height for line in eligible), default=0.0) or 1.0
    return eligible, tallest


def _line_weight(line: Line, tallest: float, speech: str) -> float:
    """Prior that a packaging line names the product.

    Larger print is more likely the brand or name. A line whose place is unknown (no product box)
    may be overlay text: unless speech corroborates it, it counts for less (consistency first).
    """
    weight = PROMINENCE_FLOOR + (1.0 - PROMINENCE_FLOOR) * min(line.print_height / tallest, 1.0)
    if line.in_product is None and speech and coverage(line.text, speech) < CORROBORATED:
        weight *= UNCORROBORATED
    return weight


def _is_brand_like(line: Line) -> bool:
    if has_cjk(line.text):
        return BRAND_MIN_CJK_TOKENS <= line.words <= BRAND_MAX_CJK_TOKENS and not find_specs(line.text)
    return line.words <= BRAND_MAX_WORDS and not find_specs(line.text)


def _is_translation(line: Line, lines: Sequence[Line]) -> bool:
    """Is ``line`` printed smaller, in the other script, right under another line, and does it say what the product
    is (a bilingual pack's second name; a Latin brand under a Chinese name says no such thing)?"""
    if not types_in(line.text):
        return False
    for above in lines:
        if above is line or has_cjk(above.text) == has_cjk(line.text) or line.em_height >= above.em_height:
            continue
        gap = line.top - above.bottom
        overlap = min(above.right, line.right) - max(above.left, line.left)
        if LINE_GAP[0] * above.print_height <= gap <= LINE_GAP[1] * above.print_height and overlap > 0:
            return True
    return False


def _is_claim(text: str) -> bool:
    return _CLAIM_WORDS.search(text) is not None or _CLAIM_RUN.match(text.strip()) is not None


def _brand_candidates(lines: Sequence[Line], speech: str, vl: VlReading | None) -> list[Candidate]:
    eligible, tallest = _packaging(lines)
    # the name as printed over lines, where the host says it: its lines are lines of the name, not a brand
    spoken_names = [block for block in text_blocks(eligible)
                    if types_in(block.text) and coverage(block.text, speech) >= NAME_SPOKEN] if speech else []
    claims = {line.text for line in eligible if _is_claim(line.text)}
    unclaimed = [other for other in eligible if other.text not in claims]  # a claim stands apart from a block
    named_blocks = [block for block in text_blocks(unclaimed) if types_in(block.text, min_cjk=2)]
    out: list[Candidate] = []
    for line in eligible:
        if not _is_brand_like(line):
            continue
        one_word = line.words <= BRAND_CJK_WORD if has_cjk(line.text) else line.words == 1
        conf = line.confidence * _line_weight(line, tallest, speech) * (1.0 if one_word else MULTI_WORD_BRAND)
        said_as_name = any(_inside(line, block) for block in spoken_names)
        stacked = in_stacked_text(line, unclaimed)
        if stacked and not has_cjk(line.text) and any(_inside(line, block) for block in named_blocks):
            # a line of a name that says what the product is ("SoundCube Power" / "Bank") is not who makes it; CJK boxes
            # differ too little in height between a brand and the name under it to tell a stack so surely
            continue
        if said_as_name or stacked:
            conf *= BRAND_IN_BLOCK
        if types_in(line.text, min_cjk=2):  # one character (茶 in 山茶) is too little to say what it is
            conf *= BRAND_NAMES_A_CATEGORY
        if re.search(r"\d", line.text):  # a spec is not brand-like anyway: a number here belongs to a claim
            conf *= BRAND_WITH_NUMBER
        if line.text in claims:
            conf *= CLAIM
        if _is_translation(line, eligible):
            conf *= TRANSLATION
        spelt = _spoken_spelling(line, speech) if line.confidence < UNSURE_READING and not said_as_name else None
        out.append(Candidate(spelt or line.text, "ocr", conf))
        if spelt or (speech and coverage(line.text, speech) >= BRAND_SPOKEN and not said_as_name):
            out.append(Candidate(spelt or line.text, "asr", ASR_BRAND))
    if all(c.value in claims for c in out):
        out = []  # claims alone name no brand: the brand went unread
    if vl and vl.brand:
        out.append(_vl_candidate(vl.brand, vl))
    if not out and speech:
        out += _speech_brand(speech)
    return out


def _spoken_spelling(line: Line, speech: str) -> str | None:
    """The words of ``speech`` that an unsure Latin reading of ``line`` most resembles (as many words as it has, or
    two for one: OCR may run a logo's words together), when their letters are :data:`SPOKEN_SPELLING` similar and the host
    does not say the reading itself (an OCR slip speech fixes)."""
    words = line.text.split()
    if not speech or has_cjk(line.text) or not words or coverage(line.text, speech) >= BRAND_SPOKEN:
        return None
    said = re.findall(r"[A-Za-z][\w'-]*", speech)
    sizes = (1, 2) if len(words) == 1 else (len(words),)  # one run of letters may be two words run together
    spans = [" ".join(said[i:i + n]) for n in sizes for i in range(len(said) - n + 1)]
    read = "".join(tokens(line.text))
    scored = [(SequenceMatcher(None, "".join(tokens(span)), read).ratio(), span) for span in spans]
    score, best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best if score >= SPOKEN_SPELLING else None


def _inside(line: Line, block: Line) -> bool:
    """Is ``line`` one of the lines that make up ``block``?"""
    return line.text in block.text and block.top <= line.top and line.bottom <= block.bottom


def _name_candidates(
    lines: Sequence[Line], speech: str, vl: VlReading | None, brand: str | None, taken: str | None
) -> list[Candidate]:
    eligible, tallest = _packaging(lines)
    unclaimed = [line for line in eligible if not _is_brand_line(line, taken)]
    tails = [line for line in lines if line.in_product is not False and TAIL.match(line.text)]  # "Vitamin" / "C"
    blocks = text_blocks(unclaimed + tails)
    naming = [line for line in unclaimed + blocks if line.words >= NAME_MIN_WORDS or has_cjk(line.text)]
    # what the host says of the name: a block the host says a part of ("this hydrating serum") is said too
    said = [line.text for line in naming if speech and coverage(_strip_spec(line.text), speech) >= NAME_SPOKEN]
    out = []
    for line in naming:
        text = _strip_spec(line.text)
        fragment = NAME_FRAGMENT if any(line is not b and line.text in b.text for b in blocks) else 1.0
        named = NAME_WITH_CATEGORY if types_in(text) else NAME_WITHOUT_CATEGORY
        conf = line.confidence * _line_weight(line, tallest, speech) * fragment * named
        if _is_claim(text) and not types_in(text):
            conf *= CLAIM
        if _is_translation(line, unclaimed):
            conf *= TRANSLATION
        out.append(Candidate(text, "ocr", min(conf, 1.0)))
        if any(part in line.text for part in said):
            out.append(Candidate(text, "asr", ASR_NAME))
    if vl and vl.product_name:
        out.append(_vl_candidate(vl.product_name, vl))
    if brand and speech:
        spoken = _after_brand(speech, brand)
        if spoken:
            out.append(Candidate(spoken, "asr", ASR_NAME_AFTER_BRAND))
    return out


def _is_brand_line(line: Line, brand: str | None) -> bool:
    """Does ``line`` print the brand and nothing more? A line that goes on after it ("Nordic Leaf Nude" under
    NORDIC LEAF) starts the name, which repeats the brand."""
    if not brand or similarity(line.text, brand) < SAME_VALUE:
        return False
    have, lead = tokens(line.text), tokens(brand)
    return not (len(have) > len(lead) and similarity(" ".join(have[: len(lead)]), " ".join(lead)) >= SAME_VALUE)


def _type_candidates(lines: Sequence[Line], speech: str, vl: VlReading | None, name: Decision | None) -> list[Candidate]:
    """The product type the name, the packaging, the VL answer and the speech name (each its most specific);
    the name's type comes from the modality that leads the name's support."""
    out = []
    if name and name.support:
        out += [Candidate(m.value, name.support[0], OCR_TYPE_OF_NAME) for m in types_in(name.value)[:1]]
    packaging = " \n ".join(line.text for line in lines if line.in_product is not False)
    out += [Candidate(m.value, "ocr", OCR_TYPE_OF_PACKAGING) for m in types_in(packaging)[:1]]
    if vl and vl.category:
        out += [_vl_candidate(m.value, vl) for m in types_in(vl.category)[:1]]
    out += [Candidate(m.value, "asr", ASR_TYPE) for m in types_in(speech)[:1]]
    return out


def _department(product_type: Decision | None, vl: VlReading | None) -> Decision | None:
    """The department of the decided type; without one, the department the VL answer names."""
    kind = type_named(product_type.value) if product_type else None
    if product_type and kind:
        return Decision(kind.department.path, product_type.confidence, product_type.support)
    found = taxonomy().find(vl.category) if vl and vl.category else None
    return Decision(found.path, float(vl.confidence or VL_CONFIDENCE), ("vl",)) if vl and found else None


def _vl_candidate(value: str, vl: VlReading) -> Candidate:
    return Candidate(str(value), "vl", float(vl.confidence or VL_CONFIDENCE))


def _price_candidates(lines: Sequence[Line], speech: str) -> list[Candidate]:
    out = []
    for line in lines:
        # A price banner is part of the live room's overlay and still states the live price.
        weight = 1.0 if line.in_product is not False else OVERLAY_PRICE
        out += [Candidate(p, "ocr", line.confidence * weight) for p in find_prices(line.text)]
    out += [Candidate(p, "asr", ASR_PRICE) for p in find_prices(speech)]
    return out


def _spec_candidates(lines: Sequence[Line], speech: str) -> list[Candidate]:
    out = []
    for line in lines:
        if line.in_product is not False:
            out += [Candidate(s, "ocr", line.confidence) for s in find_specs(line.text)]
    out += [Candidate(s, "asr", ASR_SPEC) for s in find_specs(speech)]
    return out


def _without_brand(candidates: list[Candidate], brand: Decision | None) -> list[Candidate]:
    """Each name without the brand it starts with ("Aquavera Hydrating Serum" under the brand AQUAVERA is the
    Hydrating Serum): a pack may repeat its brand inside the name, the brand is still its own field. Done before
    the name is decided, so that speech saying the name agrees with the name as the pack prints it."""
    if brand is None:
        return candidates
    lead = tokens(brand.value)
    out = []
    for cand in candidates:
        have = tokens(cand.value)
        rest = after_tokens(cand.value, len(lead)) if lead and len(have) > len(lead) and have[: len(lead)] == lead else ""
        out.append(Candidate(rest, cand.modality, cand.confidence) if rest else cand)
    return out


def _strip_spec(text: str) -> str:
    """'Hydra Glow Cream 50ml' -> 'Hydra Glow Cream' (the spec is an attribute of its own)."""
    stripped = _TRAILING_SPEC.sub("", text)
    return stripped or text


def _after_brand(speech: str, brand: str) -> str | None:
    """The words a host says right after the brand, up to punctuation: the spoken product name."""
    words = tokens(brand)
    if not words:
        return None
    pattern = r"\b" + r"\W+".join(map(re.escape, words)) + r"\b\W*([^,.;:!?，。；！？]{3,80})"
    match = re.search(pattern, speech, flags=re.IGNORECASE)
    if not match:
        return None
    phrase = re.split(r"\b(?:is|are|for|with|only|which|that|and)\b", match.group(1), maxsplit=1)[0].strip()
    return " ".join(phrase.split()[:SPOKEN_NAME_MAX_WORDS]) or None


def _speech_brand(speech: str) -> list[Candidate]:
    """Completion from speech alone: a capitalised name right after 'the'/'from'/'by'."""
    match = re.search(r"\b(?:the|from|by)\s+([A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)+", speech)
    return [Candidate(match.group(1), "asr", ASR_BRAND_ALONE)] if match else []
