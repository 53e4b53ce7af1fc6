"""The one interface of a fusion engine: evidence document in, result document out, and ``close``.

An engine may hold a cloud client and its connections for its whole life; whoever creates it closes
it, with ``close()`` or by using it as a context manager (``with create_fusion(cfg) as fuse:``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from edge.closing import Closing

Document = dict[str, Any]


@runtime_checkable
class FusionEngine(Protocol):
    """Evidence (``liveguard.evidence/1``) in, ``liveguard.result/1`` out (paper §3.5.2)."""

    def __call__(self, evidence: Document) -> Document: ...

    def close(self) -> None:
        """Release what the engine holds (nothing, for the local rules)."""
        ...

    def __enter__(self) -> FusionEngine: ...

    def __exit__(self, *exc_info: object) -> None: ...


__all__ = ["Closing", "Document", "FusionEngine"]
