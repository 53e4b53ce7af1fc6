"""``python -m export``: trained models to the files and model pack the edge loads.

    python -m export dfine CHECKPOINT_DIR -o engines/detector.onnx --pack engines/manifest.yaml --name detector
    python -m export quality runs/q/best.pt --range MIN MAX -o engines/quality.onnx --pack ... --name quality
    python -m export fp16 engines/detector.onnx -o engines/detector-fp16.onnx --holdout FRAMES/ --pack ... --name detector-fp16
    python -m export int8 engines/detector.onnx -o engines/detector-int8.onnx --calib FRAMES/ --holdout HELD/ ...
    python -m export report engines/detector.onnx engines/detector-int8.onnx --holdout HELD/
    python -m export register edge/bundled/quality.onnx --pack edge/bundled/manifest.yaml --name quality --source runs/q
    python -m export engine detector-fp16-trt --source detector-fp16 --pack engines/manifest.yaml [--build]
    python -m export coco-from-benchmark BENCH_DIR --stride 10 --out data/train
    python -m export train-detector --data data/train --val data/val --out runs/dfine-n [--minutes 20] [--resume]
    python -m export label-quality BENCH_DIR --teacher ocr --out labels.json
    python -m export train-quality --labels labels.json --out runs/quality [--resume] --pack ... --name quality

Each step that writes a variant can check it against FP32 on held-out frames and exits 1 when
a bound of :mod:`export.report` is missed (``--no-check`` reports without failing).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import onnx


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command, as recorded in reports
    try:
        return args.handler(args)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"export: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # LiveGuardError (ModelError) from edge/: one line too
        from edge.errors import LiveGuardError

        if isinstance(error, LiveGuardError):
            print(f"export: error: {error}", file=sys.stderr)
            return error.exit_code
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m export", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    dfine = commands.add_parser("dfine", help="a transformers D-FINE checkpoint directory to ONNX (official contract)")
    dfine.add_argument("checkpoint", nargs="?", help="transformers checkpoint directory (config.json + weights)")
    dfine.add_argument("--random", choices=["tiny", "n"], help="a randomly initialised model instead (smoke tests)")
    dfine.add_argument("-o", "--output", required=True, type=Path)
    dfine.add_argument("--input-size", type=int, default=640)
    dfine.add_argument("--opset", type=int, default=17, choices=[16, 17])
    dfine.add_argument("--top-k", type=int, help="detections per frame in the graph (default: the model's queries)")
    dfine.add_argument("--no-simplify", action="store_true")
    _pack_options(dfine)
    dfine.set_defaults(handler=_dfine)

    quality = commands.add_parser("quality", help="an EfficientNetV2 quality regressor state dict to ONNX")
    quality.add_argument("weights", nargs="?", type=Path, help="state_dict file (torch.save(model.state_dict()))")
    quality.add_argument("--random", action="store_true", help="random initialisation instead (smoke tests)")
    quality.add_argument("--variant", choices=["b0", "tiny", "s", "m"], default="b0",
                         help="b0 (the student train-quality makes, default), or torchvision's s / m")
    quality.add_argument("--range", nargs=2, type=float, metavar=("MIN", "MAX"), required=True,
                         help="raw scores mapped to 0 and 1 (e.g. the regressor's min/max on the training set)")
    quality.add_argument("--input-size", type=int, default=224)
    quality.add_argument("-o", "--output", required=True, type=Path)
    _pack_options(quality)
    quality.set_defaults(handler=_quality)

    label = commands.add_parser("label-quality", help="pseudo-labels of a benchmark's product crops by a teacher (scores, brisque, ocr)")
    label.add_argument("frames", type=Path, help="a dataset of tools/make_benchmark.py --coco-images (or its coco/ folder)")
    label.add_argument("--teacher", choices=["scores", "brisque", "ocr"], help="omit with --crops-only")
    label.add_argument("--out", required=True, type=Path, help="the labels JSON (crops go to OUT_crops/ beside it)")
    label.add_argument("--crops", type=Path, help="folder for the crop PNGs (default: OUT_crops beside --out)")
    label.add_argument("--crops-only", action="store_true", help="only cut the crops (to score them elsewhere, then --teacher scores)")
    label.add_argument("--stride", type=int, default=1, help="every Nth annotated frame (default 1)")
    label.add_argument("--limit", type=int, help="at most this many crops")
    label.add_argument("--scores", type=Path, help="scores teacher: CSV or JSON of crop -> score (e.g. HyperIQA)")
    label.add_argument("--scores-range", nargs=2, type=float, metavar=("LOW", "HIGH"), help="scores mapped to 0 and 1 (default min-max)")
    label.add_argument("--lower-is-better", action="store_true", help="scores teacher: a low score is a good crop")
    label.add_argument("--brisque-models", type=Path, help="folder of brisque_model_live.yml and brisque_range_live.yml")
    label.add_argument("--min-confidence", type=float, default=0.5, help="ocr teacher: lines below are dropped (the edge's ocr default)")
    label.add_argument("--saturation", type=int, default=24, help="ocr teacher without truth text: characters that count as fully read")
    label.add_argument("--no-truth", action="store_true", help="ocr teacher: ignore the truth text, count characters read")
    label.add_argument("--threads", type=int, default=1)
    label.set_defaults(handler=_label_quality)

    train = commands.add_parser("train-quality", help="distil an EfficientNetV2 quality regressor from labels, export its ONNX")
    train.add_argument("--labels", required=True, type=Path, help="a labels file of label-quality")
    train.add_argument("--out", required=True, type=Path, help="run folder: last.pt, best.pt, quality.onnx, report.json")
    train.add_argument("--variant", choices=["b0", "tiny", "s", "m"], default="b0", help="student (default b0: ONNX ~23 MB)")
    train.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    train.add_argument("--init", type=Path, help="state dict to start from (tensors matching by name and shape)")
    for flag, kind, default in (("epochs", int, 20), ("batch-size", int, 16), ("lr", float, 5e-4), ("weight-decay", float, 1e-4),
                                ("dropout", float, 0.3), ("input-size", int, 224), ("val-fraction", float, 0.2),
                                ("early-stopping", int, 5), ("seed", int, 0), ("threads", int, None), ("workers", int, 0),
                                ("save-every", int, 100), ("max-steps", int, None), ("bn-batches", int, 32)):
        train.add_argument(f"--{flag}", type=kind, default=default, help=f"default {default}")
    train.add_argument("--no-augment", action="store_true", help="no flip, brightness/contrast or noise")
    train.add_argument("--device", default="cpu", help="cpu or cuda (FP16 mixed precision on cuda)")
    _pack_options(train)
    train.set_defaults(handler=_train_quality)

    fp16 = commands.add_parser("fp16", help="FP16 variant (normalisation, post-processing and I/O kept FP32)")
    fp16.add_argument("source", type=Path, help="the FP32 ONNX")
    fp16.add_argument("-o", "--output", required=True, type=Path)
    _check_options(fp16)
    _pack_options(fp16)
    fp16.set_defaults(handler=_fp16)

    int8 = commands.add_parser("int8", help="static Q/DQ INT8 variant calibrated on a folder of frames")
    int8.add_argument("source", type=Path, help="the FP32 ONNX")
    int8.add_argument("-o", "--output", required=True, type=Path)
    int8.add_argument("--calib", required=True, type=Path, help="folder of calibration frames (detector) or crops")
    int8.add_argument("--calib-limit", type=int, default=64, help="frames read from --calib (default 64)")
    int8.add_argument("--target", choices=["tensorrt", "cpu"], default="tensorrt",
                      help="tensorrt: symmetric INT8 (explicit Q/DQ engines); cpu: UINT8 activations (fast on x86)")
    int8.add_argument("--method", choices=["minmax", "entropy", "percentile"], default="minmax")
    _check_options(int8)
    _pack_options(int8)
    int8.set_defaults(handler=_int8)

    report = commands.add_parser("report", help="accuracy of a variant against its FP32 ONNX on held-out frames")
    report.add_argument("reference", type=Path)
    report.add_argument("variant", type=Path)
    _check_options(report, required=True)
    report.set_defaults(handler=_report)

    register = commands.add_parser("register", help="list an ONNX file that already sits beside a model pack in it")
    register.add_argument("model", type=Path, help="the ONNX file (in the pack's folder)")
    register.add_argument("--source", help="where it came from (a run folder, a URL), kept as provenance")
    register.add_argument("--pack", type=Path, required=True, help="the model pack manifest")
    register.add_argument("--name", help="its name in the pack (default: the file's stem)")
    register.set_defaults(handler=_register_file)

    engine = commands.add_parser("engine", help="declare a TensorRT engine in the pack (built on the box), or build it")
    engine.add_argument("name", help="the engine's name in the pack")
    engine.add_argument("--source", required=True, help="name of the ONNX entry it is built from")
    engine.add_argument("--pack", type=Path, default=Path("engines/manifest.yaml"))
    engine.add_argument("--precision", choices=["fp32", "fp16", "int8"], help="default: the source's")
    engine.add_argument("--batch", nargs=3, type=int, metavar=("MIN", "OPT", "MAX"), default=[1, 4, 8])
    engine.add_argument("--build", action="store_true", help="build it now (needs an NVIDIA GPU and TensorRT)")
    engine.add_argument("--workspace-mb", type=int, default=2048)
    engine.set_defaults(handler=_engine)

    from export.detector_cli import add_detector_commands  # train-detector, coco-from-benchmark

    add_detector_commands(commands)
    return parser


def _pack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pack", type=Path, help="also list the output in this model pack manifest")
    parser.add_argument("--name", help="its name in the pack (default: the file's stem)")


def _check_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument("--holdout", type=Path, required=required, help="folder of held-out frames or crops")
    parser.add_argument("--holdout-limit", type=int, default=64)
    parser.add_argument("--report-json", type=Path, help="also write the accuracy report as JSON")
    parser.add_argument("--no-check", action="store_true", help="report, but do not fail on a missed bound")


def _role(path: Path) -> str:
    inputs = {value.name for value in onnx.load(str(path), load_external_data=False).graph.input}
    return "detector" if "orig_target_sizes" in inputs else "quality"


def _input_size(path: Path) -> int:
    from edge.runtime import graph_inputs, load_onnx

    images = next(t for t in graph_inputs(load_onnx(path)) if t.name != "orig_target_sizes")
    side = images.shape[-1] if images.shape else None
    if not isinstance(side, int):
        raise ValueError(f"{path}: input '{images.name}' has no fixed side")
    return side


def _register(args: argparse.Namespace, path: Path, role: str, provenance: dict[str, Any]) -> None:
    if not args.pack:
        return
    from edge.runtime import ModelPack, onnx_entry

    pack = ModelPack.load_or_new(args.pack)
    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    entry = onnx_entry(pack, args.name or path.stem, role, path, {**provenance, "created": created})  # type: ignore[arg-type]
    pack.put(entry)
    pack.save()
    print(f"{args.pack}: {entry.name} ({entry.role}, {entry.precision}, sha256 {entry.sha256[:12]}…)")  # type: ignore[index]


def _register_file(args: argparse.Namespace) -> int:
    if not args.model.is_file():
        raise FileNotFoundError(f"{args.model}: no such model file")
    role = _role(args.model)
    _register(args, args.model, role, {"exported_by": "export.register", "source": args.source or str(args.model),
                                      **_versions()})
    return 0


def _versions() -> dict[str, str]:
    import onnxruntime
    import torch

    out = {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}
    try:
        import transformers

        out["transformers"] = transformers.__version__
    except ImportError:
        pass
    return out


def _dfine(args: argparse.Namespace) -> int:
    from export.dfine import dfine_n_config, export_dfine, load_dfine, tiny_dfine_model

    if bool(args.checkpoint) == bool(args.random):
        raise ValueError("give a checkpoint directory or --random, not both or neither")
    model = load_dfine(args.checkpoint) if args.checkpoint else (
        tiny_dfine_model() if args.random == "tiny" else tiny_dfine_model(dfine_n_config()))
    path = export_dfine(model, args.output, args.input_size, args.opset, args.top_k, simplify=not args.no_simplify)
    print(f"{path}: D-FINE, opset {args.opset}, {args.input_size}px, dynamic batch")
    source = str(args.checkpoint) if args.checkpoint else f"random {args.random}"
    _register(args, path, "detector", {"exported_by": "export.dfine", "source": source, **_versions()})
    return 0


def _quality(args: argparse.Namespace) -> int:
    from export.quality import export_quality_regressor
    from export.student import load_student, student_regressor

    if bool(args.weights) == bool(args.random):
        raise ValueError("give a weights file or --random, not both or neither")
    model = load_student(args.weights, args.variant) if args.weights else student_regressor(args.variant)
    low, high = args.range
    path = export_quality_regressor(model, args.output, low, high, args.input_size)
    print(f"{path}: EfficientNetV2-{args.variant} regressor, range [{low}, {high}] in metadata")
    source = str(args.weights) if args.weights else "random"
    _register(args, path, "quality", {"exported_by": "export.efficientnet", "variant": args.variant,
                                      "source": source, **_versions()})
    return 0


def _label_quality(args: argparse.Namespace) -> int:
    from export.labels import label_dataset
    from export.teachers import make_teacher

    if bool(args.teacher) == bool(args.crops_only):
        raise ValueError("give --teacher or --crops-only, not both or neither")
    teacher = None if args.crops_only else make_teacher(
        args.teacher, scores=args.scores, score_range=tuple(args.scores_range) if args.scores_range else None,
        lower_is_better=args.lower_is_better, brisque_models=args.brisque_models, min_confidence=args.min_confidence,
        saturation=args.saturation, no_truth=args.no_truth, threads=args.threads)
    command = "python -m export " + shlex.join(args.argv)
    document = label_dataset(args.frames, teacher, args.out, crops_dir=args.crops, stride=args.stride, limit=args.limit,
                             command=command, log=lambda m: print(m, file=sys.stderr))
    labels = [item["label"] for item in document["items"] if "label" in item]
    spread = f", labels {min(labels):.3f} .. {max(labels):.3f} (mean {sum(labels) / len(labels):.3f})" if labels else ""
    print(f"{args.out}: {document['count']} crops of {document['videos']} videos in {document['crops_dir']}"
          f"{spread}, {document['seconds']} s")
    return 0


def _train_quality(args: argparse.Namespace) -> int:
    from export.train_quality import TrainConfig, train_quality

    config = TrainConfig(
        variant=args.variant, input_size=args.input_size, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, dropout=args.dropout, val_fraction=args.val_fraction, early_stopping=args.early_stopping,
        augment=not args.no_augment, seed=args.seed, device=args.device, threads=args.threads, workers=args.workers,
        save_every=args.save_every, max_steps=args.max_steps, bn_batches=args.bn_batches)
    command = "python -m export " + shlex.join(args.argv)
    report = train_quality(args.labels, args.out, config, resume=args.resume, init=args.init, command=command,
                           log=lambda m: print(m, file=sys.stderr))
    figures = report["validation"]
    print(json.dumps({"best_epoch": report["best_epoch"], **figures, "onnx": report["onnx"]["path"],
                      "onnx_mb": report["onnx"]["mb"], "report": str(args.out / "report.json")}))
    path = Path(report["onnx"]["path"])
    _register(args, path, "quality", {"exported_by": "export.train_quality", "variant": f"efficientnetv2-{args.variant}",
                                      "source": str(args.labels), "teacher": (report["teacher"] or {}).get("name"),
                                      "validation": figures, **_versions()})
    return 0


def _fp16(args: argparse.Namespace) -> int:
    from export.fp16 import convert_to_fp16

    path = convert_to_fp16(args.source, args.output)
    print(f"{path}: FP16 (normalisation, post-processing and I/O in FP32)")
    status = _check(args, args.source, path)
    _register(args, path, _role(path), {"exported_by": "export.fp16", "source_file": str(args.source)})
    return status


def _int8(args: argparse.Namespace) -> int:
    from export.int8 import FrameCalibrationReader, quantize_int8

    role = _role(args.source)
    reader = FrameCalibrationReader.from_folder(args.calib, role, _input_size(args.source), args.calib_limit)
    path = quantize_int8(args.source, args.output, reader, args.target, args.method)
    print(f"{path}: INT8 Q/DQ for {args.target}, calibrated on {reader.count} images of {args.calib} ({args.method})")
    status = _check(args, args.source, path)
    _register(args, path, role, {"exported_by": "export.int8", "source_file": str(args.source), "target": args.target,
                                 "calibration": {"folder": str(args.calib), "images": reader.count, "method": args.method}})
    return status


def _report(args: argparse.Namespace) -> int:
    return _check(args, args.reference, args.variant)


def _check(args: argparse.Namespace, reference: Path, variant: Path) -> int:
    if not args.holdout:
        return 0
    from export.frames import read_images
    from export.report import detector_report, quality_report

    images = read_images(args.holdout, args.holdout_limit)
    size = _input_size(reference)
    make = detector_report if _role(reference) == "detector" else quality_report
    report = make(reference, variant, images, size)
    print(report.format())
    if args.report_json:
        report.save(args.report_json)
    return 1 if report.violations() and not args.no_check else 0


def _engine(args: argparse.Namespace) -> int:
    from edge.runtime import BatchRange
    from export.tensorrt_build import build_declared, declare_engine

    low, opt, high = args.batch
    pack = declare_engine(args.pack, args.name, args.source, args.precision, BatchRange(min=low, opt=opt, max=high))
    entry = pack.get(args.name)
    print(f"{args.pack}: engine {entry.name} ({entry.precision}, batch {low}..{high}) from {entry.source}")
    if args.build:
        result = build_declared(args.pack, args.name, args.workspace_mb)
        built = result.entry
        print(json.dumps({"built": built.file, "seconds": round(result.seconds, 1),
                          "tensorrt": built.tensorrt.model_dump() if built.tensorrt else None}))
    else:
        print("build it on the box: liveguard engines build --pack", args.pack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
