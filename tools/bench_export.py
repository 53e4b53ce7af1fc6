#!/usr/bin/env python3
"""CPU latency of FP32 vs INT8 ONNX for the detector and the quality regressor, with accuracy deltas.

    .venv/bin/python tools/bench_export.py            # D-FINE-N at 640 px, EfficientNetV2-S at 224 px
    .venv/bin/python tools/bench_export.py --quick    # the tiny test models (a smoke run)

Both models are randomly initialised at their real sizes (no weights ship anywhere; the
EfficientNetV2's BatchNorm statistics are measured on frames so its outputs vary), exported
by ``export/``, and quantised twice: ``tensorrt`` (symmetric INT8 Q/DQ, what TensorRT builds)
and ``cpu`` (UINT8 activations, ONNX Runtime's fast x86 kernels). Latency is batch 1 on ONNX
Runtime's CPU provider, FP32 and INT8 runs interleaved in one process so that both see the
same machine load; the ratio is FP32 median / INT8 median (above 1: INT8 is faster). Accuracy
deltas come from :mod:`export.report` on held-out frames; random weights quantise worse than
trained ones (see that module), so read the detector's INT8 figures as a floor.
Frames are synthetic colour blocks unless --calib/--holdout name folders of real ones.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def interleaved_latency(paths: dict[str, Path], feeds: dict[str, np.ndarray], threads: int, runs: int) -> dict[str, float]:
    """Median seconds per batch-1 run of each model, runs interleaved across models."""
    import onnxruntime as ort

    sessions = {}
    for name, path in paths.items():
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        sessions[name] = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    for session in sessions.values():  # warm-up
        for _ in range(3):
            session.run(None, feeds)
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(runs):
        for name, session in sessions.items():
            started = time.perf_counter()
            session.run(None, feeds)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def bench_detector(folder: Path, args: argparse.Namespace) -> dict:
    from export.dfine import (
        dfine_n_config,
        export_dfine,
        tiny_dfine_config,
        tiny_dfine_model,
    )
    from export.frames import block_frames, read_images

    size = 96 if args.quick else 640
    config = tiny_dfine_config() if args.quick else dfine_n_config()
    model = tiny_dfine_model(config, seed=0)
    params = sum(p.numel() for p in model.parameters())
    calib = read_images(args.calib, args.frames) if args.calib else block_frames(args.frames, 1, (720, 1280), 24)
    held = read_images(args.holdout, args.frames) if args.holdout else block_frames(args.frames, 2, (720, 1280), 24)
    started = time.perf_counter()
    paths = {"fp32": export_dfine(model, folder / "detector.onnx", input_size=size)}
    export_seconds = time.perf_counter() - started
    figures = int8_figures(paths, "detector", calib, held, size, folder, args)
    model_name = f"D-FINE {'tiny' if args.quick else 'N (HGNetV2-B0)'}, {params / 1e6:.2f} M parameters, {size} px"
    return {"model": model_name, "export_seconds": round(export_seconds, 1), **figures}


def bench_quality(folder: Path, args: argparse.Namespace) -> dict:
    import torch

    from edge.runtime import preprocess_crops
    from export.efficientnet import calibrate_batchnorm, efficientnet_v2_regressor
    from export.frames import block_frames
    from export.quality import export_quality_regressor

    size = 96 if args.quick else 224
    variant = "tiny" if args.quick else "s"
    model = efficientnet_v2_regressor(variant, seed=0)
    params = sum(p.numel() for p in model.parameters())
    crops = lambda n, seed: block_frames(n, seed, (260, 200), 12)
    calib, held = crops(args.frames, 3), crops(max(args.frames, 32), 4)
    calibrate_batchnorm(model, [torch.from_numpy(preprocess_crops(crops(16, 5), size))])
    with torch.no_grad():
        raw = model(torch.from_numpy(preprocess_crops(held, size))).numpy()[:, 0]
    paths = {"fp32": export_quality_regressor(model, folder / "quality.onnx", float(raw.min()), float(raw.max()), size)}
    figures = int8_figures(paths, "quality", calib, held, size, folder, args)
    name = variant.upper() if variant != "tiny" else "tiny"
    return {"model": f"EfficientNetV2-{name} regressor, {params / 1e6:.2f} M parameters, {size} px", **figures}


def int8_figures(
    paths: dict[str, Path], role: str, calib: list, held: list, size: int, folder: Path, args: argparse.Namespace
) -> dict:
    """Quantise ``paths["fp32"]`` for both INT8 targets (adding them to ``paths``), then time all
    variants interleaved and report each INT8 variant's accuracy against FP32."""
    from export.frames import detector_feeds, quality_feeds
    from export.int8 import FrameCalibrationReader, quantize_int8
    from export.report import detector_report, quality_report

    feeds, report = (detector_feeds, detector_report) if role == "detector" else (quality_feeds, quality_report)
    for target in ("tensorrt", "cpu"):
        reader = FrameCalibrationReader(calib, role, size)
        paths[f"int8-{target}"] = quantize_int8(paths["fp32"], folder / f"{role}-int8-{target}.onnx", reader, target)
    latency = interleaved_latency(paths, feeds(held[:1], size), args.threads, args.runs)
    reports = {name: report(paths["fp32"], path, held, size).metrics for name, path in paths.items() if name != "fp32"}
    return {
        "latency_ms": {k: round(v * 1e3, 2) for k, v in latency.items()},
        "speedup": {k: round(latency["fp32"] / v, 2) for k, v in latency.items() if k != "fp32"},
        "accuracy": {k: {m: round(x, 4) for m, x in v.items()} for k, v in reports.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny test models instead of D-FINE-N and EfficientNetV2-S")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (default 2, the box's)")
    parser.add_argument("--runs", type=int, default=20, help="timed batch-1 runs per model (default 20)")
    parser.add_argument("--frames", type=int, default=16, help="calibration and held-out frames (default 16)")
    parser.add_argument("--calib", type=Path, help="folder of real calibration frames for the detector")
    parser.add_argument("--holdout", type=Path, help="folder of real held-out frames for the detector")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)

    import onnxruntime

    with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
        results = {
            "machine": f"{platform.machine()}, {args.threads} threads, ONNX Runtime {onnxruntime.__version__} CPU",
            "detector": bench_detector(Path(scratch), args),
            "quality": bench_quality(Path(scratch), args),
        }
    print(f"CPU latency, FP32 vs INT8 ONNX, batch 1 ({results['machine']}; median of {args.runs} interleaved runs)")
    for role in ("detector", "quality"):
        figures = results[role]
        print(f"\n{role}: {figures['model']}")
        print(f"  {'variant':<16}{'latency ms':>12}{'FP32/INT8':>11}  accuracy vs FP32")
        print(f"  {'fp32':<16}{figures['latency_ms']['fp32']:>12.2f}{'':>11}")
        for name, accuracy in figures["accuracy"].items():
            if role == "detector":
                text = (f"matched {accuracy['matched_fraction']:.0%}, IoU {accuracy['iou_mean']:.3f}, "
                        f"score Δ {accuracy['score_delta_mean']:.4f} (max {accuracy['score_delta_max']:.3f}), "
                        f"box Δ {accuracy['box_delta_px_mean']:.1f} px (max {accuracy['box_delta_px_max']:.1f})")
            else:
                text = f"Pearson {accuracy['pearson']:.4f}, MAE {accuracy['mae']:.4f} (max {accuracy['max_abs_error']:.3f})"
            print(f"  {name:<16}{figures['latency_ms'][name]:>12.2f}{figures['speedup'][name]:>10.2f}x  {text}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
