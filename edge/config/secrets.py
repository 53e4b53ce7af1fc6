"""The cloud API key: read from an environment variable or a file, never from YAML.

The key is held as a :class:`pydantic.SecretStr`, whose ``str``/``repr`` print stars, so that
neither a log line, an exception nor a dumped object can carry it by accident.
"""

from __future__ import annotations

import logging
import os
import stat

from pydantic import SecretStr

from edge.config.models import CloudConfig
from edge.errors import ConfigError

log = logging.getLogger(__name__)


def read_api_key(cloud: CloudConfig, environ: dict[str, str] | None = None) -> SecretStr | None:
    """The key named by ``cloud.api_key_file`` or ``cloud.api_key_env``; None when neither is set.

    Raises :class:`ConfigError` naming the field and the file or variable (never the key) when the
    named source is missing or empty.
    """
    environ = os.environ if environ is None else environ
    if cloud.api_key_file is not None:
        path = cloud.api_key_file
        try:
            text = path.read_text(encoding="utf-8")
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ConfigError("fusion.cloud.api_key_file", f"{path}: file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError("fusion.cloud.api_key_file", f"{path}: cannot read ({type(exc).__name__})") from None
        key = text.strip()
        if not key or len(key.split()) != 1:
            raise ConfigError(
                "fusion.cloud.api_key_file", f"{path}: expected one key on its own, found {'nothing' if not key else 'several words'}"
            )
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("fusion.cloud.api_key_file %s is readable by other users; chmod 600 it", path)
        return SecretStr(key)
    if cloud.api_key_env is not None:
        key = environ.get(cloud.api_key_env, "").strip()
        if not key:
            raise ConfigError(
                "fusion.cloud.api_key_env",
                f"environment variable {cloud.api_key_env} is not set (or empty); export the key there or set api_key_file",
            )
        return SecretStr(key)
    return None
