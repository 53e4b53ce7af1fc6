"""LiveGuard's on-device runtime.

The public surface is small: load a configuration, run a clip, and the document schemas.
Everything else is internal and free to change.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
