"""Reading one field of an untrusted payload: the checks every field shares, and the error.

Each reader here takes the decoded JSON object and a field name, and returns the field's
value typed and checked, or raises `Invalid` naming the field; the parsers
(gateway/intake/dossier.py, sms.py) turn the first `Invalid` into a `Rejection`. The
rules (strings only for identifiers, trimmed one-line text, no control characters or
unpaired surrogates, never a phone number echoed in a reason) are described in
gateway/intake/payloads.py.

The module is pure: no I/O, no clock, no asyncio.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from gateway.mail.address import NotText

DOSSIER = "dossier"
SMS = "sms"
KINDS = frozenset({DOSSIER, SMS})

# Lengths in characters. Ids and receipt numbers are keys and appear in statuses; the
# procedure and step names are shown to citizens and operators; 1600 characters is ten
# concatenated UCS-2 parts' worth of text and more than any notice needs.
MAX_ID = 64
MAX_RECEIPT_NO = 64
MAX_AGENCY = 64
MAX_PHONE = 32

# Dates outside these years are typing or conversion errors (a year 0001 or 9999 due date
# would also upset date arithmetic further on).
MIN_YEAR = 2000
MAX_YEAR = 2199

_RECEIPT_NO_BAD = re.compile(r"[^A-Za-z0-9./_-]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0, DEL and C1 controls; in multi-line text, tab, line feed and carriage return are fine.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A last guard for reasons: nine or more digits, with the layout people type between them.
_PHONE_LIKE = re.compile(r"\d(?:[\s.()\-+]*\d){8,}")

# Values with this many digits or more are not echoed in a reason: they may be phone numbers.
_MAX_DIGITS_SHOWN = 7
_MAX_CHARS_SHOWN = 40


@dataclass(frozen=True, slots=True)
class Rejection:
    """A payload that cannot be used, and why, for the `rejected` status sent back.

    `agency` is the topic's agency, under which the status is published (the payload's own
    may be missing or wrong). `ref` (the event or job id) and `receipt_no` are given when
    they could be read, even when another field is bad, so that the sender can tell which
    of its messages was refused. `reason` starts with `field`, says what is wrong, and never
    repeats a phone number.
    """

    kind: str
    agency: str | None
    ref: str | None
    receipt_no: str | None
    field: str
    reason: str


class Invalid(Exception):
    """Raised by a field reader for one bad field; turned into a `Rejection` by the parser."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.reason = f"{field}: {problem}"


def fail(field: str, problem: str) -> NoReturn:
    raise Invalid(field, problem)


def rejection(
    kind: str, topic_agency: str, exc: Invalid, *, ref: str | None, receipt_no: str | None = None
) -> Rejection:
    """The `Rejection` for `exc`, published under the topic's agency when it has one."""
    return Rejection(
        kind=kind,
        agency=topic_agency if isinstance(topic_agency, str) and topic_agency else None,
        ref=ref,
        receipt_no=receipt_no,
        field=exc.field,
        reason=_reason(exc.reason),
    )


def _reason(text: str) -> str:
    # Fields are checked so that no value with many digits is echoed; this is the last
    # guard, in case a message from elsewhere (parse_status) ever carries one.
    return _PHONE_LIKE.sub("…", text)


def type_name(value: object) -> str:
    """What a JSON value is, in the words of a reason ("a string", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def shown(value: object) -> str:
    """`value` fit to appear in a reason: quoted and short, or described, never a phone."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)  # as the sender wrote it: null, true, false
    if isinstance(value, int | float):
        value = repr(value)
        digits = sum(c.isdigit() for c in value)
        return value if digits < _MAX_DIGITS_SHOWN else f"a number ({digits} digits, not shown)"
    if not isinstance(value, str):
        return type_name(value)
    digits = sum(c.isdigit() for c in value)
    if digits >= _MAX_DIGITS_SHOWN:
        return f"a value of {len(value)} characters (not shown: it has {digits} digits)"
    value = SURROGATE.sub("\ufffd", value)
    if len(value) > _MAX_CHARS_SHOWN:
        return repr(value[:_MAX_CHARS_SHOWN]) + "…"
    return repr(value)


def char_name(char: str) -> str:
    return f"U+{ord(char):04X}"


def _visible(char: str) -> bool:
    """Whether `char` shows: not white space, a format character (Cf) or a mark alone."""
    return not char.isspace() and unicodedata.category(char) not in ("Cf", "Mn", "Me")


def check_text(field: str, value: str, *, max_len: int, multiline: bool = False) -> str:
    """`value` trimmed, or Invalid when it is blank, too long, or cannot be stored or sent."""
    trimmed = value.strip()
    if not trimmed:
        fail(field, "empty")
    if not any(_visible(char) for char in trimmed):
        # Zero-width spaces, soft hyphens, a BOM, lone accents: nothing a reader sees, and
        # stripping would send an empty SMS the province still pays for.
        fail(field, "empty: only invisible characters")
    if len(trimmed) > max_len:
        fail(field, f"longer than {max_len} characters ({len(trimmed)})")
    if SURROGATE.search(value):
        fail(field, "contains an unpaired surrogate (a \\uD800-\\uDFFF escape alone)")
    control = (_CONTROL_MULTILINE if multiline else _CONTROL).search(trimmed)
    if control is not None:
        fail(field, f"contains the control character {char_name(control.group())}")
    return trimmed


def string(
    obj: Mapping[str, Any],
    field: str,
    *,
    max_len: int,
    required: bool,
    multiline: bool = False,
    strip: bool = True,
) -> str | None:
    """The text of `field`, checked; None when optional and absent, null or blank.

    Anything but a JSON string is refused; a number with "quote it", as unquoted
    identifiers lose leading zeros (a receipt number, a phone number, a procedure code
    like 2.000120). With `strip=False` the text is returned as sent (checks still apply to
    it trimmed).
    """
    value = obj.get(field)
    if value is None:
        if required:
            fail(field, "missing" if field not in obj else "null, but it is required")
        return None
    if not isinstance(value, str):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        quote = " (quote it)" if number else ""
        fail(field, f"must be a string{quote}, got {type_name(value)}")
    if not required and not value.strip():
        return None
    trimmed = check_text(field, value, max_len=max_len, multiline=multiline)
    return trimmed if strip else value


def required(obj: Mapping[str, Any], field: str, *, max_len: int, **kw: Any) -> str:
    """The text of a field that must be given; see `string`."""
    value = string(obj, field, max_len=max_len, required=True, **kw)
    if value is None:  # not reached: string() raises for a required field it cannot return
        fail(field, "missing")
    return value


def receipt_no(obj: Mapping[str, Any]) -> str:
    """The receipt number: a key typed by citizens, so only a few unambiguous characters."""
    value = required(obj, "receipt_no", max_len=MAX_RECEIPT_NO)
    bad = _RECEIPT_NO_BAD.search(value)
    if bad is not None:
        char = bad.group()
        what = repr(char) if char.isprintable() and not char.isspace() else char_name(char)
        fail(
            "receipt_no",
            f"contains {what}; only letters, digits, '.', '-', '/' and '_' are allowed",
        )
    return value


def peek(read: Callable[[Mapping[str, Any]], str], obj: Mapping[str, Any]) -> str | None:
    """What `read` makes of `obj`, or None when that field is itself bad."""
    try:
        return read(obj)
    except Invalid:
        return None


def agency(obj: Mapping[str, Any], topic_agency: str, *, required: bool) -> str:
    """The payload's agency, which must be the topic's (a payload cannot speak for another)."""
    value = string(obj, "agency", max_len=MAX_AGENCY, required=required)
    if value is None:
        return topic_agency
    if value != topic_agency:
        fail("agency", f"payload says {shown(value)} but topic is {shown(topic_agency)}")
    return value


def check_topic_agency(topic_agency: str, agencies: Collection[str]) -> None:
    """Invalid unless the topic's agency is configured (any object may be passed in)."""
    try:
        known = topic_agency in agencies
    except TypeError:
        known = False
    if not known:
        fail("agency", f"unknown agency {shown(topic_agency)}")


def year_ok(field: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        fail(field, f"year {year} out of range {MIN_YEAR}-{MAX_YEAR}")


# The most of an `email` value kept: RFC 5321's limit on a path.
MAX_EMAIL = 320


def email(obj: Mapping[str, Any]) -> str | NotText | None:
    """`email` as sent, or None when absent, null or blank. Never a reason to refuse the
    payload: a bad address refuses the e-mail copy alone, when it is made
    (`gateway.compose.letters`), and the notice goes all the same. Text is cut to
    MAX_EMAIL (still refused then as too long); any other JSON value becomes `NotText`
    with its type's name, for the copy's refusal to name."""
    value = obj.get("email")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return value[: MAX_EMAIL + 1]
    return NotText(type_name(value))
