"""Backend registries: each family maps its config literal to ``"module:attribute"``, imported on use.

So ``import edge`` stays light (no TensorRT, CUDA, faster-whisper or httpx until chosen), and adding
a backend touches its own module, one registry entry and one config literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any


def load_backend(registry: Mapping[str, str], key: str, family: str) -> Any:
    """The object registered under ``key``, imported now; KeyError naming the family if unknown."""
    try:
        target = registry[key]
    except KeyError:
        raise KeyError(f"no {family} backend {key!r} (known: {', '.join(sorted(registry))})") from None
    module, attribute = target.split(":")
    return getattr(import_module(module), attribute)
