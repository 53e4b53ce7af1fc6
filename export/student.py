"""The distillation student: an EfficientNetV2 regressor small enough to ship (ONNX under 25 MB).

The paper's EfficientNetV2-M (Table 2, 24 M parameters as stated; torchvision's has 53 M) and
torchvision's -S (21 M, an ~80 MB ONNX) are too large for the box's model pack, so the default
student is **EfficientNetV2-B0**, the smallest configuration of the EfficientNetV2 paper (Tan & Le
2021, the official ``efficientnetv2-b0``: Fused-MBConv stages 16/32/48, MBConv+SE stages
96/112/192, head 1280), built from torchvision's own EfficientNet blocks: ~5.9 M parameters with
the one-output head, a ~23 MB FP32 ONNX. ``tiny``, ``s`` and ``m`` are those of
:mod:`export.efficientnet`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
from torch import nn
from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig

from export.efficientnet import VARIANTS as _EFFICIENTNET_VARIANTS
from export.efficientnet import efficientnet_v2_regressor, load_weights

STUDENT_VARIANTS = ("b0", *_EFFICIENTNET_VARIANTS)
DESCRIPTIONS = {
    "b0": "EfficientNetV2-B0 (official efficientnetv2-b0 stages, torchvision blocks), one-output head",
    "tiny": "reduced EfficientNetV2 (4 stages, tests only), one-output head",
    "s": "torchvision efficientnet_v2_s, one-output head",
    "m": "torchvision efficientnet_v2_m, one-output head",
}


def efficientnet_v2_b0_regressor(dropout: float = 0.3, stochastic_depth: float = 0.2) -> nn.Module:
    """EfficientNetV2-B0 mapping [N,3,S,S] to a raw score [N,1] (random initialisation)."""
    blocks = [
        FusedMBConvConfig(1, 3, 1, 32, 16, 1),
        FusedMBConvConfig(4, 3, 2, 16, 32, 2),
        FusedMBConvConfig(4, 3, 2, 32, 48, 2),
        MBConvConfig(4, 3, 2, 48, 96, 3),
        MBConvConfig(6, 3, 1, 96, 112, 5),
        MBConvConfig(6, 3, 2, 112, 192, 8),
    ]
    norm = partial(nn.BatchNorm2d, eps=1e-3)  # as torchvision's V2 models
    return EfficientNet(blocks, dropout, stochastic_depth, num_classes=1, norm_layer=norm, last_channel=1280)


def student_regressor(variant: str = "b0", dropout: float = 0.3, seed: int | None = 0) -> nn.Module:
    """The student ``variant`` of :data:`STUDENT_VARIANTS`, randomly initialised (seeded), in eval mode."""
    if variant not in STUDENT_VARIANTS:
        raise ValueError(f"variant must be one of {STUDENT_VARIANTS}, got {variant!r}")
    if variant != "b0":
        return efficientnet_v2_regressor(variant, dropout=dropout, seed=seed)
    if seed is not None:
        torch.manual_seed(seed)
    return efficientnet_v2_b0_regressor(dropout).eval()


def load_student(weights: str | Path, variant: str = "b0") -> nn.Module:
    """The student with trained weights: a ``state_dict`` file, or train-quality's ``best.pt`` ({"state_dict": ...})."""
    return load_weights(student_regressor(variant, seed=None), weights)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
