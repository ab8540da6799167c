"""The `agencies:` section: each agency whose one-stop software publishes under its code.

An agency's `templates` map a notice kind (or `mckh_reply`) to the agency's own wording,
checked against the dossier fields a notice has, and any other name to a template that
SMS jobs can name with their own parameters.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal, get_args

from pydantic import ConfigDict

from gateway.domain.channel import NOTICE_CHANNELS, Channel
from gateway.domain.notice import TEMPLATE_FIELDS, NoticeKind, TemplateError, template_fields
from gateway.settings.explain import file_keys
from gateway.settings.mail import MailConfig, from_address
from gateway.settings.values import (
    below,
    boolean,
    entries,
    items,
    not_text,
    one_of,
    optional,
    refuse,
    rule,
    text,
    unknown_key,
)

Diacritics = Literal["strip", "keep"]

# Kinds an agency can switch on; the MCKH reply is not a notice (it answers an MO), but its
# wording can be overridden like theirs.
TEMPLATE_KINDS = frozenset(kind.value for kind in NoticeKind)
NOTICE_KINDS = TEMPLATE_KINDS - {NoticeKind.MCKH_REPLY.value}

_AGENCY_CODE = re.compile(r"[A-Za-z0-9_.-]+")
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _notices(value: Any) -> frozenset[str]:
    check = one_of(sorted(NOTICE_KINDS))
    return frozenset(below(check, item, i) for i, item in enumerate(items(value, "notice kinds")))


def _channels(value: Any) -> tuple[Channel, ...]:
    """The notice channels in order of preference: each once, SMS among them (a citizen
    without Zalo must still be told), e-mail not (it is a copy, `email: true`)."""
    check = one_of([c.value for c in NOTICE_CHANNELS])
    listed = items(value, "channels")
    chosen: list[Channel] = []
    for i, item in enumerate(listed):
        if item == Channel.EMAIL.value:
            refuse("e-mail is not a channel a notice goes by but a copy of it: set email: true", i)
        channel = Channel(below(check, item, i))
        if channel in chosen:
            refuse(f"{channel.value} is listed twice", i)
        chosen.append(channel)
    if Channel.SMS not in chosen:
        refuse("sms must be one of the channels: a citizen without Zalo is told by SMS")
    return tuple(chosen)


def _template(name: Any, value: Any) -> str:
    if not isinstance(name, str) or not _TEMPLATE_NAME.fullmatch(name):
        refuse(
            "a template name must be letters, digits, '_', '.' or '-' "
            f"(a notice kind: {', '.join(sorted(TEMPLATE_KINDS))}; or your own name)"
        )
    wording: str = text()(value)
    try:
        fields = template_fields(wording)
    except TemplateError as exc:
        refuse(str(exc))
    unknown = sorted(fields - TEMPLATE_FIELDS) if name in TEMPLATE_KINDS else []
    if unknown:
        placeholders = ", ".join(f"{{{f}}}" for f in unknown)
        allowed = ", ".join(f"{{{f}}}" for f in sorted(TEMPLATE_FIELDS))
        refuse(f"unknown placeholder {placeholders}; a {name} template may use {allowed}")
    return wording


def _templates(value: Any) -> Mapping[str, str]:
    return MappingProxyType(
        {
            name: below(lambda v, n=name: _template(n, v), wording, name)
            for name, wording in entries(value).items()
        }
    )


@dataclass(frozen=True, slots=True)
class AgencyConfig:
    """One agency (Sở, UBND, …): its code (the key it is written under), its name, and
    which notices it sends in which wording."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    NOT_IN_FILE: ClassVar[tuple[str, ...]] = ("code",)

    code: str
    name: str
    skip_same_day: bool = True
    diacritics: Diacritics = "strip"
    notices: frozenset[str] = frozenset({"result", "supplement", "apology"})
    templates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    channels: tuple[Channel, ...] = (Channel.SMS,)
    # Notices also by e-mail when an event or job carries `email` (needs `email:`); From
    # is `email_from`, else `email.from` (filled in at loading).
    email: bool = False
    email_from: str | None = None

    _name = rule("code", "name", check=text())
    _skip = rule("skip_same_day", check=boolean)
    _diacritics = rule("diacritics", check=one_of(get_args(Diacritics)))
    _notices = rule("notices", check=_notices)
    _templates = rule("templates", check=_templates)
    _channels = rule("channels", check=_channels)
    _email = rule("email", check=boolean)
    _email_from = rule("email_from", check=optional(from_address))


_FILE_KEYS = frozenset(file_keys(AgencyConfig))


def _code(code: Any) -> str:
    if not isinstance(code, str):
        not_text("an agency code (text)")
    if not _AGENCY_CODE.fullmatch(code):
        refuse(
            "an agency code is letters, digits, '_', '.' or '-' only "
            f"(it is part of MQTT topics), got {code!r}"
        )
    return code


def agencies(value: Any) -> dict[str, dict[str, Any]]:
    """The agencies as written, each given its code; refused when there are none.

    Runs before the agencies are validated, so the code, which is the key in the file, is
    the model's field, and not a key an agency may write.
    """
    out: dict[str, dict[str, Any]] = {}
    for code, body in entries(value, "a mapping of agency codes").items():
        below(_code, code, code, "[key]")
        if body is None:
            refuse("missing: every agency needs a name", code, "name")
        fields = below(entries, body, code)
        for key in fields:
            if key not in _FILE_KEYS:
                unknown_key(code, key)
        if "name" not in fields:
            refuse("missing: every agency needs a name", code, "name")
        out[code] = {**fields, "code": code}
    if not out:
        refuse("at least one agency is needed")
    return out


def agencies_mailing(
    mail: MailConfig | None, found: Mapping[str, AgencyConfig]
) -> Mapping[str, AgencyConfig]:
    """The agencies with e-mail checked against the `email:` section: an agency with
    `email: true` needs the section (refused, naming the agency's key, without it), and its
    `email_from` is the section's `from` when it gives none."""
    out: dict[str, AgencyConfig] = {}
    for code, agency in found.items():
        if agency.email and mail is None:
            refuse(
                "e-mail is on for this agency, but there is no `email:` section (the SMTP "
                "server to send through); add one, or set email: false",
                "agencies",
                code,
                "email",
            )
        if agency.email and agency.email_from is None and mail is not None:
            agency = dataclasses.replace(agency, email_from=mail.sender)
        out[code] = agency
    return MappingProxyType(out)


def agencies_on_zalo(zalo: object | None, found: Mapping[str, AgencyConfig]) -> None:
    """An agency that lists Zalo among its channels needs the `zalo:` section (the
    Official Account its notices go from): refused, naming the agency's key, without it."""
    for code, agency in found.items():
        if Channel.ZALO in agency.channels and zalo is None:
            refuse(
                "zalo is one of this agency's channels, but there is no `zalo:` section "
                "(the Official Account, its keys and templates); add one, or list only sms",
                "agencies",
                code,
                "channels",
            )
