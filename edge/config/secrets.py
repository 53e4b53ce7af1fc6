"""The cloud API key: read from an environment variable or a file, never from YAML.

The key is held as a :class:`pydantic.SecretStr`, whose ``str``/``repr`` print stars, so that
neither a log line, an exception nor a dumped object can carry it by accident.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from edge.config.models import CloudConfig
from edge.errors import ConfigError

log = logging.getLogger(__name__)


def read_api_key(cloud: CloudConfig, environ: dict[str, str] | None = None) -> SecretStr | None:
    """The key named by ``cloud.api_key_file`` or ``cloud.api_key_env``; None when neither is set.

    Raises :class:`ConfigError` naming the field and the file or variable (never the key) when the
    named source is missing or empty.
    """
    return read_secret("fusion.cloud.api_key", cloud.api_key_file, cloud.api_key_env, environ)


def read_secret(
    key: str, file: Path | None, env: str | None, environ: Mapping[str, str] | None = None
) -> SecretStr | None:
    """The secret in ``file`` (preferred) or the environment variable ``env``; None when neither is set.

    ``key`` is the config key without its ``_file``/``_env`` suffix (``transport.mqtt.password``), named
    in every error; the secret itself never is.
    """
    environ = os.environ if environ is None else environ
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
            mode = file.stat().st_mode
        except FileNotFoundError:
            raise ConfigError(f"{key}_file", f"{file}: file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{key}_file", f"{file}: cannot read ({type(exc).__name__})") from None
        secret = text.strip()
        if not secret or len(secret.split()) != 1:
            raise ConfigError(
                f"{key}_file", f"{file}: expected one key on its own, found {'nothing' if not secret else 'several words'}"
            )
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("%s_file %s is readable by other users; chmod 600 it", key, file)
        return SecretStr(secret)
    if env is not None:
        secret = environ.get(env, "").strip()
        if not secret:
            raise ConfigError(
                f"{key}_env",
                f"environment variable {env} is not set (or empty); export the key there or set {key.rsplit('.', 1)[-1]}_file",
            )
        return SecretStr(secret)
    return None
