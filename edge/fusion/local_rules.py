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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge.fusion.documents import CONFIDENCE_DIGITS, MODALITIES, Decision, EvidenceLine, EvidenceView, VlReading, result_record
from edge.fusion.engine import Closing, Document
from edge.fusion.taxonomy import taxonomy, type_named, types_in
from edge.fusion.text import after_tokens, coverage, find_prices, find_specs, has_cjk, similarity, tokens
from edge.text import CJK_UNIFIED, char_class

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
CLAIM = 0.5  # a line in the words of a marketing claim ("NEW FORMULA", "全新配方") names neither brand nor product
TRANSLATION = 0.8  # a smaller line in the other script right under a name is its translation, not the name
NAME_FRAGMENT = 0.85  # a line that is part of a larger text block is a fragment of the name
NAME_WITH_CATEGORY = 1.1  # a name that says what the product is ("... Face Cream") ...
NAME_WITHOUT_CATEGORY = 0.9  # ... beats one that does not
OVERLAY_PRICE = 0.8  # a price on the overlay banner: the live price, but not printed on the product

# Principle 4, fault-tolerant completion: a field one modality lacks is filled from the others.
ASR_NAME_AFTER_BRAND = 0.6  # the words the host says right after the brand, taken as the name
ASR_BRAND_ALONE = 0.4  # a capitalised name after "the"/"from"/"by" when no text names a brand

# Layout and text heuristics: which lines may name the product, and which form one text block.
PROMINENCE_FLOOR = 0.5  # prior of the smallest print; the tallest naming print has 1 (bigger print names)
PRINT_SIZE_RATIO = (0.75, 1.33)  # lines of one block differ in print height by at most a third
LINE_GAP = (-0.4, 0.8)  # gap to the next line of a block, in print heights: an overlap (CJK boxes run tall) to most of a line
COLUMN_OVERLAP = 0.5  # lines of one block overlap horizontally by over half the narrower one
MAX_BLOCK_LINES = 4  # a name is printed over at most four lines
SAME_PRINT = (0.85, 1.18)  # lines of one stacked name share one type size (tighter than a block's PRINT_SIZE_RATIO)
BRAND_MAX_WORDS = 3  # a Latin-script brand has at most three words ...
BRAND_MAX_CJK_TOKENS = 6  # ... a Chinese one at most six tokens (each character is one) ...
BRAND_CJK_WORD = 3  # ... of which up to three read as one word (花漾, 百雀羚), more as several (营养均衡, 温和不刺激)
BRAND_MIN_CJK_TOKENS = 2  # ... and at least two: a lone character on a pack is a word of the name
NAME_MIN_WORDS = 2  # a Latin-script name has two words or more (one word is a brand or a label)
NAME_MIN_LETTERS = 2  # a naming line has at least two letters ...
NAME_LETTER_SHARE = 0.5  # ... and letters make at least half of its non-space characters
SPOKEN_NAME_MAX_WORDS = 6  # a name the host says after the brand is at most six words
DESCENDER = 1.25  # a Latin line with descenders (g, j, p, q, y) has a box this much taller than its type size
SPACED_PIECES = 3  # a line of at least this many pieces ...
SPACED_MEAN_LETTERS = 2.0  # ... of at most this many letters on average is letter-spaced text read unevenly
SPACED_WORD_GAP = 1.5  # letter-spaced words boxed apart on one row are at most this many print heights apart ...
SPLIT_LINE_GAP = 0.5  # ... other boxes on one row this many: one line OCR boxed in two ("Nordic" | "Leaf")
_NO_HEIGHT = 1e-6  # print height of a line without a box, to divide by

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
# The words of packaging claims: novelty, strength, naturalness, superlatives, duration ("24H"), multiples ("2X").
# Absolute terms that advertising law restricts (最, 第一, 国家级) are among them: they are claims wherever printed.
_CLAIM_WORDS = re.compile(
    r"\b(new|formula|natural|organic|best|seller|extra|strong|stronger|advanced|improved|premium|original|certified|"
    r"clinically|proven|tested|vegan|ultimate|intensive|upgraded?|hydration|\d+\s*h|\d+\s*x|\d+\s*hours?)\b|\d+\s*%|"
    r"全新|新款|配方|天然|有机|加倍|升级|人气|小时|强效|专业|官方|正品|第一|国家级|最",
    re.IGNORECASE,
)
# Letters printed with spaces between them ("V E R D A N T", "锦 鲤": a logo's letter-spacing): one word
# A line too short to name anything alone that may end a name printed over lines (the C of Vitamin C, a B12)
_TAIL = re.compile(r"^[A-Za-z][A-Za-z0-9]?$|^[A-Za-z][0-9]{1,2}$")
_DESCENDERS = re.compile(r"[gjpqy]")
# A box of one to three Latin letters: a piece of a widely letter-spaced word that OCR boxed letter by letter
_PIECE = re.compile(r"^[A-Za-z]{1,3}$")
_SPACED_LETTERS = re.compile(rf"^(?:[A-Za-z] +){{2,}}[A-Za-z]$|^(?:[{char_class((CJK_UNIFIED,))}] +)+[{char_class((CJK_UNIFIED,))}]$")


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
        lines = _spaced_words_joined([_Line.from_view(line, spoken) for line in evidence.ocr_lines])

        brands = _brand_candidates(lines, speech, vl)
        brand = decide(brands)
        taken = brand.value if brand and "ocr" in brand.support else None
        name = decide(_name_candidates(lines, speech, vl, brand.value if brand else None, taken))
        if name is None and taken and types_in(taken, min_cjk=2):  # the only line naming the product went to the brand
            name = decide(_name_candidates(lines, speech, vl, None, None))
            brand = decide(c for c in brands if similarity(c.value, taken) < SAME_VALUE) or brand
        name = _without_brand(name, brand)
        product_type = decide(_type_candidates(lines, speech, vl, name))
        category = _department(product_type, vl)
        price = decide(_price_candidates(lines, speech))
        spec = decide(_spec_candidates(lines, speech))
        attributes = Decision({"spec": spec.value}, spec.confidence, spec.support) if spec else None

        decisions = {"product_name": name, "brand": brand, "product_type": product_type, "category": category,
                     "key_attributes": attributes, "price": price}
        return result_record(evidence, ENGINE, decisions)


fuse_local = LocalRules()  # the rules hold no state: one engine serves every caller


def create_engine(config: FusionConfig, fallback: FusionEngine | None = None, **client_options: Any) -> LocalRules:
    """The registry's factory for ``fusion.engine: local-rules`` (it needs neither config nor fallback)."""
    return fuse_local


@dataclass(frozen=True)
class _Line:
    text: str
    confidence: float
    in_product: bool | None
    left: float = 0.0
    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    frames: tuple[int, ...] = ()
    print_height: float = 0.0  # height of one printed line (a block spans several)
    spaced: bool = False  # read as letter-spaced pieces, joined into one word

    @classmethod
    def from_view(cls, line: EvidenceLine, spoken: Collection[str] = ()) -> _Line:
        left, top, right, bottom = line.bounds or (0.0, 0.0, 0.0, 0.0)
        text = line.text.strip()
        joined = _unspaced(text, spoken)
        spaced = joined != text or _PIECE.match(text) is not None  # letter-spaced, or a piece of a letter-spaced word
        return cls(joined, line.confidence, line.in_product, left, top, right, bottom, line.frames, bottom - top, spaced)

    @property
    def words(self) -> int:
        return len(tokens(self.text))

    @property
    def all_caps(self) -> bool:
        """Latin letters only in capitals ("HALCYON" under "Bluetooth Speaker": a change of case is a change of role)."""
        letters = [ch for ch in self.text if ch.isascii() and ch.isalpha()]
        return len(letters) >= 2 and all(ch.isupper() for ch in letters)

    @property
    def type_height(self) -> float:
        """The print height without descenders (a box holding g, j, p, q or y runs taller than its type)."""
        return self.print_height / (DESCENDER if _DESCENDERS.search(self.text) and not has_cjk(self.text) else 1.0)

    def same_size(self, other: _Line, bounds: tuple[float, float]) -> bool:
        """Do the two print sizes differ by no more than ``bounds`` (as box heights, or as type heights)?"""
        smallest, largest = bounds
        return any(smallest <= b / max(a, _NO_HEIGHT) <= largest
                   for a, b in ((self.print_height, other.print_height), (self.type_height, other.type_height)))

    def names_product(self) -> bool:
        """Could this line be packaging text naming the product (not overlay, price or spec)?"""
        if self.in_product is False or not tokens(self.text):
            return False
        if _HANDLE.search(self.text) or _LIVE_UI.search(self.text):
            return False
        if self.in_product is None and _CHATTY.search(self.text):
            return False
        if find_prices(self.text) or _PROMO.search(self.text):
            return False
        letters = sum(ch.isalpha() for ch in self.text)
        # one Chinese character is a word (霜, 水: the head noun of a stacked name); one Latin letter is not
        least = 1 if has_cjk(self.text) else NAME_MIN_LETTERS
        needed = max(least, int(len(self.text.replace(" ", "")) * NAME_LETTER_SHARE))
        return letters >= needed and not find_specs(self.text) == [self.text]

    def continues_into(self, below: _Line) -> bool:
        """Is ``below`` the next line of the same text block (a name printed over two lines)? A block keeps to
        one script: a line in the other one is a translation."""
        if self.frames and below.frames and not set(self.frames) & set(below.frames):
            return False
        if has_cjk(self.text) != has_cjk(below.text) or self.all_caps != below.all_caps and not _TAIL.match(below.text):
            return False
        similar_size = self.same_size(below, PRINT_SIZE_RATIO)
        gap = below.top - self.bottom
        close = LINE_GAP[0] * self.print_height <= gap <= LINE_GAP[1] * self.print_height
        overlap = min(self.right, below.right) - max(self.left, below.left)
        return similar_size and close and overlap > COLUMN_OVERLAP * min(self.right - self.left, below.right - below.left)


def _text_blocks(lines: Sequence[_Line]) -> list[_Line]:
    """Adjacent lines of the same print size joined top to bottom (at most :data:`MAX_BLOCK_LINES`)."""
    ordered = sorted(lines, key=lambda line: (line.top, line.left))
    blocks = []
    for i, first in enumerate(ordered):
        block = [first]
        for below in ordered[i + 1 :]:
            if len(block) == MAX_BLOCK_LINES:
                break
            if block[-1].continues_into(below):
                block.append(below)
                joiner = "" if has_cjk(block[-2].text[-1:] + below.text[:1]) else " "
                blocks.append(
                    _Line(
                        joiner.join(part.text for part in block),
                        _mean_confidence(block),
                        first.in_product,
                        min(p.left for p in block), first.top, max(p.right for p in block), below.bottom,
                        first.frames, sum(p.print_height for p in block) / len(block),
                    )
                )
    return blocks


def _spaced_words_joined(lines: list[_Line]) -> list[_Line]:
    """Boxes of one line that OCR boxed apart, side by side on one row, as the one line they are (in the place
    of the leftmost): letter-spaced words within :data:`SPACED_WORD_GAP` print heights ("Nordic" | "Le a f" ->
    "Nordic Leaf"), pieces of a word (widely spaced letters boxed one by one: "L" | "u" | "min" | "a" ->
    "Lumina"), other text within :data:`SPLIT_LINE_GAP`."""
    merged: dict[int, _Line] = {}
    gone: set[int] = set()
    for j in sorted(range(len(lines)), key=lambda k: lines[k].left):
        line = lines[j]
        partner = next((i for i, p in merged.items() if _side_by_side(p, line)), None)
        if partner is None:
            merged[j] = line
            continue
        p = merged[partner]
        joiner = "" if _PIECE.match(p.text.split()[-1]) or _PIECE.match(line.text) else " "
        merged[partner] = _Line(f"{p.text}{joiner}{line.text}", min(p.confidence, line.confidence), p.in_product, p.left,
                                min(p.top, line.top), line.right, max(p.bottom, line.bottom), p.frames,
                                max(p.print_height, line.print_height), True)
        gone.add(j)
    return [merged[i] for i in range(len(lines)) if i not in gone]


def _side_by_side(left: _Line, right: _Line) -> bool:
    if left.in_product != right.in_product or has_cjk(left.text) or has_cjk(right.text) or not left.same_size(right, PRINT_SIZE_RATIO):
        return False
    rows_overlap = min(left.bottom, right.bottom) - max(left.top, right.top)
    gap = right.left - left.right
    widest = SPACED_WORD_GAP if left.spaced or right.spaced else SPLIT_LINE_GAP
    return rows_overlap > 0.6 * min(left.print_height, right.print_height) and -0.2 * left.print_height <= gap <= widest * left.print_height


def _mean_confidence(block: Sequence[_Line]) -> float:
    """A block's reading confidence: its lines' confidences weighted by their characters (one misread character
    of a long name costs less than the whole name)."""
    sizes = [max(len(part.text.replace(" ", "")), 1) for part in block]
    return sum(part.confidence * n for part, n in zip(block, sizes)) / sum(sizes)


def _packaging(lines: Sequence[_Line]) -> tuple[list[_Line], float]:
    eligible = [line for line in lines if line.names_product()]
    tallest = max((line.print_height for line in eligible), default=0.0) or 1.0
    return eligible, tallest


def _line_weight(line: _Line, tallest: float, speech: str) -> float:
    """Prior that a packaging line names the product.

    Larger print is more likely the brand or name. A line whose place is unknown (no product box)
    may be overlay text: unless speech corroborates it, it counts for less (consistency first).
    """
    weight = PROMINENCE_FLOOR + (1.0 - PROMINENCE_FLOOR) * min(line.print_height / tallest, 1.0)
    if line.in_product is None and speech and coverage(line.text, speech) < CORROBORATED:
        weight *= UNCORROBORATED
    return weight


def _is_brand_like(line: _Line) -> bool:
    if has_cjk(line.text):
        return BRAND_MIN_CJK_TOKENS <= line.words <= BRAND_MAX_CJK_TOKENS and not find_specs(line.text)
    return line.words <= BRAND_MAX_WORDS and not find_specs(line.text)


def _in_stacked_text(line: _Line, lines: Sequence[_Line]) -> bool:
    """Is ``line`` one of several lines of the same type printed as one block (a stacked name)?"""
    for other in lines:
        if other is line:
            continue
        upper, lower = (other, line) if other.top < line.top else (line, other)
        if line.same_size(other, SAME_PRINT) and upper.continues_into(lower):
            return True
    return False


def _is_translation(line: _Line, lines: Sequence[_Line]) -> bool:
    """Is ``line`` printed smaller, in the other script, right under another line, and does it say what the product
    is (a bilingual pack's second name; a Latin brand under a Chinese name says no such thing)?"""
    if not types_in(line.text):
        return False
    for above in lines:
        if above is line or has_cjk(above.text) == has_cjk(line.text) or line.print_height >= above.print_height:
            continue
        gap = line.top - above.bottom
        overlap = min(above.right, line.right) - max(above.left, line.left)
        if LINE_GAP[0] * above.print_height <= gap <= LINE_GAP[1] * above.print_height and overlap > 0:
            return True
    return False


def _is_claim(text: str) -> bool:
    return _CLAIM_WORDS.search(text) is not None


def _brand_candidates(lines: Sequence[_Line], speech: str, vl: VlReading | None) -> list[Candidate]:
    eligible, tallest = _packaging(lines)
    out = []
    for line in eligible:
        if not _is_brand_like(line):
            continue
        one_word = line.words <= BRAND_CJK_WORD if has_cjk(line.text) else line.words == 1
        conf = line.confidence * _line_weight(line, tallest, speech) * (1.0 if one_word else MULTI_WORD_BRAND)
        if _in_stacked_text(line, eligible):
            conf *= BRAND_IN_BLOCK
        if types_in(line.text, min_cjk=2):  # one character (茶 in 山茶) is too little to say what it is
            conf *= BRAND_NAMES_A_CATEGORY
        if re.search(r"\d", line.text):  # specs are not brand-like already: this is a number of a claim
            conf *= BRAND_WITH_NUMBER
        if _is_claim(line.text):
            conf *= CLAIM
        if _is_translation(line, eligible):
            conf *= TRANSLATION
        out.append(Candidate(line.text, "ocr", conf))
        if speech and coverage(line.text, speech) >= BRAND_SPOKEN:
            out.append(Candidate(line.text, "asr", ASR_BRAND))
    if vl and vl.brand:
        out.append(_vl_candidate(vl.brand, vl))
    if not out and speech:
        out += _speech_brand(speech)
    return out


def _name_candidates(
    lines: Sequence[_Line], speech: str, vl: VlReading | None, brand: str | None, taken: str | None
) -> list[Candidate]:
    eligible, tallest = _packaging(lines)
    unclaimed = [line for line in eligible if not (taken and similarity(line.text, taken) >= SAME_VALUE)]
    tails = [line for line in lines if line.in_product is not False and _TAIL.match(line.text)]  # "Vitamin" / "C"
    blocks = _text_blocks(unclaimed + tails)
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


def _type_candidates(lines: Sequence[_Line], speech: str, vl: VlReading | None, name: Decision | None) -> list[Candidate]:
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


def _price_candidates(lines: Sequence[_Line], speech: str) -> list[Candidate]:
    out = []
    for line in lines:
        # A price banner is part of the live room's overlay and still states the live price.
        weight = 1.0 if line.in_product is not False else OVERLAY_PRICE
        out += [Candidate(p, "ocr", line.confidence * weight) for p in find_prices(line.text)]
    out += [Candidate(p, "asr", ASR_PRICE) for p in find_prices(speech)]
    return out


def _spec_candidates(lines: Sequence[_Line], speech: str) -> list[Candidate]:
    out = []
    for line in lines:
        if line.in_product is not False:
            out += [Candidate(s, "ocr", line.confidence) for s in find_specs(line.text)]
    out += [Candidate(s, "asr", ASR_SPEC) for s in find_specs(speech)]
    return out


def _unspaced(text: str, spoken: Collection[str] = ()) -> str:
    """'V e r d a n t' -> 'Verdant', '锦 鲤' -> '锦鲤': letter-spacing is a style, not a word break. OCR reads
    spaced letters unevenly ('Brig h t wa v e', 'Lumin a'): a Latin line of short pieces (at least
    :data:`SPACED_PIECES`, :data:`SPACED_MEAN_LETTERS` letters each on average) is one word, and so is one whose
    pieces run together make a word the host says (agreement with speech)."""
    if _SPACED_LETTERS.match(text):
        return text.replace(" ", "")
    pieces = text.split()
    if len(pieces) < 2 or not all(p.isascii() and p.isalpha() for p in pieces):
        return text
    joined = "".join(pieces)
    uneven = len(pieces) >= SPACED_PIECES and len(joined) / len(pieces) <= SPACED_MEAN_LETTERS
    if uneven or all(len(p) <= 2 for p in pieces) or joined.lower() in spoken:
        return joined
    return text


def _without_brand(name: Decision | None, brand: Decision | None) -> Decision | None:
    """The name without the brand it starts with ("Aquavera Hydrating Serum" under the brand AQUAVERA is the
    Hydrating Serum): a pack may repeat its brand inside the name, the brand is still its own field."""
    if name is None or brand is None:
        return name
    have, lead = tokens(name.value), tokens(brand.value)
    if not lead or len(have) <= len(lead) or have[: len(lead)] != lead:
        return name
    rest = after_tokens(name.value, len(lead))
    return Decision(rest, name.confidence, name.support) if rest else name


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
