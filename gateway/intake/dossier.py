"""A dossier event (`{prefix}/{agency}/dossier`): read strictly into a `DossierEvent`.

The module is pure: no I/O, no clock, no asyncio. See gateway/intake/payloads.py for the
rules every payload follows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from gateway.domain.dossier import parse_status
from gateway.intake import fields as f
from gateway.intake.decoding import decode
from gateway.intake.fields import Invalid, Rejection, fail, shown, type_name
from gateway.mail.address import NotText

MAX_PROCEDURE = 500
MAX_PROCEDURE_CODE = 64
MAX_STEP = 200
# The most of a dossier's phone text the mirror keeps: far more than any number the phone
# module takes (64 characters), so that a cut text is still refused as too long.
MAX_PHONE_KEPT = 256

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The shape of date and time taken (dossier.json holds the same): ISO 8601's extended
# form, 'T' (or 't', or a space) between, minutes at least, up to nine fraction digits
# (.NET's round-trip format writes seven, Java's Instant up to nine), an optional offset
# with or without its colon (Java's `Z` pattern writes +0700). fromisoformat alone would
# also take week dates, the basic form and any character between date and time, which
# the schema, and most other readers of the same payload, do not.
_ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)


@dataclass(frozen=True, slots=True)
class DossierEvent:
    """A dossier's state changed (`{prefix}/{agency}/dossier`), checked and typed.

    `phone` is the text as sent (cut to MAX_PHONE_KEPT), or None when none was given: it is
    validated when a notice is made, because a bad number (too long, a tab, a desk's note)
    must not stop the dossier mirror (and MCKH replies) from following the dossier.
    `status` is the canonical name even when the national portal's numeric code was sent.
    `occurred_at` is always aware. `email` is the address an e-mail copy of each notice
    goes to (as sent, or `NotText`), never checked here: a bad one refuses the copy alone.
    """

    event_id: str
    receipt_no: str
    agency: str
    procedure: str
    procedure_code: str | None
    phone: str | None
    step: str
    status: str
    due_date: date | None
    same_day: bool
    occurred_at: datetime
    email: str | NotText | None = None


def _status(obj: Mapping[str, Any]) -> str:
    if "status" not in obj:
        fail("status", "missing")
    value = obj["status"]
    if isinstance(value, str):
        value = value.strip()
    try:
        return parse_status(value)
    except ValueError as exc:
        message = str(exc)
        # parse_status ends its message with the value's repr; that may be a phone number
        # or a whole nested object, so it is replaced by what a reason may show.
        raw = repr(value)
        if message.endswith(raw):
            message = message[: -len(raw)] + shown(value)
        if message.startswith("status "):
            message = message[len("status ") :]
        fail("status", message)


def _due_date(obj: Mapping[str, Any]) -> date | None:
    """The due date, or None: some procedures have none (and then cannot be late)."""
    value = obj.get("due_date")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        fail("due_date", f"must be a string in YYYY-MM-DD form, got {type_name(value)}")
    text = value.strip()
    if not _ISO_DATE.fullmatch(text):
        fail("due_date", "not a date in YYYY-MM-DD form")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        fail("due_date", f"impossible date {text}")
    f.year_ok("due_date", parsed.year)
    return parsed


def _occurred_at(obj: Mapping[str, Any], tz: tzinfo) -> datetime:
    """When the change happened, aware; a time without an offset is local to `tz`."""
    text = f.required(obj, "occurred_at", max_len=64)
    if _ISO_DATE.fullmatch(text):
        # fromisoformat reads a bare date as its midnight; the order of events needs the time.
        fail("occurred_at", "a date without a time; ISO 8601 date and time needed")
    if not _ISO_DATE_TIME.fullmatch(text):
        fail("occurred_at", "not an ISO 8601 date and time (e.g. 2026-11-22T10:00:00+07:00)")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        fail("occurred_at", "not an ISO 8601 date and time (e.g. 2026-11-22T10:00:00+07:00)")
    f.year_ok("occurred_at", parsed.year)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _phone(obj: Mapping[str, Any]) -> str | None:
    """The phone as sent, or None when absent, null or blank; never a reason to refuse the
    event. Whether it is a number an SMS can go to (its length, its characters) is the
    phone module's to say when a notice is made, and a bad one refuses that notice alone:
    the mirror, and MCKH replies, must follow the dossier whatever the desk typed. Only
    what the store cannot keep is changed here: unpaired surrogates become U+FFFD (still
    no number), and text longer than MAX_PHONE_KEPT is cut to it (still too long for one)."""
    value = obj.get("phone")
    if not isinstance(value, str) or not value.strip():
        # None for absent, null or blank; a JSON number or any other type is refused as
        # every text field is ("quote it": a number has already lost its leading 0).
        return f.string(obj, "phone", max_len=MAX_PHONE_KEPT, required=False)
    text = f.SURROGATE.sub("\ufffd", value)
    return text if len(text) <= MAX_PHONE_KEPT else text.strip()[:MAX_PHONE_KEPT]


def _same_day(obj: Mapping[str, Any]) -> bool:
    value = obj.get("same_day")
    if value is None:
        return False
    if not isinstance(value, bool):
        fail("same_day", f"must be true or false (a JSON boolean), got {type_name(value)}")
    return value


def _event_id(obj: Mapping[str, Any]) -> str:
    return f.required(obj, "event_id", max_len=f.MAX_ID)


def parse_dossier(
    payload: bytes,
    *,
    topic_agency: str,
    agencies: Collection[str],
    tz: tzinfo,
    size: int | None = None,
) -> DossierEvent | Rejection:
    """The dossier event in `payload` (from `{prefix}/{topic_agency}/dossier`), or why not.

    Never raises for any payload. The first bad field found is the one reported. `size`
    is the size it arrived with, if larger than what was kept.
    """
    ref: str | None = None
    receipt_no: str | None = None
    try:
        obj = decode(payload, size)
        ref = f.peek(_event_id, obj)
        receipt_no = f.peek(f.receipt_no, obj)
        f.check_topic_agency(topic_agency, agencies)
        event = DossierEvent(
            event_id=_event_id(obj),
            receipt_no=f.receipt_no(obj),
            agency=f.agency(obj, topic_agency, required=True),
            procedure=f.required(obj, "procedure", max_len=MAX_PROCEDURE),
            procedure_code=f.string(
                obj, "procedure_code", max_len=MAX_PROCEDURE_CODE, required=False
            ),
            phone=_phone(obj),
            step=f.required(obj, "step", max_len=MAX_STEP),
            status=_status(obj),
            due_date=_due_date(obj),
            same_day=_same_day(obj),
            occurred_at=_occurred_at(obj, tz),
            email=f.email(obj),
        )
    except Invalid as exc:
        return f.rejection(f.DOSSIER, topic_agency, exc, ref=ref, receipt_no=receipt_no)
    return event
