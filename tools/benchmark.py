"""Speed and memory of the pipeline on benchmark clips; every figure is a ratio measured in one run.

    python tools/benchmark.py out/bench [--clips 10] [--detector D-FINE.onnx] [--memory-minutes 0.5 2] [--out out/speed]

1. Whole pipeline vs decoding alone at the same sample rate (``Pipeline.run`` against iterating
   ``edge.sources.VideoFile``), per clip.
2. This pipeline vs a naive one on the same clips and the same loaded models: decode every sampled
   frame into a list, run the detector on each frame one by one, score, pick, then OCR, then ASR, one
   stage after another. Also how often both choose the same keyframe.
3. Peak RSS vs clip length: a benchmark clip looped to each ``--memory-minutes`` length, each run in a
   fresh process (``tools/measure_memory.py``'s child).
4. Evidence bytes per window (the JSON that leaves the box) and keyframe JPEG bytes (kept locally).

No detector weights ship, so by default a tiny randomly initialised D-FINE is exported
(``export.dfine.tiny_dfine_model``, needs torch + transformers) so that detection cost is real, if small:
a trained D-FINE-M costs far more per frame. Pass ``--detector`` for a real one.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/: measure_memory

from edge.asr import merge_transcripts  # noqa: E402
from edge.config import parse_config  # noqa: E402
from edge.evidence import Provenance  # noqa: E402
from edge.pipeline import Pipeline  # noqa: E402
from edge.select import min_spacing, select_best  # noqa: E402
from edge.sources import VideoFile  # noqa: E402
from edge.types import AudioChunk, Keyframe, Readings, Selection  # noqa: E402
from edge.window import read_keyframes, stream_info, window_evidence, window_span  # noqa: E402


def tiny_detector(path: Path) -> Path:
    from export.dfine import export_dfine, tiny_dfine_model

    if not path.is_file():
        export_dfine(tiny_dfine_model(seed=0), path)
    return path


def decode_only(pipeline: Pipeline, clip: Path) -> float:
    cfg = pipeline.config
    start = time.perf_counter()
    with VideoFile(clip, cfg.sampling.fps, audio_chunk_seconds=cfg.asr.chunk_seconds) as video:
        for _ in video:
            pass
    return time.perf_counter() - start


def naive_run(pipeline: Pipeline, clip: Path) -> tuple[float, int, dict]:
    """Sequential reimplementation with the pipeline's own components; returns (seconds, keyframe index, result)."""
    cfg = pipeline.config
    start = time.perf_counter()
    frames, chunks = [], []
    with VideoFile(clip, cfg.sampling.fps, audio_chunk_seconds=cfg.asr.chunk_seconds) as video:
        for item in video:  # everything decoded and kept first
            (chunks if isinstance(item, AudioChunk) else frames).append(item)
        info = video.info
    detections = [pipeline.detector.detect([f.image])[0] for f in frames]  # one frame at a time
    scores = [pipeline.scorer.score(f, d) for f, d in zip(frames, detections)]
    best = select_best([s.total for s in scores])
    keyframe = Keyframe(frames[best], scores[best], detections[best])
    lines, raw = read_keyframes([keyframe], pipeline.reader.read, True, cfg.ocr.fuse_similarity)
    transcript = merge_transcripts([pipeline.transcriber.transcribe(c.samples, c.start) for c in chunks] if pipeline.transcriber else [])
    evidence, _ = window_evidence(
        Provenance(cfg, pipeline.config_hash, pipeline.models), stream_info(clip, info, [keyframe], 0),
        window_span(frames[-1].pts, info.duration), Selection((keyframe,), len(frames), min_spacing(len(frames), 1)),
        Readings(tuple(lines), raw, transcript),
    )
    result = pipeline.fuse(evidence)
    return time.perf_counter() - start, frames[best].index, result


def memory_rows(clip: Path, minutes: Sequence[float], config_file: Path) -> list[dict]:
    from measure_memory import loop_clip, measure

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in minutes:
            looped = loop_clip(clip, m * 60, Path(tmp) / f"loop-{m:g}min.mp4")
            row = measure(looped, str(config_file))
            row["minutes"] = m
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path, help="benchmark folder (tools/make_benchmark.py)")
    ap.add_argument("--clips", type=int, default=10, help="clips timed (default 10)")
    ap.add_argument("--detector", type=Path, default=None, help="D-FINE ONNX (default: a tiny random D-FINE exported here)")
    ap.add_argument("--memory-minutes", type=float, nargs="*", default=[0.5, 2.0], help="clip lengths for peak RSS (default 0.5 2)")
    ap.add_argument("--out", type=Path, default=Path("out/speed"), help="report folder (default out/speed)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((args.dataset / "manifest.json").read_text(encoding="utf-8"))
    clips = [args.dataset / row["video"] for row in manifest["clips"][: args.clips]]
    detector = args.detector or tiny_detector(args.out / "tiny-dfine.onnx")
    config_data = {"detector": {"model": str(detector.resolve()), "providers": ["CPUExecutionProvider"]}}
    config_file = args.out / "benchmark-config.yaml"
    config_file.write_text(yaml.safe_dump(config_data), encoding="utf-8")
    pipeline = Pipeline(parse_config(config_data))
    pipeline.run(clips[0])  # warm-up: first-call costs of every model
    rows = []
    for clip in clips:
        decode_s = decode_only(pipeline, clip)
        t = time.perf_counter()
        outcome = pipeline.run(clip)
        pipeline_s = time.perf_counter() - t
        naive_s, naive_kf, _ = naive_run(pipeline, clip)
        rows.append({
            "clip": clip.stem, "decode_s": decode_s, "pipeline_s": pipeline_s, "naive_s": naive_s,
            "same_keyframe": outcome.keyframes[0].frame.index == naive_kf,
            "evidence_bytes": len(json.dumps(outcome.evidence, ensure_ascii=False).encode()),
            "jpeg_bytes": sum(len(j) for j in outcome.jpegs), "sampled": outcome.evidence["selection"]["sampled_frames"],
            "stages": outcome.timings,
        })
        print(f"{clip.stem}: decode {decode_s:.2f} s, pipeline {pipeline_s:.2f} s, naive {naive_s:.2f} s", file=sys.stderr)
    mem = memory_rows(clips[0], args.memory_minutes, config_file) if args.memory_minutes else []
    total = lambda k: sum(r[k] for r in rows)  # noqa: E731
    same = sum(r["same_keyframe"] for r in rows)
    lines = [
        "# LiveGuard speed and memory on benchmark clips",
        "",
        f"Command: `python tools/benchmark.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}; {len(rows)} clips of `{args.dataset}` "
        f"({total('sampled')} sampled frames at {pipeline.config.sampling.fps} fps); detector `{detector.name}`"
        + (" (tiny random D-FINE: real ONNX cost, no real boxes)" if args.detector is None else "") + "; one warm-up run first.",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Whole pipeline / decoding alone (same sample rate) | {total('pipeline_s') / total('decode_s'):.2f}× "
        f"({total('pipeline_s'):.1f} s vs {total('decode_s'):.1f} s) |",
        f"| Naive sequential / this pipeline | {total('naive_s') / total('pipeline_s'):.2f}× "
        f"({total('naive_s'):.1f} s vs {total('pipeline_s'):.1f} s) |",
        f"| Same keyframe chosen by both | {same}/{len(rows)} |",
        f"| Evidence JSON per window (bytes, mean / max) | {statistics.mean(r['evidence_bytes'] for r in rows):.0f} "
        f"/ {max(r['evidence_bytes'] for r in rows)} |",
        f"| Keyframe JPEG kept locally (bytes, mean) | {statistics.mean(r['jpeg_bytes'] for r in rows):.0f} |",
    ]
    if mem:
        lines += [
            f"| Peak RSS, {r['minutes']:g}-min clip | {r['peak_rss_mib']:.0f} MiB "
            f"(models loaded: {r['after_load_mib']:.0f} MiB; {r['seconds']:.0f} s) |"
            for r in mem
        ]
        lines.append(
            f"| Peak RSS ratio {mem[-1]['minutes']:g} min / {mem[0]['minutes']:g} min | "
            f"{mem[-1]['peak_rss_mib'] / mem[0]['peak_rss_mib']:.3f} |"
        )
    stage_sum: dict[str, float] = {}
    for r in rows:
        for k, v in r["stages"].items():
            stage_sum[k] = stage_sum.get(k, 0.0) + v
    lines += ["", "Pipeline stage seconds summed over the clips (stages overlap in threads): "
              + ", ".join(f"{k} {v:.1f}" for k, v in stage_sum.items())]
    report = "\n".join(lines) + "\n"
    (args.out / "speed.md").write_text(report, encoding="utf-8")
    (args.out / "speed.json").write_text(json.dumps({"clips": rows, "memory": mem}, indent=1, default=str), encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
