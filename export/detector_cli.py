"""``python -m export train-detector``, ``coco-from-benchmark`` and ``eval-detector``: the detector's training commands.

    python -m export coco-from-benchmark bench-seed0/ --stride 10 --out data/train
    python -m export train-detector --data data/train --val data/val --out runs/dfine-n --minutes 20
    python -m export eval-detector runs/dfine-n/detector.onnx runs/dfine-n/detector-int8.onnx --data data/test

Options are :class:`export.train_detector.Recipe`'s; torch is imported only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any


def add_detector_commands(commands: Any) -> None:
    """Add the three subcommands to ``python -m export``'s subparsers."""
    convert = commands.add_parser("coco-from-benchmark", help="COCO frames + boxes sampled from tools/make_benchmark.py clips")
    convert.add_argument("benchmark", type=Path, help="the generator's --out folder (clips/ and coco/annotations.json)")
    convert.add_argument("--stride", type=int, default=10, help="every Nth frame of each clip (default 10)")
    convert.add_argument("--out", type=Path, required=True, help="folder for annotations.json and frames/")
    convert.set_defaults(handler=_coco_from_benchmark)

    evaluate = commands.add_parser("eval-detector", help="COCO mAP50:95 / AP50 / AP75 / AR100 of detector ONNX files on COCO frames")
    evaluate.add_argument("models", nargs="+", type=Path, help="detector ONNX files (FP32, FP16, INT8 variants)")
    evaluate.add_argument("--data", required=True, help="COCO json, or a folder with annotations.json")
    evaluate.add_argument("--json", type=Path, help="also write the figures to this file")
    evaluate.set_defaults(handler=_eval_detector)

    train = commands.add_parser("train-detector", help="train D-FINE on COCO frames (from scratch by default), export the best EMA to ONNX")
    train.add_argument("--data", required=True, help="training COCO json, or a folder with annotations.json")
    train.add_argument("--val", required=True, help="validation COCO json or folder (early stopping and the report)")
    train.add_argument("--out", required=True, type=Path, help="run folder: checkpoints/, best/, detector.onnx, report.json")
    train.add_argument("--variant", choices=["n", "s", "m", "tiny"], default="n", help="D-FINE size (default n; ignored with --init)")
    train.add_argument("--init", help="start from this transformers D-FINE checkpoint directory instead of scratch")
    train.add_argument("--input-size", type=int, default=320, help="square training and export side (default 320)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--batch", type=int, default=8)
    train.add_argument("--epochs", type=int, default=132, help="epochs when --steps is not given (default 132, Table 1)")
    train.add_argument("--steps", type=int, help="optimiser steps in all")
    train.add_argument("--minutes", type=float, help="time budget of the whole run (resumed parts included)")
    train.add_argument("--lr", type=float, default=2.5e-4)
    train.add_argument("--backbone-lr-scale", type=float,
                       help="backbone rate = lr × this (default 1 from scratch, 0.1 with --init as Table 1)")
    train.add_argument("--weight-decay", type=float, default=1.25e-4)
    train.add_argument("--warmup-steps", type=int, help="linear warm-up (default 100 from scratch, 500 with --init)")
    train.add_argument("--milestones", type=int, nargs="*", default=[], help="steps where the rate drops by --gamma (default none)")
    train.add_argument("--gamma", type=float, default=0.1)
    train.add_argument("--ema-decay", type=float, help="default 0.999 from scratch, 0.9999 with --init")
    train.add_argument("--ema-warmup", type=int, help="EMA decay ramp in steps (default 100 from scratch, 1000 with --init)")
    train.add_argument("--clip-grad", type=float, default=0.1, help="gradient norm clip (0: none)")
    train.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA (never used on CPU)")
    train.add_argument("--queries", type=int, default=300)
    train.add_argument("--denoising", type=int, default=100, help="denoising queries (0: off, faster)")
    train.add_argument("--stop-augment", type=float, default=120 / 132,
                       help="fraction of the run after which zoom-out, IoU crop and photometric stop (Table 1: 120/132)")
    train.add_argument("--no-augment", action="store_true", help="no augmentation at all (debugging)")
    train.add_argument("--no-domain-randomisation", action="store_true",
                       help="the paper's augmentations only: no textures, patches, colour casts, blur, noise, grey, JPEG")
    train.add_argument("--eval-every", type=int, help="steps between evaluations (default one epoch)")
    train.add_argument("--patience", type=int, default=10, help="evaluations without a better mAP50:95 before stopping")
    train.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (and one at the end)")
    train.add_argument("--resume", action="store_true", help="continue OUT/checkpoints/last.pt (same options)")
    train.add_argument("--no-export", action="store_true", help="train and report, no ONNX")
    train.add_argument("--threads", type=int, help="torch CPU threads (default torch's)")
    train.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda where it is available (AMP there)")
    train.set_defaults(handler=_train_detector)


def _coco_from_benchmark(args: argparse.Namespace) -> int:
    from export.coco import coco_from_benchmark, load_coco

    path = coco_from_benchmark(args.benchmark, args.out, args.stride)
    data = load_coco(path)
    boxed = sum(1 for s in data.samples if len(s.boxes))
    print(f"{path}: {len(data.samples)} frames ({boxed} with a box) every {args.stride} frames of {args.benchmark}")
    return 0


def _eval_detector(args: argparse.Namespace) -> int:
    from export.coco import load_coco
    from export.detector_eval import evaluate_onnx

    data = load_coco(args.data)
    figures = {str(path): evaluate_onnx(path, data) for path in args.models}
    for path, row in figures.items():
        print(json.dumps({"model": path, **row}))
    if args.json:
        args.json.write_text(json.dumps({"data": str(data.source), "models": figures}, indent=1) + "\n")
    return 0


def _train_detector(args: argparse.Namespace) -> int:
    import torch

    from export.augment import AugmentOptions
    from export.train_detector import Recipe, train_detector

    if args.threads:
        torch.set_num_threads(args.threads)
    augment = AugmentOptions.none() if args.no_augment else AugmentOptions()
    if args.no_domain_randomisation and not args.no_augment:
        augment = AugmentOptions(texture_fill=False, colour_cast=0, blur=0, noise=0, jpeg=0, patches=0, gray=0)
    recipe = Recipe(
        data=str(args.data), val=str(args.val), out=str(args.out), variant=args.variant, input_size=args.input_size,
        init=args.init, seed=args.seed, batch=args.batch, epochs=args.epochs, steps=args.steps, minutes=args.minutes,
        lr=args.lr, backbone_lr_scale=args.backbone_lr_scale, weight_decay=args.weight_decay, warmup_steps=args.warmup_steps,
        milestones=tuple(args.milestones), gamma=args.gamma, ema_decay=args.ema_decay, ema_warmup=args.ema_warmup,
        clip_grad=args.clip_grad, amp=not args.no_amp, queries=args.queries, denoising=args.denoising,
        stop_augment=args.stop_augment, eval_every=args.eval_every, patience=args.patience,
        checkpoint_every=args.checkpoint_every, augment=augment, device=args.device,
    )
    started = time.perf_counter()
    result = train_detector(recipe, resume=args.resume, command=_command(args), log=lambda m: print(m, file=sys.stderr, flush=True),
                            export=not args.no_export)
    summary = {"report": str(result.out / "report.json"), "onnx": str(result.onnx) if result.onnx else None,
               "steps": result.step, **result.report["metrics"], "wall_seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary))
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line as typed when this process is ``python -m export train-detector``; otherwise (called
    through :func:`export.__main__.main`) the equivalent command with every option spelled out."""
    if sys.argv[1:2] == ["train-detector"]:
        return shlex.join(["python", "-m", "export", *sys.argv[1:]])
    words = ["python", "-m", "export", "train-detector"]
    for key, value in vars(args).items():
        if key in ("command", "handler") or value is None or value is False or value == []:
            continue
        words.append("--" + key.replace("_", "-"))
        if value is not True:
            words += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return shlex.join(words)
