"""Fusion: evidence in, ``liveguard.result/1`` out (paper §3.5.2).

Every engine is a plain function of the evidence document, so that the box or a central worker
behind MQTT can run it unchanged.
"""

from __future__ import annotations

from typing import Any, Callable

from edge.config.models import FusionConfig
from edge.fusion.local_rules import Candidate, Decision, decide, fuse_local

FusionEngine = Callable[[dict[str, Any]], dict[str, Any]]

_ENGINES: dict[str, FusionEngine] = {"local-rules": fuse_local}


def create_fusion(config: FusionConfig) -> FusionEngine:
    """The fusion function for ``config.engine``."""
    return _ENGINES[config.engine]


__all__ = ["Candidate", "Decision", "FusionEngine", "create_fusion", "decide", "fuse_local"]
