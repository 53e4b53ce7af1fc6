"""Re-fuse the evidence an evaluation kept and score it again: a fusion change measured in seconds.

    python tools/refuse.py out/eval-layouts --dataset out/bench-layouts [--detector oracle] [--config liveguard.yaml]

``tools/evaluate.py`` writes ``evidence.jsonl`` (Strategy A's evidence, K = 1, per clip and detector).
This runs the configured fusion (the local rules by default) over each evidence again, scores the
results against the truth with the same similarity and thresholds, and prints Table 11's Strategy A
column and the table by packaging layout family; decode, detection and OCR are not repeated.
``--results FILE`` also writes the new results as ``results.jsonl`` rows of variant ``A@1`` (what
``tools/claims_table.py`` reads), so that the claims table follows a fusion or scope change too;
``--screen`` first screens each evidence again with the configured claims section (the box's stage), so that
it follows a change of the rules or the matcher as well.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/: livebench

from livebench.metrics import same_text, score_fields, summarise  # noqa: E402
from livebench.report import Tables, md_table, pct  # noqa: E402
from livebench.similarity import EMBEDDERS, FieldSimilarity, create_embedder  # noqa: E402

from edge.claims import screening_for  # noqa: E402
from edge.config import parse_config  # noqa: E402
from edge.fusion import create_fusion  # noqa: E402

FIELDS = ("brand", "product_name", "category")


def refuse(evaluation: Path, dataset: Path, detector: str | None, config: Path | None, embedder: str,
           results: Path | None = None, screen: bool = False) -> str:
    base = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}) if config else {}
    screening = screening_for(parse_config(base, source=str(config or "defaults")).claims) if screen else None
    rows = [json.loads(line) for line in (evaluation / "evidence.jsonl").read_text(encoding="utf-8").splitlines() if line]
    detectors = sorted({r["detector"] for r in rows}) if detector is None else [detector]
    if not rows or not set(detectors) <= {r["detector"] for r in rows}:
        raise SystemExit(f"refuse: {evaluation / 'evidence.jsonl'}: no evidence for detector(s) {detectors}")
    similarity = FieldSimilarity(create_embedder(embedder, None))
    parts, written = [], []
    with create_fusion(parse_config(base, source=str(config or "defaults")).fusion) as fuse:
        for name in detectors:
            tables = Tables(name, ["A@1"])
            scores = []
            for row in (r for r in rows if r["detector"] == name):
                truth = json.loads((dataset / row["truth"]).read_text(encoding="utf-8"))
                evidence = row["evidence"] if screening is None else {**row["evidence"], "claims": screening.section(row["evidence"])}
                result = fuse(evidence)
                written.append({"clip": row["clip"], "detector": name, "variant": "A@1", "result": result})
                similarity.prepare([result.get(f) for f in FIELDS] + [truth[f] for f in FIELDS])
                score = score_fields(result, truth, similarity)
                scores.append(score)
                if "layout" in truth:
                    whole = same_text(result.get("product_name"), truth["product_name"])
                    tables.add_family(truth["layout"], truth["language"], score, whole)
            s = summarise(scores)
            parts.append(f"## Detector: {name} ({len(scores)} clips)\n")
            header = ["Perfect Match Rate", "Brand (≥ 0.7)", "Product Name (≥ 0.5)", "Category (type or department)", "Similarity"]
            parts.append(md_table(header, [[pct(s["pmr"]), pct(s["brand_acc"]), pct(s["product_name_acc"]), pct(s["category_acc"]),
                                            pct(s["similarity"])]]) + "\n")
            for made in (tables.table_splits(), tables.table_layouts()):
                if made is not None:
                    parts.append(md_table(*made) + "\n")
    if results is not None:
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in written), encoding="utf-8")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("evaluation", type=Path, help="an evaluate.py output folder (holding evidence.jsonl)")
    ap.add_argument("--dataset", type=Path, required=True, help="the benchmark folder it evaluated (the truth)")
    ap.add_argument("--detector", default=None, help="only this detector's evidence (default: each)")
    ap.add_argument("--config", type=Path, default=None, help="LiveGuard YAML whose fusion section to use (default: built-in)")
    ap.add_argument("--embedder", choices=EMBEDDERS, default="use", help="field-similarity model (default use, as evaluate.py)")
    ap.add_argument("--results", type=Path, default=None, help="also write the re-fused results here (results.jsonl rows)")
    ap.add_argument("--screen", action="store_true", help="screen the evidence for claims again before fusing it")
    args = ap.parse_args(argv)
    print(refuse(args.evaluation, args.dataset, args.detector, args.config, args.embedder, args.results, args.screen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
