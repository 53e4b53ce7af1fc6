"""Claims screening scored at clip level per rule family (issue 15), against the truth of clips made with
``tools/make_benchmark.py --claims``.

A clip is truth-positive for a family when its truth lists a claim of that family, predicted-positive when
the result carries a flag of that family; per modality (``asr``, ``ocr``) both sides count only claims and
flags of that modality. Counted over all clips and by language (``en``, ``zh``); near misses are counted
apart (clips without claims that carry one, and how many of them were flagged for its family), and a
price mismatch is checked for its two values (the spoken price and the shown one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FAMILIES = ("absolute", "medical", "authority", "price", "watchlist")
MODALITIES = ("asr", "ocr")
LANGUAGES = ("all", "en", "zh")
ANY = "any"


@dataclass
class Counts:
    """Clip-level confusion counts of one family in one group of clips."""

    clips: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def add(self, truth: bool, predicted: bool) -> None:
        self.clips += 1
        self.tp += truth and predicted
        self.fp += predicted and not truth
        self.fn += truth and not predicted


@dataclass
class ClaimScores:
    """Counts per (family, language, modality) over the clips added; ``modality`` ``any`` counts both."""

    counts: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    near: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (family, language) -> [clips, flagged]
    mismatches: list[bool] = field(default_factory=list)  # per truth price mismatch: flagged with both values right
    families_seen: set[str] = field(default_factory=set)
    clips: dict[str, int] = field(default_factory=dict)  # language -> clips scored

    def add(self, truth: Mapping[str, Any], flags: Sequence[Mapping[str, Any]]) -> None:
        """One clip: its truth (with ``claims``) and the flags its result carries."""
        claims = list(truth["claims"])
        language = str(truth.get("language") or "?")
        self.families_seen |= {c["family"] for c in claims} | {f["family"] for f in flags}
        for group in ("all", language):
            self.clips[group] = self.clips.get(group, 0) + 1
            for family in FAMILIES:
                for modality in (ANY, *MODALITIES):
                    said = any(c["family"] == family and modality in (ANY, c.get("modality")) for c in claims)
                    found = any(f["family"] == family and modality in (ANY, f.get("modality")) for f in flags)
                    self.counts.setdefault((family, group, modality), Counts()).add(said, found)
            for miss in truth.get("near_misses", ()):
                tally = self.near.setdefault((miss["family"], group), [0, 0])
                tally[0] += 1
                tally[1] += any(f["family"] == miss["family"] for f in flags)
        for claim in claims:
            if claim.get("rule") == "price-mismatch" and "spoken" in claim:
                self.mismatches.append(any(_values_right(claim, f) for f in flags if f["family"] == "price"))

    def get(self, family: str, language: str = "all", modality: str = ANY) -> Counts:
        return self.counts.get((family, language, modality), Counts())

    def families(self) -> list[str]:
        """The families some truth or flag names, in :data:`FAMILIES` order (unknown ones last)."""
        return [f for f in FAMILIES if f in self.families_seen] + sorted(self.families_seen - set(FAMILIES))


def _values_right(claim: Mapping[str, Any], flag: Mapping[str, Any]) -> bool:
    values = flag.get("values") or {}
    return claim["spoken"] in values.get("spoken", ()) and claim["shown"] in values.get("shown", ())


def score(pairs: Iterable[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]) -> ClaimScores:
    """Scores over (truth, flags) pairs; truths without ``claims`` must be left out by the caller."""
    scores = ClaimScores()
    for truth, flags in pairs:
        scores.add(truth, flags)
    return scores


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


HEADER = ["Family", "Language", "Clips", "Claims (truth)", "TP", "FP", "FN", "Precision", "Recall"]
MODALITY_HEADER = ["Family", "Modality", "Language", "Clips", "Claims (truth)", "TP", "FP", "FN", "Precision", "Recall"]


def _cells(c: Counts) -> list[Any]:
    return [c.clips, c.positives, c.tp, c.fp, c.fn, ratio(c.precision), ratio(c.recall)]


def _languages(scores: ClaimScores) -> list[str]:
    return [g for g in LANGUAGES if g in scores.clips] + sorted(set(scores.clips) - set(LANGUAGES))


def table_families(scores: ClaimScores) -> tuple[list[str], list[list[Any]]]:
    """Per family: all clips, then each language."""
    rows = [[family, language, *_cells(scores.get(family, language))] for family in scores.families() for language in _languages(scores)]
    return HEADER, rows


def table_modalities(scores: ClaimScores) -> tuple[list[str], list[list[Any]]]:
    """Per family and modality (speech ``asr``, overlay ``ocr``), over all clips and each language; groups with
    neither a claim nor a flag are left out."""
    rows = []
    for family in scores.families():
        for modality in MODALITIES:
            for language in _languages(scores):
                c = scores.get(family, language, modality)
                if c.positives or c.fp:
                    rows.append([family, modality, language, *_cells(c)])
    return MODALITY_HEADER, rows


def table_near_misses(scores: ClaimScores) -> tuple[list[str], list[list[Any]]] | None:
    if not scores.near:
        return None
    order = {f: i for i, f in enumerate(FAMILIES)}
    rows = [[family, language, clips, flagged]
            for (family, language), (clips, flagged) in sorted(scores.near.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))]
    return ["Family", "Language", "Clips with a near miss", "Flagged for that family"], rows


__all__ = ["FAMILIES", "ClaimScores", "Counts", "score", "table_families", "table_modalities", "table_near_misses"]
