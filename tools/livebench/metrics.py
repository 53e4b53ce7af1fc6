"""The paper's metrics (§4.2): field accuracy at similarity thresholds, Perfect Match Rate, mean semantic
similarity, and the OCR statistics of Experiments 1 and 2 (Tables 5, 6, 8, 9)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import mean, pstdev
from typing import Any

FIELDS = ("brand", "product_name", "category")
THRESHOLDS = {"brand": 0.7, "product_name": 0.5, "category": 0.5}  # paper §4.2.3
# Table 7: one threshold varied at a time, the other two at their defaults
SENSITIVITY = {
    "brand": (0.60, 0.65, 0.70, 0.75, 0.80),
    "product_name": (0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70),
    "category": (0.40, 0.45, 0.50, 0.55, 0.60),
}
HIGH_CONFIDENCE_CHARS = 0.8  # Table 5: characters with confidence >= 0.8
HIGH_CONFIDENCE_TEXT = 0.7  # Table 6: text with confidence >= 0.7
SAME_CONFIDENCE = 0.01  # Table 9: |B - A| at most this is "equivalent"


@dataclass(frozen=True)
class FieldScores:
    """One clip's similarity per field between the result and the truth.

    ``category`` is the better of the two ways a result names it (the paper calls the field coarse):
    ``product_type``, the similarity of the product types, and ``department``, 1 when the departments
    are the same or one holds the other below the top levels (``edge.fusion.taxonomy.same_department``).
    """

    brand: float
    product_name: float
    category: float
    product_type: float = 0.0
    department: float = 0.0

    def get(self, field: str) -> float:
        return float(getattr(self, field))

    @property
    def mean(self) -> float:
        return (self.brand + self.product_name + self.category) / 3


def score_fields(result: Mapping[str, Any], truth: Mapping[str, Any], similarity: Callable[[Any, Any], float]) -> FieldScores:
    from edge.fusion.taxonomy import same_department, taxonomy

    kind, department = truth_kind(truth)
    ptype = similarity(result.get("product_type"), kind) if kind else 0.0
    tax = taxonomy()
    dept = float(same_department(tax.find(result.get("category")), tax.find(department)))
    return FieldScores(similarity(result.get("brand"), truth.get("brand")),
                       similarity(result.get("product_name"), truth.get("product_name")), max(ptype, dept), ptype, dept)


def truth_kind(truth: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The truth's product type and department; a clip made before they were recorded gets them from the
    generator's catalogue (its category and the noun its product name ends with)."""
    if truth.get("department"):
        return truth.get("product_type"), truth["department"]
    from livegen.products import LINES

    name = str(truth.get("product_name") or "")
    for line in LINES:
        if line.category != truth.get("category"):
            continue
        for k, (en, zh) in enumerate(zip(line.en_nouns, line.zh_nouns)):
            if name.endswith(en) or name.endswith(zh):
                return (zh if name.endswith(zh) else en), line.departments[k]
    return None, None


def perfect(scores: FieldScores, thresholds: Mapping[str, float] = THRESHOLDS) -> bool:
    """All three fields at or above their thresholds."""
    return all(scores.get(f) >= thresholds[f] for f in FIELDS)


def summarise(clips: Sequence[FieldScores], thresholds: Mapping[str, float] = THRESHOLDS) -> dict[str, float]:
    """Perfect Match Rate, per-field accuracy and mean semantic similarity over clips (fractions, 0-1)."""
    n = len(clips)
    if n == 0:
        return {"n": 0, "pmr": 0.0, "brand_acc": 0.0, "product_name_acc": 0.0, "category_acc": 0.0, "product_type_acc": 0.0,
                "department_acc": 0.0, "similarity": 0.0}
    out: dict[str, float] = {"n": n, "pmr": sum(perfect(c, thresholds) for c in clips) / n}
    for f in FIELDS:
        out[f"{f}_acc"] = sum(c.get(f) >= thresholds[f] for c in clips) / n
    out["product_type_acc"] = sum(c.product_type >= thresholds["category"] for c in clips) / n
    out["department_acc"] = sum(c.department >= 1.0 for c in clips) / n
    out["similarity"] = mean(c.mean for c in clips)
    return out


def same_text(a: str | None, b: str | None) -> bool:
    """Equal up to case, width and spacing: the complete product name (issue 14), not a similar one."""
    import unicodedata

    def norm(text: str | None) -> str:
        return "".join(unicodedata.normalize("NFKC", text or "").lower().split())

    return bool(norm(a)) and norm(a) == norm(b)


def sensitivity(clips: Sequence[FieldScores]) -> list[dict[str, Any]]:
    """Table 7 rows: (field, threshold, PMR, that field's accuracy), varying one threshold at a time."""
    rows = []
    for field, values in SENSITIVITY.items():
        for value in values:
            th = dict(THRESHOLDS, **{field: value})
            s = summarise(clips, th)
            rows.append({"field": field, "threshold": value, "pmr": s["pmr"], "field_acc": s[f"{field}_acc"]})
    return rows


@dataclass(frozen=True)
class OcrStats:
    """Experiment 1/2 statistics of the (fused) OCR text of one clip's keyframe(s)."""

    chars: int  # recognised characters (spaces excluded)
    char_confidence: float  # mean confidence over characters (0 when nothing was read)
    high_conf_chars: int  # characters in lines with confidence >= 0.8
    lines: int
    line_confidence: float  # mean confidence over lines (0 when nothing was read)
    high_conf_lines: float  # share of lines with confidence >= 0.7

    @classmethod
    def of(cls, lines: Iterable[Any]) -> OcrStats:
        items = [(len("".join(str(line.text).split())), float(line.confidence)) for line in lines]
        chars = sum(n for n, _ in items)
        conf = sum(n * c for n, c in items) / chars if chars else 0.0
        high = sum(n for n, c in items if c >= HIGH_CONFIDENCE_CHARS)
        line_conf = mean(c for _, c in items) if items else 0.0
        high_lines = sum(c >= HIGH_CONFIDENCE_TEXT for _, c in items) / len(items) if items else 0.0
        return cls(chars, conf, high, len(items), line_conf, high_lines)


def ocr_summary(stats: Sequence[OcrStats], seconds: Sequence[float]) -> dict[str, float]:
    """Table 8 columns: averages per video."""
    n = max(len(stats), 1)
    return {
        "chars": sum(s.chars for s in stats) / n,
        "confidence": mean(s.char_confidence for s in stats) if stats else 0.0,
        "high_conf_chars": sum(s.high_conf_chars for s in stats) / n,
        "seconds": mean(seconds) if seconds else 0.0,
    }


def compare_strategies(a: Sequence[OcrStats], b: Sequence[OcrStats]) -> dict[str, Any]:
    """§4.4 / Table 9: OCR confidence of B's keyframe against A's, clip by clip."""
    pairs = list(zip(a, b))
    diffs = [sb.line_confidence - sa.line_confidence for sa, sb in pairs]
    ca = [s.line_confidence for s in a]
    cb = [s.line_confidence for s in b]
    return {
        "n": len(pairs),
        "improved": sum(d > SAME_CONFIDENCE for d in diffs),
        "degraded": sum(d < -SAME_CONFIDENCE for d in diffs),
        "equivalent": sum(abs(d) <= SAME_CONFIDENCE for d in diffs),
        "a_mean": mean(ca) if ca else 0.0, "a_std": pstdev(ca) if ca else 0.0, "a_min": min(ca, default=0.0),
        "b_mean": mean(cb) if cb else 0.0, "b_std": pstdev(cb) if cb else 0.0, "b_min": min(cb, default=0.0),
        "a_high": mean(s.high_conf_lines for s in a) if a else 0.0, "b_high": mean(s.high_conf_lines for s in b) if b else 0.0,
        "a_chars": mean(s.chars for s in a) if a else 0.0, "b_chars": mean(s.chars for s in b) if b else 0.0,
    }
