"""Secrets: from the environment, a file, or the YAML, in that order of precedence.

`smpp.password` and `mqtt.password` come from the environment (`MOTCUA_SMS_SMPP_PASSWORD`,
`MOTCUA_SMS_MQTT_PASSWORD`; an empty variable counts as unset), from the file named by
`password_file`, or from `password` in the YAML; the Zalo keys (`zalo.secret_key`,
`zalo.oa_secret_key`) the same way, with their own variables and `<key>_file`. A
relative `password_file` is looked up in `$CREDENTIALS_DIRECTORY` when that variable is
set (systemd `LoadCredential=`), else next to the configuration file. The file's content
is the secret, less its trailing newline. Relative paths of other files (the store, TLS)
follow the same rule as the file, without the credentials directory: `beside()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from gateway.settings.loader import Source
from gateway.settings.values import below, entries, refuse, text

SMPP_PASSWORD_ENV = "MOTCUA_SMS_SMPP_PASSWORD"
MQTT_PASSWORD_ENV = "MOTCUA_SMS_MQTT_PASSWORD"
CREDENTIALS_DIRECTORY_ENV = "CREDENTIALS_DIRECTORY"

password_text = text(secret=True)


def source_of(info: ValidationInfo) -> Source:
    """The validation context; outside the loader, the process's own environment."""
    if isinstance(info.context, Source):
        return info.context
    return Source(env=os.environ, base_dir=Path.cwd(), marks={})


def beside(source: Source, name: str) -> Path:
    """`name` as a path, a relative one taken from the configuration file's directory."""
    path = Path(name).expanduser()
    return path if path.is_absolute() else source.base_dir / path


def with_password(data: Any, info: ValidationInfo, env_name: str) -> dict[str, Any]:
    """The section `data` with `password` resolved and `password_file` gone."""
    return with_secret(data, info, env_name, "password")


def with_secret(data: Any, info: ValidationInfo, env_name: str, key: str) -> dict[str, Any]:
    """The section `data` with the secret `key` resolved and `<key>_file` gone.

    The secret is left out when none is given anywhere, for the section's default (or its
    refusal, when it has none).
    """
    section = entries(data)
    source = source_of(info)
    file_key = f"{key}_file"
    file_value = section.pop(file_key, None)
    from_env = source.env.get(env_name)
    if from_env:
        section[key] = from_env
        return section
    if file_value is not None:
        name = below(text(), file_value, file_key)
        path = Path(name).expanduser()
        if not path.is_absolute():
            credentials = source.env.get(CREDENTIALS_DIRECTORY_ENV)
            path = (Path(credentials) if credentials else source.base_dir) / path
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            refuse(f"cannot read {path}: {why}", file_key)
        content = content.rstrip("\r\n")
        if not content:
            refuse(f"{path} is empty", file_key)
        section[key] = content
        return section
    if key in section and section[key] is None:
        del section[key]
    return section
