"""The Strategy B quality regressor: torchvision EfficientNetV2 with a one-output head (paper §3.3.3).

``efficientnet_v2_regressor("s" | "m")`` is torchvision's architecture with its classifier
replaced by dropout + ``Linear(1280, 1)``; ``"tiny"`` is a reduced network built from the
same blocks (Fused-MBConv then MBConv with squeeze-excitation, SiLU, BatchNorm) for tests.
Weights are never downloaded: train them, then :func:`load_regressor` reads the state dict.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

import torch
from torch import nn
from torchvision.models import efficientnet_v2_m, efficientnet_v2_s
from torchvision.models.efficientnet import (
    EfficientNet,
    FusedMBConvConfig,
    MBConvConfig,
)

VARIANTS = ("tiny", "s", "m")


def efficientnet_v2_regressor(variant: str = "s", dropout: float = 0.2, seed: int | None = 0) -> nn.Module:
    """A randomly initialised EfficientNetV2 mapping [N,3,S,S] to a raw quality score [N,1]."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if seed is not None:
        torch.manual_seed(seed)
    if variant == "s":
        model = efficientnet_v2_s(num_classes=1, dropout=dropout)
    elif variant == "m":
        model = efficientnet_v2_m(num_classes=1, dropout=dropout)
    else:
        blocks = [
            FusedMBConvConfig(1, 3, 1, 16, 16, 1),
            FusedMBConvConfig(4, 3, 2, 16, 24, 1),
            MBConvConfig(4, 3, 2, 24, 32, 1),
            MBConvConfig(6, 3, 2, 32, 48, 2),
        ]
        norm = partial(nn.BatchNorm2d, eps=1e-3)  # as torchvision's V2 models
        model = EfficientNet(blocks, dropout, 0.0, num_classes=1, norm_layer=norm, last_channel=256)
    return model.eval()


def load_regressor(weights: str | Path, variant: str = "s") -> nn.Module:
    """The regressor with trained weights from a ``state_dict`` file (``torch.save(model.state_dict())``)."""
    return load_weights(efficientnet_v2_regressor(variant, seed=None), weights)


def load_weights(model: nn.Module, weights: str | Path) -> nn.Module:
    """``model`` with the weights of a ``state_dict`` file (or a checkpoint holding one as "state_dict"), in eval."""
    state = torch.load(str(weights), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    model.load_state_dict(state)
    return model.eval()


def calibrate_batchnorm(model: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """Set every BatchNorm's running statistics to the mean over ``batches`` (returns ``model`` in eval).

    A randomly initialised EfficientNet's activations vanish through its blocks (raw outputs
    ~1e-4 apart), which makes export comparisons meaningless; statistics measured on real
    inputs, as training would leave them, keep the outputs image-dependent.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for module in norms:
        module.reset_running_stats()
        module.momentum = None  # cumulative average over the batches
    model.train()
    with torch.no_grad():
        for batch in batches:
            model(batch)
    for module, momentum in zip(norms, saved):
        module.momentum = momentum
    return model.eval()
