"""The D-FINE detector to train: its variants, the from-scratch initialisation, optimiser groups and EMA.

Variants are ``transformers``' conversions of the released models (N, S, M; the paper's HGNetV2-B2
with 4 decoder layers is M) plus ``tiny`` for tests. Training from random initialisation needs three
settings that a pretrained start does not (shared/notes/dfine-training.md): trainable backbone batch
norms, a class prior of 0.01, and PyTorch's default init of convolutions and linear layers instead of
``transformers``' N(0, 0.01), leaving the zeroed and prior-biased heads as they are.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import DFineConfig, DFineForObjectDetection, HGNetV2Config

from export.dfine import dfine_n_config, tiny_dfine_config

VARIANTS = ("n", "s", "m", "tiny")
PRIOR_PROB = 0.01
# Paper §3.7.1 / Table 1: L = 1.0 vfl + 5.0 bbox + 2.0 giou + 0.15 fgl + 1.5 ddf
LOSS_WEIGHTS = {"weight_loss_vfl": 1.0, "weight_loss_bbox": 5.0, "weight_loss_giou": 2.0,
                "weight_loss_fgl": 0.15, "weight_loss_ddf": 1.5}
PRIOR_HEADS = ("class_embed", "enc_score_head")  # xavier weights and the prior bias, from transformers' init


def _hgnetv2_b0(**extra: Any) -> HGNetV2Config:
    return HGNetV2Config(
        hidden_sizes=[128, 256, 512, 1024], stem_channels=[3, 16, 16], stage_in_channels=[16, 64, 256, 512],
        stage_mid_channels=[16, 32, 64, 128], stage_out_channels=[64, 256, 512, 1024], stage_num_blocks=[1, 1, 2, 1],
        stage_downsample=[False, True, True, True], stage_light_block=[False, False, True, True],
        stage_kernel_size=[3, 3, 5, 5], stage_numb_of_layers=[3, 3, 3, 3], layer_type="basic",
        use_learnable_affine_block=True, **extra,
    )


def dfine_s_config(num_labels: int) -> DFineConfig:
    """D-FINE-S: HGNetV2-B0, 3 feature levels, hidden 256, 3 decoder layers (~10 M parameters)."""
    return DFineConfig(
        backbone_config=_hgnetv2_b0(out_indices=[2, 3, 4]), num_labels=num_labels,  # type: ignore[call-arg]
        encoder_in_channels=[256, 512, 1024], decoder_layers=3, hidden_expansion=0.5, depth_mult=0.34,
        decoder_n_points=[3, 6, 3],
    )


def dfine_m_config(num_labels: int) -> DFineConfig:
    """D-FINE-M: HGNetV2-B2, 3 feature levels, hidden 256, 4 decoder layers (~19 M parameters; the paper's)."""
    backbone = HGNetV2Config(
        hidden_sizes=[192, 384, 768, 1536], stem_channels=[3, 24, 32], stage_in_channels=[32, 96, 384, 768],
        stage_mid_channels=[32, 64, 128, 256], stage_out_channels=[96, 384, 768, 1536], stage_num_blocks=[1, 1, 3, 1],
        stage_downsample=[False, True, True, True], stage_light_block=[False, False, True, True],
        stage_kernel_size=[3, 3, 5, 5], stage_numb_of_layers=[4, 4, 4, 4], layer_type="basic",
        use_learnable_affine_block=True, out_indices=[2, 3, 4],  # type: ignore[call-arg]
    )
    return DFineConfig(
        backbone_config=backbone, num_labels=num_labels,  # type: ignore[call-arg]
        encoder_in_channels=[384, 768, 1536], decoder_layers=4, depth_mult=0.67, decoder_n_points=[3, 6, 3],
    )


def detector_config(variant: str, labels: list[str], queries: int, denoising: int) -> DFineConfig:
    """The variant's architecture for ``labels`` (label i named labels[i]), set up for training from scratch."""
    makers = {"n": dfine_n_config, "s": dfine_s_config, "m": dfine_m_config, "tiny": tiny_dfine_config}
    if variant not in makers:
        raise ValueError(f"unknown variant '{variant}' (one of {', '.join(VARIANTS)})")
    config = makers[variant](len(labels))
    config.num_queries = queries
    config.num_denoising = denoising
    config.id2label = dict(enumerate(labels))
    config.label2id = {name: i for i, name in enumerate(labels)}
    config.freeze_backbone_batch_norms = False
    config.initializer_bias_prior_prob = PRIOR_PROB
    for key, value in LOSS_WEIGHTS.items():
        setattr(config, key, value)
    return config


def new_detector(config: DFineConfig, seed: int) -> DFineForObjectDetection:
    """A randomly initialised detector: ``transformers``' init, then PyTorch's default init of every
    convolution and linear layer except the heads that are zeroed or carry the class prior on purpose."""
    torch.manual_seed(seed)
    model = DFineForObjectDetection(config)
    with torch.no_grad():
        for name, module in model.named_modules():
            if not isinstance(module, (nn.Conv2d, nn.Linear)):
                continue
            if any(head in name for head in PRIOR_HEADS) or not torch.any(module.weight != 0):
                continue
            module.reset_parameters()
    return model.train()


def pretrained_detector(init: str | Path, labels: list[str], denoising: int) -> DFineForObjectDetection:
    """A detector started from a ``transformers`` D-FINE checkpoint directory: backbone batch norms frozen
    (as for a pretrained backbone), class heads re-made for ``labels`` when their number differs."""
    if not (Path(init) / "config.json").is_file():
        raise FileNotFoundError(f"{init}: not a transformers checkpoint directory (no config.json)")
    model = DFineForObjectDetection.from_pretrained(
        str(init), num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)},
        ignore_mismatched_sizes=True, freeze_backbone_batch_norms=True, initializer_bias_prior_prob=PRIOR_PROB,
        num_denoising=denoising, **LOSS_WEIGHTS,
    )
    return model.train()


NORMS = (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)


def parameter_groups(model: nn.Module, lr: float, backbone_scale: float, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups as D-FINE's optimiser: the backbone at ``lr × backbone_scale``, normalisation
    weights and biases without weight decay."""
    norm_params = {id(p) for m in model.modules() if isinstance(m, NORMS) for p in m.parameters(recurse=False)}
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault((".backbone." in f".{name}", id(param) in norm_params), []).append(param)
    return [
        {"params": params, "lr": lr * (backbone_scale if backbone else 1.0), "weight_decay": 0.0 if norm else weight_decay,
         "name": ("backbone" if backbone else "head") + ("_norm" if norm else "")}
        for (backbone, norm), params in sorted(groups.items())
    ]


class ModelEMA:
    """Exponential moving average of a model's floating-point state (weights and batch-norm statistics).

    The decay ramps up as ``decay × (1 − exp(−updates / warmup))``, as D-FINE's ModelEMA, so that the
    average does not remember the random start.
    """

    def __init__(self, model: nn.Module, decay: float, warmup: int) -> None:
        self.module = copy.deepcopy(model).eval()
        for param in self.module.parameters():
            param.requires_grad_(False)
        self.decay, self.warmup, self.updates = decay, max(1, warmup), 0

    def current_decay(self) -> float:
        return self.decay * (1 - math.exp(-self.updates / self.warmup))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = self.current_decay()
        source = model.state_dict()
        for key, value in self.module.state_dict().items():
            if value.dtype.is_floating_point:
                value.mul_(decay).add_(source[key].detach(), alpha=1 - decay)
            else:
                value.copy_(source[key])

    def state_dict(self) -> dict[str, Any]:
        return {"module": self.module.state_dict(), "updates": self.updates, "decay": self.decay, "warmup": self.warmup}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.updates, self.decay, self.warmup = state["updates"], state["decay"], state["warmup"]
