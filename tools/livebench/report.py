"""The paper's tables as Markdown and CSV from the evaluated clips (Tables 7, 8, 9, 11, 12).

Configurations are keyed ``baseline``, ``A@<K>`` and ``B@<K>``; when several Strategy B quality regressors
run, ``B:<name>@<K>`` (:func:`variant_key`), and Tables 9 and 11 get one Strategy B column each.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from livebench.metrics import THRESHOLDS, FieldScores, OcrStats, compare_strategies, ocr_summary, sensitivity, summarise

TABLES = (7, 8, 9, 11, 12)


def pct(v: float) -> str:
    return f"{100 * v:.2f}%"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        w.writerows(rows)


def variant_key(strategy: str, top_k: int, regressor: str | None = None) -> str:
    """The key of a configuration: ``baseline``, ``A@3``, ``B@1``, or ``B:<regressor>@1`` among several regressors."""
    if strategy == "baseline":
        return "baseline"
    return f"{strategy}@{top_k}" if regressor is None else f"{strategy}:{regressor}@{top_k}"


def parse_key(key: str) -> tuple[str, int, str | None]:
    """(strategy, K, regressor name or None) of a :func:`variant_key`."""
    if key == "baseline":
        return "baseline", 1, None
    head, _, k = key.rpartition("@")
    strategy, _, regressor = head.partition(":")
    return strategy, int(k), regressor or None


def variant_label(key: str) -> str:
    """A column name: ``Baseline``, ``Strategy A``, ``Strategy B``, ``Strategy B (<regressor>)``."""
    strategy, _, regressor = parse_key(key)
    if strategy == "baseline":
        return "Baseline"
    return f"Strategy {strategy}" + (f" ({regressor})" if regressor else "")


def in_clean_span(pts: float, truth: dict[str, Any]) -> bool:
    """Is a keyframe time inside one of the truth's clean spans (sharp, frontal, fully visible)?"""
    slack = 0.5 / truth["video"]["fps"]
    return any(a - slack <= pts <= b + slack for a, b in truth.get("best_frames", []))


class Tables:
    """Collects per-clip scores and renders the tables for one detector variant."""

    def __init__(self, detector: str, variants: Sequence[str]) -> None:
        self.detector = detector
        self.variants = list(variants)
        self.scores: dict[str, list[FieldScores]] = {v: [] for v in variants}
        self.modalities: dict[str, list[FieldScores]] = {}  # Table 12 rows (Strategy A, K = 1)
        self.ocr: dict[str, list[OcrStats]] = {v: [] for v in variants}
        self.seconds: dict[str, list[float]] = {v: [] for v in variants}
        self.clean: dict[str, list[bool]] = {v: [] for v in variants}
        self.families: dict[tuple[str, str], list[tuple[FieldScores, bool]]] = {}  # (layout, language) -> A@1 (scores, whole name)

    def add(
        self, variant: str, scores: FieldScores, ocr: OcrStats, seconds: float, clean: bool, modalities: dict[str, FieldScores]
    ) -> None:
        self.scores[variant].append(scores)
        self.ocr[variant].append(ocr)
        self.seconds[variant].append(seconds)
        self.clean[variant].append(clean)
        for name, value in modalities.items():
            self.modalities.setdefault(name, []).append(value)

    def add_family(self, layout: str, language: str, scores: FieldScores, whole_name: bool) -> None:
        """One clip's Strategy A (K = 1) scores under its packaging layout family and language."""
        self.families.setdefault((layout, language), []).append((scores, whole_name))

    def table_layouts(self) -> tuple[list[str], list[list[Any]]] | None:
        """By packaging layout family (livegen/layouts.py) and language: tuned families first, then held-out ones."""
        if not self.families:
            return None
        from livegen.layouts import FAMILIES, HELD_OUT, TUNED

        order = {name: i for i, name in enumerate(FAMILIES)}
        rows = []
        for (layout, language), items in sorted(self.families.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])):
            split = "held-out" if layout in HELD_OUT else "tuned" if layout in TUNED else "own"
            rows.append([layout, split, language, *_family_cells(items)])
        return ["Layout family", "Split", "Language", *FAMILY_COLUMNS], rows

    def table_splits(self) -> tuple[list[str], list[list[Any]]] | None:
        """Tuned and held-out families side by side, by language (photographed packs on their own)."""
        if not self.families:
            return None
        from livegen.layouts import HELD_OUT, TUNED

        groups: dict[tuple[str, str], list[tuple[FieldScores, bool]]] = {}
        for (layout, language), items in self.families.items():
            split = "held-out" if layout in HELD_OUT else "tuned" if layout in TUNED else layout
            groups.setdefault((split, language), []).extend(items)
        order = {"tuned": 0, "held-out": 1}
        rows = [[split, language, *_family_cells(items)]
                for (split, language), items in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 2), kv[0]))]
        return ["Split", "Language", *FAMILY_COLUMNS], rows

    def strategy_b(self) -> list[str]:
        """The Strategy B configurations with K = 1, one per quality regressor, in the order given."""
        return [k for k in self.variants if parse_key(k)[:2] == ("B", 1)]

    def table7(self) -> tuple[list[str], list[list[Any]]]:
        header = ["Variable", "Threshold", "Perfect Match Rate (%)", "Corresponding Field Accuracy (%)"]
        names = {"brand": "Brand", "product_name": "Product Name", "category": "Category"}
        rows = [
            [names[r["field"]], f"{r['threshold']:.2f}", f"{100 * r['pmr']:.2f}", f"{100 * r['field_acc']:.2f}"]
            for r in sensitivity(self.scores["A@1"])
        ]
        return header, rows

    def table8(self) -> tuple[list[str], list[list[Any]]]:
        cols = [ocr_summary(self.ocr[k], self.seconds[k]) for k in ("A@1", "A@3", "A@5")]
        header = ["Metric", "Single Frame (K = 1)", "Top-3 Frames", "Top-5 Frames"]
        rows = [
            ["Average Number of Characters"] + [f"{c['chars']:.1f}" for c in cols],
            ["Average Confidence"] + [f"{c['confidence']:.4f}" for c in cols],
            ["Average Number of High-Confidence Characters (≥ 0.8)"] + [f"{c['high_conf_chars']:.1f}" for c in cols],
            ["Average Processing Time (s)"] + [f"{c['seconds']:.2f}" for c in cols],
        ]
        return header, rows

    def table9(self) -> tuple[list[str], list[list[Any]]] | None:
        """Strategy A against each Strategy B: a column per strategy, a "B vs A" row per regressor."""
        b_keys = self.strategy_b()
        if not b_keys:
            return None
        cs = [compare_strategies(self.ocr["A@1"], self.ocr[k]) for k in b_keys]
        a = cs[0]  # A's side is the same in every comparison
        n = max(a["n"], 1)
        header = ["Metric", variant_label("A@1")] + [variant_label(k) for k in b_keys]
        rows = [
            ["OCR confidence of the keyframe (mean ± std)", f"{a['a_mean']:.4f} ± {a['a_std']:.4f}"]
            + [f"{c['b_mean']:.4f} ± {c['b_std']:.4f}" for c in cs],
            ["Minimum OCR confidence", f"{a['a_min']:.4f}"] + [f"{c['b_min']:.4f}" for c in cs],
            ["Proportion of high-confidence text (≥ 0.7)", pct(a["a_high"])] + [pct(c["b_high"]) for c in cs],
            ["Average text length (characters)", f"{a['a_chars']:.1f}"] + [f"{c['b_chars']:.1f}" for c in cs],
            ["Average processing time (s)"] + [f"{sum(self.seconds[k]) / n:.2f}" for k in ("A@1", *b_keys)],
        ]
        for k, c in zip(b_keys, cs):
            name = variant_label(k).removeprefix("Strategy ")
            rows.append(
                [f"{name} vs A: improvement / degradation / equivalent (samples)",
                 f"{c['improved']} ({pct(c['improved'] / n)}) / {c['degraded']} ({pct(c['degraded'] / n)}) "
                 f"/ {c['equivalent']} ({pct(c['equivalent'] / n)})"] + [""] * len(b_keys)
            )
        return header, rows

    def table11(self) -> tuple[list[str], list[list[Any]]]:
        cols = [k for k in ("baseline", "A@1") if k in self.scores] + self.strategy_b()
        sums = {k: summarise(self.scores[k]) for k in cols}
        header = ["Metric"] + [variant_label(k) for k in cols]
        rows = [
            ["Perfect Match Rate"] + [pct(sums[k]["pmr"]) for k in cols],
            ["Product Name Recognition Accuracy"] + [pct(sums[k]["product_name_acc"]) for k in cols],
            ["Semantic Similarity"] + [pct(sums[k]["similarity"]) for k in cols],
            ["Brand Accuracy (≥ 0.7)"] + [pct(sums[k]["brand_acc"]) for k in cols],
            ["Category Accuracy (≥ 0.5)"] + [pct(sums[k]["category_acc"]) for k in cols],
            ["Keyframe in a clean span (truth)"] + [pct(sum(self.clean[k]) / max(len(self.clean[k]), 1)) for k in cols],
        ]
        return header, rows

    def table12(self) -> tuple[list[str], list[list[Any]]]:
        header = ["Modality", "Perfect Match Rate", "Product Name Recognition Accuracy", "Semantic Similarity"]
        rows = []
        for name, clips in self.modalities.items():
            s = summarise(clips)
            rows.append([name, pct(s["pmr"]), pct(s["product_name_acc"]), pct(s["similarity"])])
        return header, rows


FAMILY_COLUMNS = ["Clips", "Perfect Match Rate", "Brand (≥ 0.7)", "Product Name (≥ 0.5)", "Complete name (exact)",
                  "Category (type or department)", "Product type (≥ 0.5)", "Department"]


def _family_cells(items: list[tuple[FieldScores, bool]]) -> list[Any]:
    """The :data:`FAMILY_COLUMNS` of some clips' (scores, complete name) pairs."""
    s = summarise([scores for scores, _ in items])
    return [len(items), pct(s["pmr"]), pct(s["brand_acc"]), pct(s["product_name_acc"]), pct(sum(w for _, w in items) / len(items)),
            pct(s["category_acc"]), pct(s["product_type_acc"]), pct(s["department_acc"])]


TITLES = {
    7: "Table 7. Sensitivity analysis of evaluation thresholds (Strategy A, K = 1, OCR+ASR)",
    8: "Table 8. OCR performance under different numbers of selected frames (Strategy A)",
    9: "Table 9. Strategy A vs Strategy B: OCR of the selected frame (§4.4)",
    11: "Table 11. Performance comparison of frame scoring strategies (end to end)",
    12: "Table 12. Performance comparison of modality combinations (Strategy A, K = 1)",
    "splits": "Tuned and held-out layout families (Strategy A, K = 1; the split is fixed in tools/livegen/layouts.py)",
    "layouts": "By packaging layout family (Strategy A, K = 1; families in tools/livegen/layouts.py)",
}


def render(tables: Tables, wanted: Sequence[int], out: Path, notes: dict[int, str]) -> str:
    """Markdown for one detector variant; writes ``table<N>[_<detector>].csv`` into ``out``."""
    parts = []
    for n in [*wanted, "splits", "layouts"]:
        made = getattr(tables, f"table{n}" if isinstance(n, int) else f"table_{n}")()
        if made is None and n in ("splits", "layouts"):
            continue
        parts.append(f"### {TITLES[n]}\n")
        if made is None:
            parts.append(notes.get(n, "not run") + "\n")
            continue
        header, rows = made
        parts.append(md_table(header, rows) + "\n")
        if notes.get(n):
            parts.append(notes[n] + "\n")
        write_csv(out / f"table{n if isinstance(n, int) else '_' + n}_{safe(tables.detector)}.csv", header, rows)
    return "\n".join(parts)


def safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)


__all__ = [
    "TABLES", "THRESHOLDS", "Tables", "in_clean_span", "md_table", "parse_key", "render", "variant_key", "variant_label", "write_csv",
]
