"""The notices citizens receive, rendered from the dossier's state and nothing else.

A notice is never edited by a person (SPEC, rules from the seeds), so the whole text comes
from a template and the dossier's fields: a template that cannot be filled completely is an
error, never a half-rendered SMS that a citizen pays attention to (or pays for, with MCKH).
The template language itself (`template_fields`) is the domain's, `gateway.domain.notice`,
because configuration checks overrides with it when it loads.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from gateway.domain.notice import NoticeKind, TemplateError, template_fields
from gateway.smpp.text import strip_diacritics

_FORMATTER = string.Formatter()

# Word for word from SPEC.md "Notices". Agencies that want their own wording (seed 000's
# "TB: …") override per kind in configuration rather than edit these.
DEFAULT_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        NoticeKind.RESULT: (
            "Thông báo: Hồ sơ của quý Ông/Bà ({receipt_no}) đã được giải quyết xong. "
            "Mời Ông/Bà đến Bộ phận Một cửa {agency_name} để nhận kết quả"
        ),
        NoticeKind.SUPPLEMENT: (
            "Thông báo: Hồ sơ của quý Ông/Bà ({receipt_no}) cần bổ sung theo quy định. "
            "Mời Ông/Bà đến Bộ phận Một cửa {agency_name} để nhận thông báo"
        ),
        NoticeKind.APOLOGY: (
            "Thông báo: Hồ sơ của quý Ông/Bà ({receipt_no}) chưa có kết quả vào ngày "
            "{due_date}. {agency_name} chân thành xin lỗi. Ông/Bà vui lòng đến nhận kết quả "
            "khi có tin nhắn tiếp theo"
        ),
        NoticeKind.RECEIPT: (
            "Thông báo: {agency_name} đã tiếp nhận hồ sơ của quý Ông/Bà ({receipt_no}). "
            "Ngày hẹn trả kết quả: {due_date}"
        ),
        NoticeKind.PAYMENT: (
            "Thông báo: Hồ sơ của quý Ông/Bà ({receipt_no}) cần thực hiện nghĩa vụ tài chính. "
            "Mời Ông/Bà liên hệ Bộ phận Một cửa {agency_name} hoặc thanh toán trực tuyến"
        ),
        NoticeKind.MCKH_REPLY: (
            "Hồ sơ của quý Ông/Bà ({receipt_no}) hiện đang ở bước {step}, "
            "trạng thái hồ sơ: {timeliness}."
        ),
    }
)


def format_date(d: date) -> str:
    """dd/mm/yyyy, the way Vietnamese offices and citizens write dates."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A template parsed once: its fields, and its text as alternating literals and field
    names, NFC, with each literal's diacritics-stripped form beside it."""

    fields: frozenset[str]
    pieces: tuple[tuple[str, str, str | None], ...]  # (literal, literal stripped, field)


@functools.lru_cache(maxsize=256)
def _compiled(template: str) -> _Compiled:
    """Templates are a handful per agency: each is parsed, normalised and stripped once,
    not once per notice. TemplateError as `template_fields` raises it."""
    fields = template_fields(template)
    pieces = tuple(
        (literal, strip_diacritics(literal), name)
        for literal, name, _spec, _conversion in _FORMATTER.parse(
            unicodedata.normalize("NFC", template)
        )
    )
    return _Compiled(fields, pieces)


# Field values repeat (an agency's name, a procedure's, a step's); each distinct one is
# stripped once while it keeps coming. Receipt numbers are ASCII: stripping returns them.
_stripped = functools.lru_cache(maxsize=4096)(strip_diacritics)


def render(template: str, fields: Mapping[str, str], *, strip: bool) -> str:
    """The final SMS text: `template` filled with `fields`, NFC, diacritics stripped if asked.

    `fields` is a mapping, never keyword arguments: its names come from payloads (an SMS
    job's params), and a name such as `strip` or `template` must stay a field, not become
    an argument of this function. Every field the template uses must be given as a
    string; otherwise TemplateError names the field, so that a `None` due date never goes
    out as "Ngày hẹn trả kết quả: None". Unused fields are fine: an agency's override may
    leave some out.

    Stripping goes piece by piece (the template's literals stripped once, each field value
    once while it repeats): that is the whole text stripped whenever the joined result is
    ASCII, since characters can only combine across a piece boundary into something that
    is not ASCII after stripping. Otherwise the whole text is stripped again as one.
    """
    compiled = _compiled(template)
    missing = sorted(compiled.fields - fields.keys())
    if missing:
        raise TemplateError(f"template needs field(s) not given: {', '.join(missing)}")
    not_text = sorted(name for name in compiled.fields if not isinstance(fields[name], str))
    if not_text:
        raise TemplateError(f"template field(s) given a non-string value: {', '.join(not_text)}")
    if strip:
        text = "".join(
            literal + ("" if name is None else _stripped(fields[name]))
            for _literal, literal, name in compiled.pieces
        )
        if text.isascii():
            return text
    text = unicodedata.normalize(
        "NFC",
        "".join(
            literal + ("" if name is None else fields[name])
            for literal, _stripped_literal, name in compiled.pieces
        ),
    )
    return strip_diacritics(text) if strip else text


def template_for(kind: str, overrides: Mapping[str, str]) -> str:
    """The agency's own template for `kind` when it has one, else the SPEC default.

    An empty override is refused rather than sent as an empty SMS.
    """
    try:
        notice_kind = NoticeKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in NoticeKind)
        raise TemplateError(f"unknown notice kind {kind!r}; known kinds: {known}") from None
    override = overrides.get(notice_kind)
    if override is None:
        return DEFAULT_TEMPLATES[notice_kind]
    if not override.strip():
        raise TemplateError(f"template override for {notice_kind.value} is empty")
    return override


def job_template(name: str, templates: Mapping[str, str]) -> str:
    """The template an SMS job names (SPEC `{prefix}/{agency}/sms`): a notice kind (the
    agency's override or the default) or any other template the agency's configuration
    names. TemplateError says which name is unknown."""
    if name in templates or name not in _KIND_NAMES:
        text = templates.get(name)
        if text is None:
            raise TemplateError(f"unknown template {name!r}")
        if not text.strip():
            raise TemplateError(f"template {name!r} is empty")
        return text
    return template_for(name, templates)


_KIND_NAMES = frozenset(k.value for k in NoticeKind)

# What a job naming a notice kind does not give: the gateway fills it from the agency's
# configuration, as it does for the notice itself, so a caller cannot misname the office.
FILLED_FOR_JOBS = frozenset({"agency_name"})


def names_notice_kind(name: str) -> bool:
    """Whether the template an SMS job names is a notice kind's (not the agency's own)."""
    return name in _KIND_NAMES


def notice_job_fields(params: Mapping[str, str], *, agency_name: str) -> dict[str, str]:
    """A job's params for a notice-kind template, made the fields a notice has: the agency
    name from configuration, and a `due_date` given as YYYY-MM-DD (the contract's form for
    dates) written dd/mm/yyyy as notices write it. Any other due date text is kept."""
    fields = {**params, "agency_name": agency_name}
    due = fields.get("due_date", "").strip()
    if _ISO_DATE.fullmatch(due):
        try:
            fields["due_date"] = format_date(date.fromisoformat(due))
        except ValueError:
            raise TemplateError("due_date: not a date (give YYYY-MM-DD)") from None
    return fields


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
