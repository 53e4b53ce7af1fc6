"""Fusion: evidence in, ``liveguard.result/1`` out (paper §3.5.2).

Every engine is a callable of the evidence document (:class:`FusionEngine`), so that the box or a
central worker behind MQTT can run it unchanged; whoever creates one closes it (``with
create_fusion(cfg) as fuse:``). ``fusion.mode`` picks it: ``local`` runs the deterministic rules
with no network; ``direct`` asks the cloud LLM (Qwen-Plus) and falls back to the rules.
"""

from __future__ import annotations

from typing import Any

from edge.config.models import FusionConfig
from edge.fusion.documents import Decision, EvidenceView
from edge.fusion.engine import FusionEngine
from edge.fusion.local_rules import Candidate, decide, fuse_local
from edge.registry import load_backend

# Config literal -> "module:factory", imported only when chosen. ``fusion.engine`` names the local
# engine (the whole fusion in local mode, the fallback in direct mode); ``fusion.mode: direct`` names
# the cloud engine around that fallback. A factory is called as factory(config, fallback, **client_options).
_ENGINES = {
    "local-rules": "edge.fusion.local_rules:create_engine",
    "direct": "edge.fusion.qwen:create_engine",
}


def create_fusion(config: FusionConfig, **client_options: Any) -> FusionEngine | None:
    """The fusion engine for ``config``; direct mode reads the API key now (ConfigError if missing).
    None in central mode: the box sends evidence only and a central worker fuses it.

    ``client_options`` go to :class:`edge.fusion.client.ChatClient` (tests pass a transport).
    """
    if config.mode == "central":
        return None
    local = load_backend(_ENGINES, config.engine, "fusion")(config, None)
    if config.mode == "local":
        return local
    return load_backend(_ENGINES, config.mode, "fusion")(config, local, **client_options)


def create_vl_reader(config: FusionConfig, **client_options: Any) -> Any:
    """The Qwen-VL reader of product crops (:class:`edge.fusion.vl.VlReader`), or None when VL is off."""
    if not config.vl.enabled or config.mode != "direct":
        return None
    from edge.fusion.client import cloud_client
    from edge.fusion.vl import VlReader

    return VlReader(config.vl, cloud_client(config.cloud, **client_options))


__all__ = [
    "Candidate",
    "Decision",
    "EvidenceView",
    "FusionEngine",
    "create_fusion",
    "create_vl_reader",
    "decide",
    "fuse_local",
]
