"""Passwords: from the environment, a file, or the YAML, in that order of precedence.

`smpp.password` and `mqtt.password` come from the environment (`MOTCUA_SMS_SMPP_PASSWORD`,
`MOTCUA_SMS_MQTT_PASSWORD`; an empty variable counts as unset), from the file named by
`password_file`, or from `password` in the YAML. A relative `password_file` is looked up
in `$CREDENTIALS_DIRECTORY` when that variable is set (systemd `LoadCredential=`), else
next to the configuration file. The file's content is the secret, less its trailing
newline. Relative paths of other files (the store, TLS) follow the same rule as the file,
without the credentials directory: `beside()`.
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
    """The section `data` with `password` resolved and `password_file` gone.

    The password is left out when none is given anywhere, for the section's default.
    """
    section = entries(data)
    source = source_of(info)
    file_value = section.pop("password_file", None)
    from_env = source.env.get(env_name)
    if from_env:
        section["password"] = from_env
        return section
    if file_value is not None:
        name = below(text(), file_value, "password_file")
        path = Path(name).expanduser()
        if not path.is_absolute():
            credentials = source.env.get(CREDENTIALS_DIRECTORY_ENV)
            path = (Path(credentials) if credentials else source.base_dir) / path
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            refuse(f"cannot read {path}: {why}", "password_file")
        content = content.rstrip("\r\n")
        if not content:
            refuse(f"{path} is empty", "password_file")
        section["password"] = content
        return section
    if "password" in section and section["password"] is None:
        del section["password"]
    return section
