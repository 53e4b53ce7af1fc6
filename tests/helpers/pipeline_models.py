"""Configurations and small real ONNX models for the pipeline tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dfine_graphs import scripted_detector

from edge.config import Config, parse_config


def make_config(**sections: dict[str, Any]) -> Config:
    """The defaults with some sections changed, validated like a YAML file."""
    return parse_config(sections, source="test")


def fixed_box_detector(path: Path, box: tuple[float, float, float, float], score: float, size: int = 64) -> Path:
    """A detector with the official D-FINE signature that finds one product at ``box``.

    ``box`` is normalised x1,y1,x2,y2, scaled by each frame's (w, h) as the real export does; a
    second query is a low-score non-product.
    """
    return scripted_detector(path, labels=[0, 1], scores=[score, 0.05], boxes=[box, (0.0, 0.0, 0.1, 0.1)], size=size)
