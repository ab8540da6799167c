"""The `zalo:` section: the agency's Zalo Official Account, for ZNS notices and OA chat.

Absent, Zalo is off (`Config.zalo` is None). Present, it names the app and the OA, the two
secrets (the app's `secret_key`, sent with every OAuth refresh, and the OA's
`oa_secret_key`, which signs webhooks), the file that holds the rotating refresh token,
the API addresses (the bundled simulator is reached by pointing them at 127.0.0.1), the
ZNS templates the agency registered with Zalo, and the webhook endpoint.

Secrets come from the environment (`MOTCUA_SMS_ZALO_SECRET_KEY`,
`MOTCUA_SMS_ZALO_OA_SECRET_KEY`), from `secret_key_file` / `oa_secret_key_file`, or from
the YAML: the mechanism of the SMPP and MQTT passwords (`gateway.settings.secrets`).

`refresh_token_file` is where the operator puts the first refresh token and where the
gateway keeps each rotated one (Zalo's refresh tokens work once: lose the new one and the
agency must authorise the app again). It must be readable, and its directory writable,
when the configuration loads, not at the first refresh hours later.

`templates` maps a notice kind to a ZNS template registered (and approved) with Zalo: its
`template_id` and, per parameter of the template, the wording that fills it, written with
the dossier fields agency templates use (`{receipt_no}`, `{due_date}`…). The MCKH reply is
not a notice: it answers in the chat, so it has no ZNS template.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from gateway.domain.notice import TEMPLATE_FIELDS, NoticeKind, TemplateError, template_fields
from gateway.settings.agencies import NOTICE_KINDS
from gateway.settings.secrets import beside, source_of, with_secret
from gateway.settings.values import (
    below,
    close_match,
    entries,
    integer,
    number,
    refuse,
    rule,
    text,
    unknown_key,
)

ZALO_SECRET_KEY_ENV = "MOTCUA_SMS_ZALO_SECRET_KEY"
ZALO_OA_SECRET_KEY_ENV = "MOTCUA_SMS_ZALO_OA_SECRET_KEY"

OAUTH_URL = "https://oauth.zaloapp.com/v4/oa/access_token"
ZNS_URL = "https://business.openapi.zalo.me/message/template"
OA_MESSAGE_URL = "https://openapi.zalo.me/v3.0/oa/message/cs"

# Zalo's template parameters are identifiers such as customer_name or order_code.
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TEMPLATE_KEYS = ("template_id", "params")
_URL = re.compile(r"https?://[^\s/]+(/\S*)?")


def _url(value: Any) -> str:
    written: str = text()(value)
    if not _URL.fullmatch(written):
        refuse(f"must be an http:// or https:// address, got {written!r}")
    return written


def _path(value: Any) -> str:
    written: str = text()(value)
    if not written.startswith("/") or any(c.isspace() for c in written):
        refuse(f"must be a URL path starting with '/', got {written!r}")
    return written


def _wording(value: Any) -> str:
    """A parameter's wording: text whose placeholders are dossier fields only."""
    wording: str = text(empty=True)(value)
    try:
        fields = template_fields(wording)
    except TemplateError as exc:
        refuse(str(exc))
    unknown = sorted(fields - TEMPLATE_FIELDS)
    if unknown:
        placeholders = ", ".join(f"{{{f}}}" for f in unknown)
        allowed = ", ".join(f"{{{f}}}" for f in sorted(TEMPLATE_FIELDS))
        refuse(f"unknown placeholder {placeholders}; a ZNS parameter may use {allowed}")
    return wording


def _param_name(name: Any) -> str:
    if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
        refuse(
            "a ZNS parameter name is the template's own: letters, digits and '_', "
            f"not starting with a digit, got {name!r}"
        )
    return name


def _params(value: Any) -> Mapping[str, str]:
    out: dict[str, str] = {}
    for name, wording in entries(value, "a mapping of ZNS parameter names").items():
        below(_param_name, name, name, "[key]")
        out[name] = below(_wording, wording, name)
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True)
class ZnsTemplate:
    """One ZNS template registered with Zalo, and what fills each of its parameters."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    template_id: str
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    _id = rule("template_id", check=text(expected="the template's id as text"))
    _params = rule("params", check=_params)


def _templates(value: Any) -> dict[str, Any]:
    """The templates as written, keyed by notice kind; unknown keys refused by name."""
    out: dict[str, Any] = {}
    for kind, body in entries(value, "a mapping of notice kinds").items():
        if kind == NoticeKind.MCKH_REPLY:
            refuse(
                "the MCKH reply is not a notice: it answers in the Zalo chat itself, "
                "so it has no ZNS template",
                kind,
                "[key]",
            )
        if kind not in NOTICE_KINDS:
            close = close_match(str(kind), NOTICE_KINDS)
            hint = f"; did you mean {close!r}?" if close else ""
            refuse(
                f"not a notice kind ({', '.join(sorted(NOTICE_KINDS))}), got {kind!r}{hint}",
                kind,
                "[key]",
            )
        section = below(entries, body, kind)
        for key in section:
            if key not in _TEMPLATE_KEYS:
                unknown_key(kind, key)
        if "template_id" not in section:
            refuse("missing: the id Zalo gave the template", kind, "template_id")
        out[kind] = section
    return out


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Where the gateway listens for Zalo's webhooks, and how old one may be.

    `max_age` (seconds): a webhook whose timestamp is older is refused as a replay.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 8091
    path: str = "/zalo/webhook"
    max_age: float = 300.0

    _host = rule("host", check=text())
    _port = rule("port", check=integer(1, 65535))
    _path = rule("path", check=_path)
    _max_age = rule("max_age", check=number(exclusive=True))


def _refresh_token_file(value: Any, info: ValidationInfo) -> str:
    """The token file, beside the configuration; readable and non-empty, in a writable
    directory (each rotated token is written beside it, then renamed over it)."""
    path = beside(source_of(info), text()(value))
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        refuse(
            f"cannot read {path}: {why}; put the OA's first refresh token there "
            "(Zalo for Developers, OA access token tool)"
        )
    if not content.strip():
        refuse(f"{path} is empty; put the OA's first refresh token there")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        refuse(f"{path.parent} is not writable: the rotated refresh token could not be kept")
    return str(path)


@dataclass(frozen=True, slots=True)
class ZaloConfig:
    """The agency's Zalo app and OA; see the module's docstring."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    ALSO_IN_FILE: ClassVar[tuple[str, ...]] = ("secret_key_file", "oa_secret_key_file")

    app_id: str
    oa_id: str
    refresh_token_file: str
    secret_key: str = field(repr=False)
    oa_secret_key: str = field(repr=False)
    oauth_url: str = OAUTH_URL
    zns_url: str = ZNS_URL
    oa_message_url: str = OA_MESSAGE_URL
    templates: Mapping[str, ZnsTemplate] = field(default_factory=lambda: MappingProxyType({}))
    # A notice Zalo accepted with no delivery webhook this long goes by SMS.
    fallback_after: float = 600.0
    # The access token is refreshed when it expires within this many seconds.
    refresh_before: float = 300.0
    # Seconds an HTTP request to Zalo may take.
    timeout: float = 10.0
    webhook: WebhookConfig = field(default_factory=WebhookConfig)

    _ids = rule("app_id", "oa_id", check=text(expected="the id as text"))
    _secrets = rule("secret_key", "oa_secret_key", check=text(secret=True))
    _urls = rule("oauth_url", "zns_url", "oa_message_url", check=_url)
    _fallback = rule("fallback_after", "timeout", check=number(exclusive=True))
    _refresh_before = rule("refresh_before", check=number())

    @field_validator("refresh_token_file", mode="plain")
    @staticmethod
    def _token_file(value: Any, info: ValidationInfo) -> str:
        return _refresh_token_file(value, info)

    @field_validator("templates", mode="before")
    @classmethod
    def _templates(cls, value: Any) -> Any:
        return _templates(value)

    @field_validator("templates", mode="after")
    @classmethod
    def _frozen_templates(cls, value: Mapping[str, ZnsTemplate]) -> Mapping[str, ZnsTemplate]:
        return MappingProxyType(dict(value))

    @model_validator(mode="before")
    @classmethod
    def _secret(cls, data: Any, info: ValidationInfo) -> Any:
        section = with_secret(data, info, ZALO_SECRET_KEY_ENV, "secret_key")
        section = with_secret(section, info, ZALO_OA_SECRET_KEY_ENV, "oa_secret_key")
        for key, env in (
            ("secret_key", ZALO_SECRET_KEY_ENV),
            ("oa_secret_key", ZALO_OA_SECRET_KEY_ENV),
        ):
            if key not in section:
                refuse(f"missing: give it in {env}, {key}_file or {key}", key)
        return section

    @model_validator(mode="after")
    def _timing(self) -> ZaloConfig:
        if self.timeout >= self.fallback_after:
            refuse(
                f"must be less than fallback_after ({self.fallback_after:g}): a request "
                "still waiting for Zalo when the notice falls back to SMS would be sent twice",
                "timeout",
                near=("fallback_after",),
            )
        return self
