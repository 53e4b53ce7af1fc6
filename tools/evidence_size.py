"""Wire size of the evidence per window, and what each part of it costs.

    python tools/evidence_size.py [--clips 20] [--seed 0] [--bench DIR] [--config FILE] [--save DIR]
    python tools/evidence_size.py --evidence-dir DIR

The first form runs the pipeline (``edge.pipeline.Pipeline``, one window per clip) on the first
``--clips`` clips of a benchmark folder (``tools/make_benchmark.py``). Without ``--bench`` the clips
are generated once, with the repository's generator, into a cache folder
(``~/.cache/liveguard/evidence-size/seed<S>``; clip i is a pure function of (seed, i), so the first N
clips are those of the full benchmark with that seed). ``--save DIR`` keeps each window's evidence
(as ``liveguard run --evidence`` writes it) and its result, for a later ``--evidence-dir`` run or a
``liveguard fuse``. The second form measures saved ``liveguard.evidence/1`` files, without the pipeline.

The wire size is ``edge.transport.delivery.compact`` of the document, the bytes that go into the
outbox. The share per part adds up to that size: each part is the bytes its members take in the
compact JSON (key, value and comma); "structure" is what is left (braces, the keys of the sections).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))  # tools/: make_benchmark

from edge.transport.delivery import compact  # noqa: E402

IDS = ("schema", "id", "created_at", "device", "stream", "window", "config_hash")
PARTS = (
    "ocr boxes", "ocr text", "ocr line fields", "ocr other", "asr segments", "asr text", "asr other",
    "keyframes", "selection", "vl", "models", "ids", "other", "structure",
)


def member_bytes(key: str, value: Any) -> int:
    """Bytes of ``"key":value,`` in the compact form."""
    return len(compact({key: value})) - 2 + 1


def part_bytes(doc: Mapping[str, Any]) -> dict[str, int]:
    """Bytes per part of ``doc``'s wire form; the values add up to ``len(compact(doc))``."""
    parts = dict.fromkeys(PARTS, 0)
    for key, value in doc.items():
        if key == "ocr" and isinstance(value, Mapping):
            for okey, ovalue in value.items():
                if okey == "lines" and isinstance(ovalue, list):
                    for line in ovalue:
                        for lkey, lvalue in line.items():
                            part = {"box": "ocr boxes", "text": "ocr text"}.get(lkey, "ocr line fields")
                            parts[part] += member_bytes(lkey, lvalue)
                else:
                    parts["ocr other"] += member_bytes(okey, ovalue)
        elif key == "asr" and isinstance(value, Mapping):
            for akey, avalue in value.items():
                part = {"segments": "asr segments", "text": "asr text"}.get(akey, "asr other")
                parts[part] += member_bytes(akey, avalue)
        elif key in ("keyframes", "selection", "vl", "models"):
            parts[key] += member_bytes(key, value)
        else:
            parts["ids" if key in IDS else "other"] += member_bytes(key, value)
    parts["structure"] = len(compact(doc)) - sum(parts.values())
    return parts


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1), linear between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def report(docs: Sequence[Mapping[str, Any]], origin: str) -> str:
    """The figures as text: wire size per window (median, p90, max) and the share of each part."""
    wire = [len(compact(d)) for d in docs]
    pretty = [len(json.dumps(d, ensure_ascii=False, indent=2).encode("utf-8")) for d in docs]
    totals = dict.fromkeys(PARTS, 0)
    for d in docs:
        for part, size in part_bytes(d).items():
            totals[part] += size
    lines = [
        f"{len(docs)} window(s) of {origin}",
        f"wire bytes per window (compact JSON): median {statistics.median(wire):.0f}, p90 {percentile(wire, 0.9):.0f}, "
        f"max {max(wire)}, min {min(wire)}",
        f"pretty-printed (indent 2, as liveguard run --evidence writes): median {statistics.median(pretty):.0f}",
        f"OCR lines per window: median {statistics.median(len(d.get('ocr', {}).get('lines', [])) for d in docs):.0f}",
        "share of the wire bytes (all windows):",
    ]
    whole = sum(wire)
    for part in sorted(PARTS, key=lambda p: -totals[p]):
        if totals[part]:
            lines.append(f"  {part:<16} {100 * totals[part] / whole:5.1f} %  ({totals[part] / len(docs):6.0f} B/window)")
    return "\n".join(lines)


def evidence_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.json") if not p.name.endswith(".result.json"))


def load_evidence(paths: Iterable[Path]) -> list[dict[str, Any]]:
    docs = []
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and str(doc.get("schema", "")).startswith("liveguard.evidence/"):
            docs.append(doc)
    return docs


def benchmark_clips(bench: Path | None, clips: int, seed: int, workers: int) -> tuple[list[Path], str]:
    """The first ``clips`` clips of ``bench``, or of the seed's cached benchmark (generated when missing)."""
    if bench is None:
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liveguard" / "evidence-size" / f"seed{seed}"
        manifest_path = cache / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else None
        if manifest is None or manifest["seed"] != seed or len(manifest["clips"]) < clips:
            from make_benchmark import make_benchmark

            print(f"generating {clips} benchmark clips (seed {seed}) into {cache}", file=sys.stderr)
            make_benchmark(cache, clips, seed, workers=workers, log=lambda m: print(m, file=sys.stderr))
        bench = cache
    manifest = json.loads((bench / "manifest.json").read_text(encoding="utf-8"))
    rows = manifest["clips"][:clips]
    return [bench / row["video"] for row in rows], f"{len(rows)} benchmark clip(s) of {bench} (seed {manifest['seed']})"


def run_pipeline(clips: Sequence[Path], config_file: Path | None, save: Path | None) -> list[dict[str, Any]]:
    from edge.config import load_config
    from edge.pipeline import Pipeline

    docs = []
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
    with Pipeline(load_config(config_file)) as pipeline:
        for clip in clips:
            started = time.perf_counter()
            outcome = pipeline.run(clip)
            docs.append(outcome.evidence)
            print(f"{clip.stem}: {len(compact(outcome.evidence))} B, {time.perf_counter() - started:.1f} s", file=sys.stderr)
            if save is not None:
                (save / f"{clip.stem}.evidence.json").write_text(
                    json.dumps(outcome.evidence, ensure_ascii=False, indent=2), encoding="utf-8"
                )
                (save / f"{clip.stem}.result.json").write_text(json.dumps(outcome.result, ensure_ascii=False), encoding="utf-8")
    return docs


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--evidence-dir", type=Path, help="measure the evidence JSON files under DIR instead of running the pipeline")
    ap.add_argument("--clips", type=int, default=20, help="benchmark clips to run (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="benchmark seed when generating (default 0, the README's benchmark)")
    ap.add_argument("--bench", type=Path, help="an existing benchmark folder (default: the seed's clips in the cache, generated once)")
    ap.add_argument("--workers", type=int, default=1, help="clips generated in parallel (default 1)")
    ap.add_argument("--config", "-c", type=Path, help="YAML configuration of the pipeline (default: the built-in defaults)")
    ap.add_argument("--save", type=Path, help="also write each clip's evidence and result JSON into DIR")
    args = ap.parse_args(argv)
    if args.evidence_dir is not None:
        docs = load_evidence(evidence_files(args.evidence_dir))
        origin = f"saved evidence in {args.evidence_dir}"
    else:
        clips, origin = benchmark_clips(args.bench, args.clips, args.seed, args.workers)
        docs = run_pipeline(clips, args.config, args.save)
    if not docs:
        print("no evidence to measure", file=sys.stderr)
        return 1
    print(report(docs, origin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
