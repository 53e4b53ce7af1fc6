"""Train the product detector (``transformers`` D-FINE) on COCO-format frames, then export it for the edge.

    python -m export train-detector --data train/ --val val/ --out runs/dfine-n [--minutes 20] [--resume]

The recipe is the paper's (§3.7.1, Table 1: AdamW, weight decay 1.25e-4, linear warm-up then
MultiStepLR, EMA, AMP on CUDA, the D-FINE loss weights, PhotometricDistort / RandomZoomOut /
RandomIoUCrop / flip, early stopping on validation COCO mAP50:95), with the from-scratch settings of
shared/notes/dfine-training.md as defaults when no ``--init`` checkpoint is given (:class:`Recipe`).
``OUT/checkpoints/last.pt`` holds everything a resumed run needs; ``OUT/best/`` the best EMA weights
(a ``transformers`` checkpoint), exported at the end to ``OUT/detector.onnx`` through
:func:`export.dfine.export_dfine`, with ``OUT/report.json`` (Table 3's metrics and how they were made).
"""

from __future__ import annotations

import dataclasses
import json
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from export.augment import AugmentOptions, augment
from export.coco import CocoSample, load_coco
from export.detector_eval import evaluate_detector, export_detector
from export.detector_model import ModelEMA, detector_config, new_detector, parameter_groups, pretrained_detector

CHECKPOINT = "checkpoints/last.pt"
BEST = "best"
ONNX_NAME = "detector.onnx"
# Options that must not change when a run is resumed (the budget, patience and logging may).
FIXED_ON_RESUME = ("variant", "input_size", "init", "seed", "batch", "lr", "backbone_lr_scale", "weight_decay",
                   "warmup_steps", "milestones", "gamma", "ema_decay", "ema_warmup", "clip_grad", "queries",
                   "denoising", "stop_augment", "augment", "data", "val")


@dataclass(frozen=True)
class Recipe:
    """Training options. ``None`` means the default of the start: from scratch (notes) or ``init`` (paper).

    ===================  ===============  ==================  =================================
    option               from scratch     with ``init``       source
    ===================  ===============  ==================  =================================
    backbone_lr_scale    1.0              0.1                 notes; Table 1 (2.5e-5 / 2.5e-4)
    warmup_steps         100              500                 notes; Table 1
    ema_decay            0.999            0.9999              notes; Table 1
    ema_warmup           100              1000                notes; D-FINE's ModelEMA
    backbone batch norm  trained          frozen              notes; D-FINE (freeze_norm)
    ===================  ===============  ==================  =================================

    ``milestones`` are optimiser steps where the rate is multiplied by ``gamma`` (Table 1's
    MultiStepLR; D-FINE counts its milestone 500 in epochs, beyond its 132, so its rate stays
    constant after the warm-up: the default here). ``stop_augment`` is the fraction of the run after
    which the strong augmentations stop (Table 1's stop epoch 120 of 132). ``minutes`` bounds the
    training time of the whole run, resumed parts included; ``patience`` counts evaluations.
    """

    data: str
    val: str
    out: str
    variant: str = "n"
    input_size: int = 320
    init: str | None = None
    seed: int = 0
    batch: int = 8
    epochs: int = 132
    steps: int | None = None
    minutes: float | None = None
    lr: float = 2.5e-4
    backbone_lr_scale: float | None = None
    weight_decay: float = 1.25e-4
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int | None = None
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    ema_decay: float | None = None
    ema_warmup: int | None = None
    clip_grad: float = 0.1
    amp: bool = True  # only where CUDA runs the training
    queries: int = 300
    denoising: int = 100
    stop_augment: float = 120 / 132
    eval_every: int | None = None  # steps; default one epoch
    patience: int = 10
    checkpoint_every: int = 100
    channels_last: bool = True
    augment: AugmentOptions = field(default_factory=AugmentOptions)
    device: str | None = None

    def resolved(self) -> Recipe:
        """The options with every start-dependent default filled in."""
        scratch = self.init is None
        pick = lambda value, from_scratch, pretrained: value if value is not None else (from_scratch if scratch else pretrained)
        return dataclasses.replace(
            self,
            backbone_lr_scale=pick(self.backbone_lr_scale, 1.0, 0.1),
            warmup_steps=pick(self.warmup_steps, 100, 500),
            ema_decay=pick(self.ema_decay, 0.999, 0.9999),
            ema_warmup=pick(self.ema_warmup, 100, 1000),
            device=self.device or ("cuda" if torch.cuda.is_available() else "cpu"),
        )

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass
class TrainResult:
    out: Path
    step: int
    best: dict[str, Any]
    onnx: Path | None
    report: dict[str, Any]


def lr_factor(step: int, warmup: int, milestones: Sequence[int], gamma: float) -> float:
    """Linear warm-up (D-FINE's LinearWarmup) times MultiStepLR's decay, at optimiser step ``step``."""
    return min(1.0, (step + 1) / max(1, warmup)) * gamma ** bisect_right(list(milestones), step)


class Trainer:
    """One training run in ``recipe.out``; :meth:`run` trains, evaluates, checkpoints and exports."""

    def __init__(self, recipe: Recipe, command: str = "", log: Callable[[str], None] = print) -> None:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # save_pretrained / from_pretrained bars between log lines
        self.recipe = recipe.resolved()
        self.out = Path(recipe.out)
        self.command, self.log = command, log
        self.commands = [command]  # every command of the run, resumed parts included
        self.started = time.perf_counter()
        self.train_data, self.val_data = load_coco(recipe.data), load_coco(recipe.val)
        if self.train_data.category_ids != self.val_data.category_ids:
            raise ValueError(f"{recipe.val}: categories {self.val_data.category_ids} differ from training's {self.train_data.category_ids}")
        names = {int(c["id"]): str(c["name"]) for c in self.train_data.document["categories"]}
        labels = [names[cid] for cid in self.train_data.category_ids]
        r = self.recipe
        self.device = torch.device(r.device)
        if r.init:
            self.model = pretrained_detector(r.init, labels, r.denoising)
        else:
            self.model = new_detector(detector_config(r.variant, labels, r.queries, r.denoising), r.seed)
        self.model.to(self.device)
        if r.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.ema = ModelEMA(self.model, r.ema_decay, r.ema_warmup)  # type: ignore[arg-type]
        self.optimizer = torch.optim.AdamW(
            parameter_groups(self.model, r.lr, r.backbone_lr_scale, r.weight_decay), lr=r.lr, betas=r.betas  # type: ignore[arg-type]
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_factor(step, r.warmup_steps, r.milestones, r.gamma)  # type: ignore[arg-type]
        )
        self.use_amp = r.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.steps_per_epoch = max(1, len(self.train_data.samples) // r.batch)
        self.max_steps = r.steps if r.steps is not None else r.epochs * self.steps_per_epoch
        self.eval_every = r.eval_every or self.steps_per_epoch
        self.step, self.elapsed, self.bad_evals = 0, 0.0, 0
        self.best: dict[str, Any] = {"mAP50:95": -1.0, "step": None}
        self.history: list[dict[str, Any]] = []
        self.last_loss: float | None = None
        torch.manual_seed(r.seed)

    # -- data --------------------------------------------------------------------------------------
    def batch_samples(self, step: int) -> list[CocoSample]:
        """The samples of ``step``: a fixed function of (seed, step), so a resumed run sees the same batches."""
        epoch, position = divmod(step, self.steps_per_epoch)
        order = np.random.default_rng([self.recipe.seed, epoch]).permutation(len(self.train_data.samples))
        b = self.recipe.batch
        return [self.train_data.samples[i] for i in order[position * b : (position + 1) * b]]

    def training_batch(self, step: int, strong: bool) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
        size = self.recipe.input_size
        images, targets = [], []
        for j, sample in enumerate(self.batch_samples(step)):
            rng = np.random.default_rng([self.recipe.seed, 1, step, j])
            image, boxes, labels = augment(sample.read(), sample.boxes, sample.labels, size, rng, self.recipe.augment, strong)
            images.append(image[..., ::-1].transpose(2, 0, 1))  # BGR -> RGB, CHW
            centre, extent = (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]
            cxcywh = np.concatenate([centre, extent], 1).reshape(-1, 4) / size
            targets.append({"class_labels": torch.as_tensor(labels, dtype=torch.int64, device=self.device),
                            "boxes": torch.as_tensor(cxcywh.clip(0, 1), dtype=torch.float32, device=self.device)})
        pixels = torch.from_numpy(np.stack(images).astype(np.float32) / 255.0).to(self.device)
        if self.recipe.channels_last:
            pixels = pixels.contiguous(memory_format=torch.channels_last)
        return pixels, targets

    # -- one step ----------------------------------------------------------------------------------
    def progress(self) -> float:
        done = self.step / self.max_steps if self.max_steps else 0.0
        if self.recipe.minutes:
            done = max(done, self.elapsed / (60 * self.recipe.minutes))
        return done

    def train_step(self) -> dict[str, float]:
        """One optimiser step; returns its loss and loss terms."""
        self.model.train()
        pixels, targets = self.training_batch(self.step, strong=self.progress() < self.recipe.stop_augment)
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp):
            outputs = self.model(pixel_values=pixels, labels=targets)
        loss = outputs.loss
        if not torch.isfinite(loss):
            raise RuntimeError(f"step {self.step}: the loss is {loss.item()} (lower --lr, or check the boxes)")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.recipe.clip_grad > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.recipe.clip_grad)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.ema.update(self.model)
        self.step += 1
        self.last_loss = float(loss.item())
        terms = outputs.loss_dict or {}
        return {"loss": self.last_loss, **{k: float(terms[k].detach()) for k in ("loss_vfl", "loss_bbox", "loss_giou") if k in terms}}

    # -- evaluation --------------------------------------------------------------------------------
    def evaluate(self, model: torch.nn.Module | None = None) -> dict[str, float]:
        """COCO metrics of ``model`` (default: the EMA weights) on the validation set."""
        return evaluate_detector(model or self.ema.module, self.val_data, self.recipe.input_size, self.device)

    # -- checkpoints -------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.as_json(), "step": self.step, "elapsed": self.elapsed, "bad_evals": self.bad_evals,
            "best": self.best, "history": self.history, "last_loss": self.last_loss, "commands": self.commands,
            "model": self.model.state_dict(), "ema": self.ema.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                    "numpy": np.random.get_state()},
            "model_config": self.model.config.to_dict(),
        }

    def save_checkpoint(self) -> Path:
        path = self.out / CHECKPOINT
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".pt.partial")
        torch.save(self.checkpoint_state(), partial)
        partial.replace(path)  # never a half-written last.pt
        return path

    def load_checkpoint(self, path: str | Path | None = None) -> None:
        """Continue from ``path`` (default ``OUT/checkpoints/last.pt``): every state, the RNGs included."""
        path = Path(path) if path else self.out / CHECKPOINT
        if path.is_dir():
            path = path / CHECKPOINT
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no checkpoint to resume")
        state = torch.load(path, map_location=self.device, weights_only=False)
        saved, now = state["recipe"], self.recipe.as_json()
        changed = [f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in FIXED_ON_RESUME if saved.get(k) != now[k]]
        if changed:
            raise ValueError(f"{path}: resumed with other training options ({'; '.join(changed)})")
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        np.random.set_state(state["rng"]["numpy"])
        self.step, self.elapsed, self.bad_evals = state["step"], state["elapsed"], state["bad_evals"]
        self.best, self.history, self.last_loss = state["best"], state["history"], state["last_loss"]
        self.commands = [*state.get("commands", []), self.command]
        self.log(f"resumed {path} at step {self.step} ({self.elapsed / 60:.1f} min trained, best mAP50:95 {self.best['mAP50:95']:.4f})")

    # -- the run -----------------------------------------------------------------------------------
    def run(self, export: bool = True) -> TrainResult:
        """Train until the steps, the minutes or the patience run out; then export the best EMA weights."""
        r = self.recipe
        stop = ""
        while not stop:
            if self.step >= self.max_steps:
                stop = f"{self.max_steps} steps"
                break
            if r.minutes and self.elapsed >= 60 * r.minutes:
                stop = f"{r.minutes} minutes"
                break
            started = time.perf_counter()  # the budget counts steps, evaluations and checkpoints
            terms = self.train_step()
            if self.step % 10 == 0 or self.step == 1:
                self.log(f"step {self.step}/{self.max_steps} " + " ".join(f"{k} {v:.3f}" for k, v in terms.items())
                         + f" lr {self.scheduler.get_last_lr()[0]:.2e} {self.elapsed / 60:.1f} min")
            if self.step % self.eval_every == 0 and self.evaluate_and_keep():
                stop = f"no better mAP50:95 in {r.patience} evaluations"
            self.elapsed += time.perf_counter() - started
            if self.step % r.checkpoint_every == 0:
                self.save_checkpoint()
        if not self.history or self.history[-1]["step"] != self.step:
            self.evaluate_and_keep()
        self.save_checkpoint()
        self.log(f"stopped after {self.step} steps ({stop}); best mAP50:95 {self.best['mAP50:95']:.4f} at step {self.best['step']}")
        onnx_path = self.export() if export else None
        report = self.write_report(stop, onnx_path)
        return TrainResult(self.out, self.step, self.best, onnx_path, report)

    def evaluate_and_keep(self) -> bool:
        """Evaluate the EMA weights, keep them in ``OUT/best`` when better; True when patience is spent."""
        started = time.perf_counter()
        metrics = self.evaluate()
        row = {"step": self.step, "minutes": round(self.elapsed / 60, 2), "loss": self.last_loss, **metrics,
               "eval_seconds": round(time.perf_counter() - started, 1)}
        self.history.append(row)
        self.log("eval " + json.dumps(row))
        if self.best["step"] is None or metrics["mAP50:95"] > self.best["mAP50:95"]:
            self.best = {**metrics, "step": self.step, "minutes": row["minutes"]}
            self.ema.module.save_pretrained(str(self.out / BEST))
            (self.out / BEST / "metrics.json").write_text(json.dumps(self.best) + "\n", encoding="utf-8")
            self.bad_evals = 0
            return False
        self.bad_evals += 1
        return self.bad_evals >= self.recipe.patience

    def export(self) -> Path:
        """``OUT/best`` to ``OUT/detector.onnx`` at the training side, checked in the edge runtime."""
        path = export_detector(self.out / BEST, self.out / ONNX_NAME, self.recipe.input_size, self.val_data.samples[0].read())
        self.log(f"{path}: exported the best EMA weights (step {self.best['step']}), {self.recipe.input_size}px")
        return path

    def write_report(self, stop: str, onnx_path: Path | None) -> dict[str, Any]:
        r = self.recipe
        report = {
            "metrics": {k: self.best.get(k) for k in ("mAP50:95", "AP50", "AP75", "AR100")},
            "evaluated_on": str(self.val_data.source), "metric_of": "EMA weights, pycocotools COCOeval (bbox)",
            "best_step": self.best.get("step"), "steps": self.step, "stopped_by": stop,
            "train_minutes": round(self.elapsed / 60, 2), "wall_minutes_this_call": round((time.perf_counter() - self.started) / 60, 2),
            "command": self.command, "commands": self.commands, "seed": r.seed,
            "variant": r.variant if not r.init else f"init {r.init}", "input_size": r.input_size, "batch": r.batch,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "train_images": len(self.train_data.samples), "train_boxes": int(sum(len(s.boxes) for s in self.train_data.samples)),
            "val_images": len(self.val_data.samples), "val_boxes": int(sum(len(s.boxes) for s in self.val_data.samples)),
            "device": str(self.device), "amp": self.use_amp, "onnx": str(onnx_path) if onnx_path else None,
            "recipe": r.as_json(), "history": self.history, "versions": _versions(),
        }
        (self.out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return report


def _versions() -> dict[str, str]:
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}


def train_detector(recipe: Recipe, resume: bool = False, command: str = "", log: Callable[[str], None] = print,
                   export: bool = True) -> TrainResult:
    """Train (or, with ``resume``, continue) the run of ``recipe`` and export it; see :class:`Trainer`."""
    trainer = Trainer(recipe, command, log)
    if resume:
        trainer.load_checkpoint()
    return trainer.run(export=export)

