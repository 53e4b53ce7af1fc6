"""Fusion: evidence in, ``liveguard.result/1`` out (paper §3.5.2).

Every engine is a plain function of the evidence document, so that the box or a central worker
behind MQTT can run it unchanged. ``fusion.mode`` picks it: ``local`` runs the deterministic
rules with no network; ``direct`` asks the cloud LLM (Qwen-Plus) and falls back to the rules.
"""

from __future__ import annotations

from typing import Any, Callable

from edge.config.models import FusionConfig
from edge.fusion.local_rules import Candidate, Decision, decide, fuse_local

FusionEngine = Callable[[dict[str, Any]], dict[str, Any]]

_LOCAL_ENGINES: dict[str, FusionEngine] = {"local-rules": fuse_local}


def create_fusion(config: FusionConfig, **client_options: Any) -> FusionEngine:
    """The fusion function for ``config``; direct mode reads the API key now (ConfigError if missing).

    ``client_options`` go to :class:`edge.fusion.client.ChatClient` (tests pass a transport).
    """
    local = _LOCAL_ENGINES[config.engine]
    if config.mode == "local":
        return local
    from edge.fusion.qwen import QwenFusion

    return QwenFusion(config, _client(config, **client_options), local)


def create_vl_reader(config: FusionConfig, **client_options: Any) -> Any:
    """The Qwen-VL reader of product crops (:class:`edge.fusion.vl.VlReader`), or None when VL is off."""
    if not config.vl.enabled or config.mode != "direct":
        return None
    from edge.fusion.vl import VlReader

    return VlReader(config.vl, _client(config, **client_options))


def _client(config: FusionConfig, **options: Any) -> Any:
    from edge.config.secrets import read_api_key
    from edge.fusion.client import ChatClient

    return ChatClient(config.cloud, read_api_key(config.cloud), **options)


__all__ = ["Candidate", "Decision", "FusionEngine", "create_fusion", "create_vl_reader", "decide", "fuse_local"]
