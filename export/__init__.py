"""Training side: turn trained models into the files the edge runtime loads.

Never imported by ``edge/``; needs torch (and transformers for D-FINE).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch


def torchscript_onnx_export(module: torch.nn.Module, args: tuple[Any, ...], path: str | Path, **options: Any) -> None:
    """``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``), on purpose.

    The dynamo exporter fails on D-FINE (DESIGN.md, checked facts); one exporter for every
    model keeps the graphs alike. Its deprecation notices and the harmless "Slice steps not
    folded" note are silenced; other warnings pass.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "You are using the legacy TorchScript-based ONNX export")
        warnings.filterwarnings("ignore", "The feature will be removed")
        warnings.filterwarnings("ignore", "Constant folding - Only steps=1")
        torch.onnx.export(module, args, str(path), dynamo=False, **options)
