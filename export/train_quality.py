"""Distil the Strategy B quality regressor from pseudo-labels and export it (paper §3.3.3, §3.7.2).

``train_quality(labels, out_dir)`` trains an EfficientNetV2 student (:mod:`export.student`) on a
labels file (:mod:`export.labels`) with Table 2's recipe by default: Adam, lr 5e-4, weight decay
1e-4, batch 16, 20 epochs, MSE, ReduceLROnPlateau (factor 0.5, patience 3, min lr 1e-5) and early
stopping after 5 epochs without a better validation MSE, input 224, dropout 0.3, flips,
brightness/contrast and noise; split 80/20 by video. Mixed precision (FP16) runs on CUDA only.

``out_dir`` receives ``last.pt`` (everything to resume, also mid-epoch), ``best.pt`` (the best
validation weights), ``quality.onnx`` (the raw-score range, the regressor's min/max on the
training crops, in its metadata, as the edge reads it) and ``report.json`` (Table 4's figures).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from export.labels import QualityLabel, read_labels
from export.quality_data import Augmentation, CropSet, epoch_batches, regression_metrics, split_by_video
from export.student import DESCRIPTIONS, parameter_count, student_regressor

VARIANT_KEY = "liveguard.quality.variant"
TEACHER_KEY = "liveguard.quality.teacher"
ONNX_LIMIT_BYTES = 25 * 1024 * 1024  # what the box's model pack allows a quality regressor


@dataclass(frozen=True)
class TrainConfig:
    """The recipe; defaults are the paper's Table 2 (except the backbone, see :mod:`export.student`)."""

    variant: str = "b0"
    input_size: int = 224
    epochs: int = 20
    batch_size: int = 16
    lr: float = 5e-4
    weight_decay: float = 1e-4
    dropout: float = 0.3
    val_fraction: float = 0.2
    plateau_factor: float = 0.5
    plateau_patience: int = 3
    min_lr: float = 1e-5
    early_stopping: int = 5
    augment: bool = True
    seed: int = 0
    device: str = "cpu"
    amp: bool = True  # FP16 autocast + grad scaling, where the device is CUDA
    threads: int | None = None
    workers: int = 0
    save_every: int = 100  # steps between mid-epoch checkpoints
    bn_batches: int = 32  # precise BatchNorm statistics on this many training batches before each validation (0: off)
    max_steps: int | None = None  # batches per epoch at most (smoke runs)


def train_quality(
    labels_path: str | Path, out_dir: str | Path, config: TrainConfig = TrainConfig(), *, resume: bool = False,
    init: str | Path | None = None, command: str = "", log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train (or resume), export ``quality.onnx`` and write ``report.json``; returns the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    labels, header = read_labels(labels_path)
    train, val = split_by_video(labels, config.val_fraction, config.seed)
    device = torch.device(config.device)
    amp = config.amp and device.type == "cuda"
    model = student_regressor(config.variant, config.dropout, seed=config.seed).to(device)
    _start_head(model, float(np.mean([x.label for x in train])))
    if init:
        log(_load_init(model, init))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.plateau_factor, patience=config.plateau_patience, min_lr=config.min_lr)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    state = {"epoch": 1, "step": 0, "loss_sum": 0.0, "seen": 0, "history": [], "best": None, "bad_epochs": 0,
             "stopped": None, "seconds": 0.0}
    last = out / "last.pt"
    if resume and last.is_file():
        state = _resume(last, model, optimizer, scheduler, scaler, config, train, val)
        log(f"resumed {last}: epoch {state['epoch']}, step {state['step']}")
    elif resume:
        log(f"{last}: nothing to resume, starting afresh")
    elif last.is_file():
        raise ValueError(f"{last}: a run is there already; --resume it or choose a new --out")

    augment = Augmentation() if config.augment else None
    train_set, plain_train, val_set = (CropSet(train, config.input_size, augment, config.seed),
                                       CropSet(train, config.input_size), CropSet(val, config.input_size))
    loss_fn = nn.MSELoss()
    split = {"train_videos": sorted({x.video for x in train}), "val_videos": sorted({x.video for x in val})}

    def save(path: Path, payload: dict[str, Any]) -> None:
        tmp = path.with_suffix(".tmp")
        torch.save(payload, tmp)
        os.replace(tmp, path)

    def checkpoint() -> None:
        save(last, {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(), "state": state, "config": dataclasses.asdict(config), "split": split,
                    "rng": _rng_state()})

    while state["stopped"] is None and state["epoch"] <= config.epochs:
        epoch, started = state["epoch"], time.perf_counter()
        batches = epoch_batches(len(train_set), config.batch_size, epoch, config.seed)[: config.max_steps]
        model.train()
        loader = torch.utils.data.DataLoader(train_set, batch_sampler=batches[state["step"]:], num_workers=config.workers,
                                             generator=torch.Generator().manual_seed(config.seed))  # leaves the global RNG be
        for images, targets in loader:
            images, targets = images.to(device), targets.to(device)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                loss = loss_fn(model(images).squeeze(1).float(), targets)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            state["step"] += 1
            state["loss_sum"] += float(loss.detach()) * len(targets)
            state["seen"] += len(targets)
            if config.save_every and state["step"] % config.save_every == 0 and state["step"] < len(batches):
                state["seconds"] += time.perf_counter() - started
                started = time.perf_counter()
                checkpoint()
                log(f"epoch {epoch}: step {state['step']}/{len(batches)}, train loss {state['loss_sum'] / state['seen']:.5f}")
        if config.bn_batches:
            precise_batchnorm(model, plain_train, config.batch_size * config.bn_batches, config.batch_size, config.seed, device)
        predicted = predict(model, val_set, config.batch_size, device)
        metrics = regression_metrics(predicted, np.array([x.label for x in val]))
        scheduler.step(metrics["mse"])
        seconds = state["seconds"] + time.perf_counter() - started
        row = {"epoch": epoch, "train_loss": state["loss_sum"] / max(state["seen"], 1), **{f"val_{k}": v for k, v in metrics.items()},
               "lr": optimizer.param_groups[0]["lr"], "steps": len(batches), "seconds": round(seconds, 1)}
        state["history"].append(row)
        if state["best"] is None or metrics["mse"] < state["best"]["val_mse"]:
            state["best"], state["bad_epochs"] = row, 0
            save(out / "best.pt", {"state_dict": model.state_dict(), "variant": config.variant, "epoch": epoch,
                                   "input_size": config.input_size, "dropout": config.dropout, "metrics": metrics})
        else:
            state["bad_epochs"] += 1
        if state["bad_epochs"] >= config.early_stopping:
            state["stopped"] = f"early stopping: no better validation MSE in {config.early_stopping} epochs"
        state.update(epoch=epoch + 1, step=0, loss_sum=0.0, seen=0, seconds=0.0)
        if state["stopped"] is None and epoch == config.epochs:
            state["stopped"] = f"{config.epochs} epochs"
        checkpoint()
        log(f"epoch {epoch}: train loss {row['train_loss']:.5f}, val MSE {metrics['mse']:.5f} MAE {metrics['mae']:.4f} "
            f"Pearson {_fmt(metrics['pearson'])}, lr {row['lr']:.2e}, {seconds:.0f} s")

    best = torch.load(out / "best.pt", map_location=device, weights_only=True)
    model.load_state_dict(best["state_dict"])
    raw_train = predict(model, plain_train, config.batch_size, device)
    onnx_info = export_student(model.cpu(), out / "quality.onnx", raw_train, config, header.get("teacher"), val_set)
    report = {
        "command": command,
        "labels": str(labels_path),
        "teacher": header.get("teacher"),
        "variant": config.variant,
        "model": DESCRIPTIONS[config.variant],
        "parameters": parameter_count(model),
        "recipe": {**dataclasses.asdict(config), "optimizer": "Adam", "loss": "MSE", "scheduler": "ReduceLROnPlateau",
                   "amp": amp, "init": str(init) if init else "random (no pretrained weights offline)"},
        "split": {**split, "train_crops": len(train), "val_crops": len(val)},
        "history": state["history"],
        "best_epoch": state["best"]["epoch"],
        "stopped": state["stopped"],
        "validation": {k[4:]: state["best"][k] for k in ("val_mse", "val_mae", "val_rmse", "val_pearson")},
        "seconds_per_epoch": round(float(np.mean([r["seconds"] for r in state["history"]])), 1),
        "onnx": onnx_info,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def predict(model: nn.Module, crops: CropSet, batch_size: int, device: torch.device) -> np.ndarray:
    """Raw outputs on ``crops`` (eval mode, no augmentation); the model's mode is restored."""
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(crops), batch_size):
            images = torch.stack([crops[i][0] for i in range(start, min(start + batch_size, len(crops)))])
            out.append(model(images.to(device)).squeeze(1).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def precise_batchnorm(model: nn.Module, crops: CropSet, count: int, batch_size: int, seed: int, device: torch.device) -> None:
    """Set BatchNorm running statistics to their average over ``count`` seeded training crops (no augmentation,
    dropout and stochastic depth off). The running averages lag the weights for channels of small variance (they
    start at 1), which compresses the eval-mode outputs of short runs; the statistics of the current weights do not."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    order = np.random.default_rng((seed, 0xB4)).permutation(len(crops))[:count]
    saved = [m.momentum for m in norms]
    model.eval()
    for module in norms:
        module.reset_running_stats()
        module.momentum = None  # a cumulative average over the batches
        module.train()
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            if len(chunk) > 1:
                model(torch.stack([crops[int(i)][0] for i in chunk]).to(device))
    for module, momentum in zip(norms, saved):
        module.momentum = momentum
    model.train()


def export_student(model: nn.Module, path: Path, raw_train: np.ndarray, config: TrainConfig, teacher: Any,
                   check: CropSet) -> dict[str, Any]:
    """``quality.onnx`` with the training range and the variant in its metadata, checked in the edge runtime."""
    from edge.config import QualityConfig
    from edge.score import create_quality_regressor
    from export.quality import export_quality_regressor

    low, high = float(np.min(raw_train)), float(np.max(raw_train))
    if not high - low > 1e-6:  # a constant regressor: a range around it, so the file still loads
        low, high = low - 1e-3, high + 1e-3
    export_quality_regressor(model, path, low, high, config.input_size)
    graph = onnx.load(str(path))
    teacher_name = teacher.get("name") if isinstance(teacher, dict) else None
    for key, value in ((VARIANT_KEY, f"efficientnetv2-{config.variant}"), (TEACHER_KEY, str(teacher_name))):
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(path))
    size = path.stat().st_size
    sample = [check.image(i) for i in range(min(len(check), 8))]
    regressor = create_quality_regressor(QualityConfig(model=path, input_size=config.input_size))
    try:
        edge_scores = regressor.predict(sample)
    finally:
        regressor.close()
    with torch.no_grad():
        images = torch.stack([check[i][0] for i in range(len(sample))])
        torch_raw = model.eval()(images).squeeze(1).numpy()
    torch_scores = np.clip((torch_raw - low) / (high - low), 0, 1)
    return {"path": str(path), "bytes": size, "mb": round(size / 2**20, 2), "under_25_mb": size < ONNX_LIMIT_BYTES,
            "raw_range": [low, high], "edge_vs_torch_max_abs": float(np.max(np.abs(edge_scores - torch_scores)))}


def _resume(last: Path, model: nn.Module, optimizer: Any, scheduler: Any, scaler: Any, config: TrainConfig,
            train: list[QualityLabel], val: list[QualityLabel]) -> dict[str, Any]:
    saved = torch.load(last, map_location="cpu", weights_only=False)
    before = saved["config"]
    for key in ("variant", "input_size", "batch_size", "seed", "val_fraction"):
        if before.get(key) != getattr(config, key):
            raise ValueError(f"{last}: trained with {key}={before.get(key)!r}, asked {getattr(config, key)!r}; use a new --out")
    if saved["split"]["val_videos"] != sorted({x.video for x in val}):
        raise ValueError(f"{last}: the labels' videos differ from the checkpoint's split; use a new --out")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    scaler.load_state_dict(saved["scaler"])
    _set_rng_state(saved["rng"])
    state = saved["state"]
    if state["stopped"] and state["stopped"].endswith(" epochs") and config.epochs > before["epochs"]:
        state["stopped"] = None  # more epochs asked than were run
    return state


def _start_head(model: nn.Module, mean_label: float) -> None:
    """A head that starts at the mean label with small weights: torchvision's default (uniform ±1 for one
    output) starts raw scores several units from [0, 1], an MSE in the tens that takes epochs to undo."""
    head = model.classifier[-1]
    nn.init.normal_(head.weight, std=0.01)
    nn.init.constant_(head.bias, mean_label)


def _load_init(model: nn.Module, path: str | Path) -> str:
    """Start from a state dict (e.g. ImageNet weights converted to torchvision's names): the tensors
    whose names and shapes match are loaded, the rest (the head) keep their initialisation."""
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    state = state.get("state_dict", state.get("model", state)) if isinstance(state, dict) else state
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not matched:
        raise ValueError(f"{path}: no tensor matches the student's names and shapes")
    model.load_state_dict(matched, strict=False)
    return f"{path}: {len(matched)} of {len(own)} tensors loaded"


def _rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
