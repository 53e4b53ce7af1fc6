"""Claims screening's precision and recall per rule family, from an evaluation of a benchmark made with claims.

    python tools/make_benchmark.py --out out/bench-claims --clips 200 --seed 21 --claims --layouts all --skins all
    python tools/evaluate.py out/bench-claims --out out/eval-claims --detector bundled:detector.onnx
    python tools/claims_table.py out/eval-claims --dataset out/bench-claims [--detector bundled:detector.onnx]

reads the Strategy A (K = 1) rows of ``results.jsonl`` (the flags each result carries under ``claims``) and
the truth of each clip (the claims ``--claims`` put in its speech and room), prints Markdown tables (per
family over all clips and by language; per family and modality; near misses; price mismatches with both
values) and writes ``table_claims_<detector>.csv`` and ``table_claims_modality_<detector>.csv`` into the
evaluation folder. Clips whose truth has no ``claims`` (made without ``--claims``) are skipped and counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/: livebench

from livebench.claims import ClaimScores, table_families, table_modalities, table_near_misses  # noqa: E402
from livebench.report import md_table, safe, write_csv  # noqa: E402

VARIANT = "A@1"


def truth_paths(dataset: Path) -> dict[str, Path]:
    """Clip id -> its truth file, from the manifest (``clips/<id>.truth.json`` for a clip it does not list)."""
    manifest = dataset / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(f"claims_table: {dataset} has no manifest.json (a folder written by tools/make_benchmark.py)")
    rows = json.loads(manifest.read_text(encoding="utf-8"))["clips"]
    return {row["id"]: dataset / row["truth"] for row in rows}


def claims_tables(evaluation: Path, dataset: Path, detector: str | None = None) -> str:
    """The Markdown report; writes the CSV tables into ``evaluation``."""
    results = evaluation / "results.jsonl"
    if not results.is_file():
        raise SystemExit(f"claims_table: {evaluation} has no results.jsonl (an output folder of tools/evaluate.py)")
    rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("variant") == VARIANT]
    detectors = sorted({r["detector"] for r in rows}) if detector is None else [detector]
    if not rows or not set(detectors) <= {r["detector"] for r in rows}:
        found = sorted({r["detector"] for r in rows})
        raise SystemExit(f"claims_table: {results}: no {VARIANT} rows for detector(s) {detectors} (found {found})")
    paths = truth_paths(dataset)
    parts = []
    for name in detectors:
        scores, skipped, unscreened = ClaimScores(), 0, 0
        for row in (r for r in rows if r["detector"] == name):
            path = paths.get(row["clip"], dataset / "clips" / f"{row['clip']}.truth.json")
            truth = json.loads(path.read_text(encoding="utf-8"))
            if "claims" not in truth:
                skipped += 1
                continue
            flags = row["result"].get("claims")
            if flags is None:  # screening was off in that evaluation
                unscreened += 1
                continue
            scores.add(truth, flags)
        parts.append(f"## Claims screening, detector {name} (Strategy A, K = 1; {scores.clips.get('all', 0)} clips scored)\n")
        notes = []
        if skipped:
            notes.append(f"{skipped} clip(s) skipped: their truth has no claims (made without --claims).")
        if unscreened:
            notes.append(f"{unscreened} clip(s) skipped: their result carries no claims (screening off in that evaluation).")
        if notes:
            parts.append(" ".join(notes) + "\n")
        if not scores.clips:
            parts.append("No clip to score.\n")
            continue
        tag = safe(name)
        for title, made, csv_name in (
            ("Per rule family (clip level)", table_families(scores), f"table_claims_{tag}.csv"),
            ("Per rule family and modality (speech: asr, overlay: ocr)", table_modalities(scores), f"table_claims_modality_{tag}.csv"),
            ("Near misses (clips without claims that carry one)", table_near_misses(scores), None),
        ):
            if made is None:
                continue
            parts.append(f"### {title}\n")
            parts.append(md_table(*made) + "\n")
            if csv_name:
                write_csv(evaluation / csv_name, *made)
        if scores.mismatches:
            right = sum(scores.mismatches)
            parts.append(f"Price mismatches flagged with the spoken and the shown price right: {right} of {len(scores.mismatches)}.\n")
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("evaluation", type=Path, help="an evaluate.py output folder (holding results.jsonl)")
    ap.add_argument("--dataset", type=Path, required=True, help="the benchmark folder it evaluated (made with --claims)")
    ap.add_argument("--detector", default=None, help="only this detector's rows (oracle, bundled:detector.onnx, ...; default: each)")
    args = ap.parse_args(argv)
    print(claims_tables(args.evaluation, args.dataset, args.detector))
    return 0


if __name__ == "__main__":
    sys.exit(main())
