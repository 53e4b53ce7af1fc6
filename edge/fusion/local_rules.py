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
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Sequence

import yaml

from edge.evidence.schema import RESULT_SCHEMA
from edge.fusion.text import coverage, find_prices, find_specs, has_cjk, similarity, tokens

ENGINE = "local-rules"
MODALITY_WEIGHT = {"ocr": 1.0, "vl": 0.8, "asr": 0.6}  # principle 2
AGREEMENT_BONUS = 0.15  # principle 1, per additional modality that agrees
SAME_VALUE = 0.8  # similarity at which two candidate values count as the same
PRIORITY = ("ocr", "vl", "asr")
FIELDS = ("product_name", "brand", "category", "key_attributes", "price")

# "@streamer", "user: comment", "用户：评论" (no space after a full-width colon)
_HANDLE = re.compile(r"^\s*@|^\s*[\w\u4e00-\u9fff]{1,16}\s*(?::\s|：)")
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
_CHATTY = re.compile(r"[!?！？]{1,}\s*$|^(wow|omg|lol|so |love|want|buy|how much|price|link)", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """One modality's proposal for a field."""

    value: str
    modality: str
    confidence: float


@dataclass(frozen=True)
class Decision:
    value: str
    confidence: float
    support: tuple[str, ...]


def decide(candidates: Iterable[Candidate]) -> Decision | None:
    """Pick a field's value from candidates by the four principles; None if there are none."""
    groups: list[list[Candidate]] = []
    for cand in sorted(candidates, key=lambda c: (PRIORITY.index(c.modality), -c.confidence)):
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
    support = tuple(m for m in PRIORITY if any(c.modality == m for c in group))
    return Decision(lead.value, round(min(1.0, strength(group)[0]), 4), support)


def fuse_local(evidence: dict[str, Any]) -> dict[str, Any]:
    """The ``liveguard.result/1`` record for ``evidence`` by the local rules."""
    lines = [_Line.from_evidence(line) for line in evidence["ocr"]["lines"]]
    speech = evidence["asr"]["text"] or ""
    vl = evidence.get("vl") or {}

    brand = decide(_brand_candidates(lines, speech, vl))
    taken = brand.value if brand and "ocr" in brand.support else None
    name = decide(_name_candidates(lines, speech, vl, brand.value if brand else None, taken))
    category = decide(_category_candidates(lines, speech, vl, name.value if name else None))
    price = decide(_price_candidates(lines, speech))
    spec = decide(_spec_candidates(lines, speech))

    decisions = {"product_name": name, "brand": brand, "category": category, "price": price}
    result: dict[str, Any] = {
        "schema": RESULT_SCHEMA,
        "evidence_id": evidence["id"],
        "engine": ENGINE,
        "source": evidence["stream"]["source"],
        "key_attributes": {"spec": spec.value} if spec else {},
        "confidence": {},
        "support": {},
    }
    for field, decision in decisions.items():
        result[field] = decision.value if decision else None
        result["confidence"][field] = decision.confidence if decision else 0.0
        result["support"][field] = list(decision.support) if decision else []
    result["confidence"]["key_attributes"] = spec.confidence if spec else 0.0
    result["support"]["key_attributes"] = list(spec.support) if spec else []
    return result


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

    @classmethod
    def from_evidence(cls, line: dict[str, Any]) -> _Line:
        xs = [p[0] for p in line.get("box") or []] or [0.0]
        ys = [p[1] for p in line.get("box") or []] or [0.0]
        return cls(
            line["text"].strip(), float(line["confidence"]), line.get("in_product"),
            min(xs), min(ys), max(xs), max(ys), tuple(line.get("frames") or ()), max(ys) - min(ys),
        )

    @property
    def words(self) -> int:
        return len(tokens(self.text))

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
        return letters >= max(2, len(self.text.replace(" ", "")) // 2) and not find_specs(self.text) == [self.text]

    def continues_into(self, below: _Line) -> bool:
        """Is ``below`` the next line of the same text block (a name printed over two lines)?"""
        if self.frames and below.frames and not set(self.frames) & set(below.frames):
            return False
        similar_size = 0.75 <= below.print_height / max(self.print_height, 1e-6) <= 1.33
        gap = below.top - self.bottom
        overlap = min(self.right, below.right) - max(self.left, below.left)
        return similar_size and -0.3 * self.print_height <= gap <= 0.8 * self.print_height and overlap > 0.5 * min(
            self.right - self.left, below.right - below.left
        )


def _text_blocks(lines: Sequence[_Line]) -> list[_Line]:
    """Adjacent lines of the same print size joined top to bottom (at most three)."""
    ordered = sorted(lines, key=lambda line: (line.top, line.left))
    blocks = []
    for i, first in enumerate(ordered):
        block = [first]
        for below in ordered[i + 1 :]:
            if len(block) == 3:
                break
            if block[-1].continues_into(below):
                block.append(below)
                joiner = "" if has_cjk(block[-2].text[-1:] + below.text[:1]) else " "
                blocks.append(
                    _Line(
                        joiner.join(part.text for part in block),
                        min(part.confidence for part in block),
                        first.in_product,
                        min(p.left for p in block), first.top, max(p.right for p in block), below.bottom,
                        first.frames, sum(p.print_height for p in block) / len(block),
                    )
                )
    return blocks


def _packaging(lines: Sequence[_Line]) -> tuple[list[_Line], float]:
    eligible = [line for line in lines if line.names_product()]
    tallest = max((line.print_height for line in eligible), default=0.0) or 1.0
    return eligible, tallest


def _line_weight(line: _Line, tallest: float, speech: str) -> float:
    """Prior that a packaging line names the product.

    Larger print is more likely the brand or name. A line whose place is unknown (no product box)
    may be overlay text: unless speech corroborates it, it counts for less (consistency first).
    """
    weight = 0.5 + 0.5 * min(line.print_height / tallest, 1.0)
    if line.in_product is None and speech and coverage(line.text, speech) < 0.5:
        weight *= 0.5
    return weight


def _is_brand_like(line: _Line) -> bool:
    return line.words <= (6 if has_cjk(line.text) else 3) and not find_specs(line.text)


def _brand_candidates(lines: Sequence[_Line], speech: str, vl: dict[str, Any]) -> list[Candidate]:
    eligible, tallest = _packaging(lines)
    out = []
    for line in eligible:
        if not _is_brand_like(line):
            continue
        conf = line.confidence * _line_weight(line, tallest, speech) * (1.0 if line.words == 1 else 0.85)
        out.append(Candidate(line.text, "ocr", conf))
        if speech and coverage(line.text, speech) >= 0.999:
            out.append(Candidate(line.text, "asr", 0.8))
    if vl.get("brand"):
        out.append(Candidate(str(vl["brand"]), "vl", float(vl.get("confidence") or 0.7)))
    if not out and speech:
        out += _speech_brand(speech)
    return out


def _name_candidates(
    lines: Sequence[_Line], speech: str, vl: dict[str, Any], brand: str | None, taken: str | None
) -> list[Candidate]:
    eligible, tallest = _packaging(lines)
    unclaimed = [line for line in eligible if not (taken and similarity(line.text, taken) >= SAME_VALUE)]
    blocks = _text_blocks(unclaimed)
    out = []
    for line in unclaimed + blocks:
        if line.words < 2 and not has_cjk(line.text):
            continue
        text = _strip_spec(line.text)
        # A line that is part of a larger block is a fragment of the name, not the name.
        fragment = 0.85 if any(line is not b and line.text in b.text for b in blocks) else 1.0
        conf = line.confidence * _line_weight(line, tallest, speech) * fragment * (1.1 if _categories_in(text) else 0.9)
        out.append(Candidate(text, "ocr", min(conf, 1.0)))
        if speech and coverage(text, speech) >= 0.75:
            out.append(Candidate(text, "asr", 0.7))
    if vl.get("product_name"):
        out.append(Candidate(str(vl["product_name"]), "vl", float(vl.get("confidence") or 0.7)))
    if brand and speech:
        spoken = _after_brand(speech, brand)
        if spoken:
            out.append(Candidate(spoken, "asr", 0.6))
    return out


def _category_candidates(
    lines: Sequence[_Line], speech: str, vl: dict[str, Any], name: str | None
) -> list[Candidate]:
    out = []
    if name:
        out += [Candidate(cat, "ocr", 0.9) for cat in _categories_in(name)[:1]]
    packaging = " \n ".join(line.text for line in lines if line.in_product is not False)
    out += [Candidate(cat, "ocr", 0.7) for cat in _categories_in(packaging)[:1]]
    if vl.get("category"):
        out.append(Candidate(str(vl["category"]), "vl", float(vl.get("confidence") or 0.7)))
    out += [Candidate(cat, "asr", 0.6) for cat in _categories_in(speech)[:1]]
    return out


def _price_candidates(lines: Sequence[_Line], speech: str) -> list[Candidate]:
    out = []
    for line in lines:
        # A price banner is part of the live room's overlay and still states the live price.
        weight = 1.0 if line.in_product is not False else 0.8
        out += [Candidate(p, "ocr", line.confidence * weight) for p in find_prices(line.text)]
    out += [Candidate(p, "asr", 0.7) for p in find_prices(speech)]
    return out


def _spec_candidates(lines: Sequence[_Line], speech: str) -> list[Candidate]:
    out = []
    for line in lines:
        if line.in_product is not False:
            out += [Candidate(s, "ocr", line.confidence) for s in find_specs(line.text)]
    out += [Candidate(s, "asr", 0.7) for s in find_specs(speech)]
    return out


def _strip_spec(text: str) -> str:
    """'Hydra Glow Cream 50ml' -> 'Hydra Glow Cream' (the spec is an attribute of its own)."""
    stripped = re.sub(r"\s*\d+(?:\.\d+)?\s*(ml|g|kg|mg|oz|l|mah|毫升|克)\b\s*$", "", text, flags=re.IGNORECASE)
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
    return " ".join(phrase.split()[:6]) or None


def _speech_brand(speech: str) -> list[Candidate]:
    """Completion from speech alone: a capitalised name right after 'the'/'from'/'by'."""
    match = re.search(r"\b(?:the|from|by)\s+([A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)+", speech)
    return [Candidate(match.group(1), "asr", 0.4)] if match else []


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, list[str]]:
    text = resources.files("edge.fusion").joinpath("categories.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _categories_in(text: str) -> list[str]:
    """Categories whose keywords occur in ``text``, the most specific (longest) keyword first."""
    if not text:
        return []
    lowered = " ".join(tokens(text))
    hits = []
    for category, keywords in _lexicon().items():
        for keyword in keywords:
            key = " ".join(tokens(keyword))
            found = key in lowered if has_cjk(keyword) else re.search(rf"\b{re.escape(key)}\b", lowered)
            if found:
                hits.append((len(key), category))
    return [cat for _, cat in sorted(hits, key=lambda h: -h[0])]
