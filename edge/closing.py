"""``with`` for whatever owns threads, sessions, sockets or files: the end of the block calls ``close``."""

from __future__ import annotations

from typing import TypeVar

_C = TypeVar("_C", bound="Closing")


class Closing:
    """Base of a resource owner: ``with owner:`` closes it at the end of the block."""

    def close(self) -> None:
        """Release what this holds; nothing unless a subclass says otherwise."""

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
