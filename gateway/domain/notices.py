"""The notices citizens receive, rendered from the dossier's state and nothing else.

A notice is never edited by a person (SPEC, rules from the seeds), so the whole text comes
from a template and the dossier's fields: a template that cannot be filled completely is an
error, never a half-rendered SMS that a citizen pays attention to (or pays for, with MCKH).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from gateway.smpp.text import strip_diacritics


class TemplateError(ValueError):
    """A template that cannot produce a complete message: bad syntax, field or kind."""


class NoticeKind(StrEnum):
    """What a message tells the citizen; also the key of its template in configuration."""

    RESULT = "result"
    SUPPLEMENT = "supplement"
    APOLOGY = "apology"
    RECEIPT = "receipt"
    PAYMENT = "payment"
    MCKH_REPLY = "mckh_reply"


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

# The fields the gateway fills from a dossier; an override may use any of them.
TEMPLATE_FIELDS = frozenset(
    {"receipt_no", "agency_name", "due_date", "step", "timeliness", "procedure"}
)

STATUSES = frozenset(
    {
        "received",
        "processing",
        "needs_supplement",
        "needs_payment",
        "result_ready",
        "returned",
        "rejected",
        "withdrawn",
    }
)

# Entering one of these statuses is what sends a notice; the apology and the MCKH reply
# are not tied to a transition.
STATUS_TRIGGERS: Mapping[str, NoticeKind] = MappingProxyType(
    {
        "result_ready": NoticeKind.RESULT,
        "needs_supplement": NoticeKind.SUPPLEMENT,
        "received": NoticeKind.RECEIPT,
        "needs_payment": NoticeKind.PAYMENT,
    }
)

# The National Public Service Portal's codes, which some one-stop software sends as is.
NATIONAL_STATUS_CODES: Mapping[int, str] = MappingProxyType(
    {
        1: "received",  # Mới đăng ký
        2: "received",  # Được tiếp nhận
        3: "rejected",  # Không được tiếp nhận
        4: "processing",  # Đang xử lý
        5: "needs_supplement",  # Yêu cầu bổ sung giấy tờ
        6: "needs_payment",  # Yêu cầu thực hiện nghĩa vụ tài chính
        7: "withdrawn",  # Công dân yêu cầu rút hồ sơ
        8: "rejected",  # Dừng xử lý
        9: "result_ready",  # Đã xử lý xong
        10: "returned",  # Đã trả kết quả
    }
)

# Past these there is nothing left to apologise for: the result exists or never will.
FINISHED_STATUSES = frozenset({"result_ready", "returned", "rejected", "withdrawn"})

ON_TIME = "Đúng hạn"
LATE = "Trễ hạn"

_ALLOWED_STATUSES = (
    f"one of {', '.join(sorted(STATUSES))}, or a national status code "
    f"{min(NATIONAL_STATUS_CODES)}-{max(NATIONAL_STATUS_CODES)}"
)


def parse_status(value: object) -> str:
    """The status name for a name or a national code (int or numeric string).

    The reason given names every allowed value, because it goes back to the one-stop
    software's developers in a `rejected` status and must let them fix their side.
    `True` is refused although Python counts it as 1: it is a JSON boolean, not a code.
    """
    code: int | None = None
    if isinstance(value, str):
        if value in STATUSES:
            return value
        if value.isascii() and value.isdigit() and len(value) <= 2:
            code = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        code = value
    if code is not None and code in NATIONAL_STATUS_CODES:
        return NATIONAL_STATUS_CODES[code]
    raise ValueError(f"status must be {_ALLOWED_STATUSES}; got {value!r}")


def format_date(d: date) -> str:
    """dd/mm/yyyy, the way Vietnamese offices and citizens write dates."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def timeliness(*, today: date, due_date: date | None, finished_on: date | None) -> str:
    """`Đúng hạn` or `Trễ hạn`, as the MCKH reply states it.

    An open dossier turns late only once its due date has passed, not on it; a finished one
    keeps the verdict of the day it reached the result, however late the citizen asks. A
    dossier without a due date cannot be late.
    """
    if due_date is None:
        return ON_TIME
    reference = today if finished_on is None else finished_on
    return ON_TIME if reference <= due_date else LATE


_FORMATTER = string.Formatter()

MAX_PLACEHOLDER = 64  # characters in a placeholder's (and so a job param's) name


def placeholder_name(name: str) -> str | None:
    """`name` as a template placeholder and a job param know it (NFC), or None if it is no
    plain name: the one rule for both, so that every placeholder configuration accepts can
    be filled by a job. Unicode letters are names (`{số_tiền}`, as Vietnamese agencies
    write them); NFC, so that a template typed on one keyboard and a param sent by
    another program's decomposed text still name the same thing.
    """
    name = unicodedata.normalize("NFC", name)
    return name if name.isidentifier() and len(name) <= MAX_PLACEHOLDER else None


def template_fields(template: str) -> frozenset[str]:
    """The field names `template` uses (NFC), for checking an override when configuration loads.

    Only plain `{name}` fields are allowed: positional `{}`, attribute or index access,
    conversions and format specs have no use on text fields and would make an override's
    failure show up at the first SMS instead of at start-up.
    """
    try:
        parsed = list(_FORMATTER.parse(unicodedata.normalize("NFC", template)))
    except ValueError as exc:
        raise TemplateError(f"malformed template: {exc}") from None
    names: set[str] = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if placeholder_name(name) is None:
            raise TemplateError(
                f"template field {{{name}}} is not a plain {{name}} field (letters, digits "
                f"and _, not starting with a digit, at most {MAX_PLACEHOLDER})"
            )
        if spec or conversion:
            raise TemplateError(f"template field {{{name}}} takes no conversion or format spec")
        names.add(name)
    return frozenset(names)


def render(template: str, fields: Mapping[str, str], *, strip: bool) -> str:
    """The final SMS text: `template` filled with `fields`, NFC, diacritics stripped if asked.

    `fields` is a mapping, never keyword arguments: its names come from payloads (an SMS
    job's params), and a name such as `strip` or `template` must stay a field, not become
    an argument of this function. Every field the template uses must be given as a
    string; otherwise TemplateError names the field, so that a `None` due date never goes
    out as "Ngày hẹn trả kết quả: None". Unused fields are fine: an agency's override may
    leave some out.
    """
    used = template_fields(template)
    missing = sorted(used - fields.keys())
    if missing:
        raise TemplateError(f"template needs field(s) not given: {', '.join(missing)}")
    not_text = sorted(name for name in used if not isinstance(fields[name], str))
    if not_text:
        raise TemplateError(f"template field(s) given a non-string value: {', '.join(not_text)}")
    template = unicodedata.normalize("NFC", template)  # its names as template_fields has them
    text = unicodedata.normalize("NFC", template.format_map({name: fields[name] for name in used}))
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
