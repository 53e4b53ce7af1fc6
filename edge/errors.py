"""The error hierarchy: each error names its culprit and reads as one line.

The CLI prints ``str(error)`` and exits non-zero; tracebacks only with ``--debug``.
"""

from __future__ import annotations


class LiveGuardError(Exception):
    """Base of every error LiveGuard raises on purpose.

    ``culprit`` is the file, key path, URL or model the error concerns; the message
    always starts with it so that a person can act on the line alone.
    """

    exit_code = 1

    def __init__(self, culprit: str, message: str) -> None:
        self.culprit = str(culprit)
        self.message = " ".join(str(message).split())  # one line, always
        super().__init__(f"{self.culprit}: {self.message}")


class ConfigError(LiveGuardError):
    """Invalid configuration: names the file, the key path and the bad value."""

    exit_code = 2


class SourceError(LiveGuardError):
    """A video/audio source that cannot be opened or decoded."""

    exit_code = 3


class ModelError(LiveGuardError):
    """A model file that is missing, unreadable or has the wrong signature."""

    exit_code = 4


class FusionError(LiveGuardError):
    """The fusion step could not produce a result."""

    exit_code = 5


class TransportError(LiveGuardError):
    """A broker or endpoint that cannot be reached or refuses a message."""

    exit_code = 6
