"""MQTT payloads from the one-stop software, read strictly into dossier events and SMS jobs.

Every payload is untrusted: it comes from each agency's own software, written and changed
by people the province does not control. A payload that cannot be used must come back to
its sender as a `rejected` status whose reason names the field and says what is wrong, so
that their developers can fix their side; it must never raise (one bad message would stop
the intake) and never vanish (a citizen would wait for an SMS that never comes).

So every parser here returns a value, never raises, for any bytes at all: a `DossierEvent`
or `SmsJob` when the payload is usable, else a `Rejection` carrying the offending field, a
reason that starts with that field's name, and whatever the caller needs to correlate the
rejection (the event or job id, the receipt number) when it could be read.

Rules that are not obvious from the SPEC:

- Unknown fields are ignored, so that the one-stop software can add fields before the
  gateway knows them. A key given twice in one object is refused: which value counts
  would be a guess.
- Identifiers and numbers-as-text (receipt numbers, phone numbers, procedure codes) must be
  JSON strings: a JSON number has already lost its leading 0.
- Surrounding whitespace is trimmed from single-line text fields; the phone number is kept
  as sent (it is validated and normalised when a notice is made, so that a bad number does
  not stop the dossier mirror from updating) and SMS text is kept as written.
- Text that cannot be stored or sent is refused here rather than deeper down: control
  characters in one-line fields and unpaired surrogates (from `\\ud800`-style escapes,
  which Python's JSON reader lets through but UTF-8 cannot encode) anywhere.
- A reason never repeats a value that may be a phone number (personal data, and reasons
  travel in MQTT statuses and logs): values are echoed only when short and nearly free of
  digits.

The module is pure: no I/O, no clock, no asyncio.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NoReturn

from gateway.domain.dossier import parse_status
from gateway.domain.notice import MAX_PLACEHOLDER, placeholder_name

__all__ = [
    "KINDS",
    "MAX_DEPTH",
    "MAX_PAYLOAD",
    "DossierEvent",
    "Placeholders",
    "Rejection",
    "SmsJob",
    "TemplateParams",
    "parse_dossier",
    "parse_sms",
    "parse_topic",
]

MAX_PAYLOAD = 64 * 1024  # bytes; a dossier event is a few hundred, an SMS job under 2 KiB

# The deepest nesting a payload may have; the contract needs 2 (an SMS job's params), the
# rest is headroom for fields added later. Checked before parsing, so that a payload of
# thousands of `[` can neither exhaust the stack nor cost time.
MAX_DEPTH = 20

DOSSIER = "dossier"
SMS = "sms"
KINDS = frozenset({DOSSIER, SMS})

# Lengths in characters. Ids and receipt numbers are keys and appear in statuses; the
# procedure and step names are shown to citizens and operators; 1600 characters is ten
# concatenated UCS-2 parts' worth of text and more than any notice needs.
MAX_ID = 64
MAX_RECEIPT_NO = 64
MAX_AGENCY = 64
MAX_PROCEDURE = 500
MAX_PROCEDURE_CODE = 64
MAX_STEP = 200
MAX_PHONE = 32
MAX_TEXT = 1600
MAX_TEMPLATE = 64
MAX_PARAM_NAME = MAX_PLACEHOLDER
MAX_PARAM_VALUE = 500

# Dates outside these years are typing or conversion errors (a year 0001 or 9999 due date
# would also upset date arithmetic further on).
MIN_YEAR = 2000
MAX_YEAR = 2199

# Python's JSON reader would otherwise turn a 5000-digit integer into an error that is not a
# JSONDecodeError, and parse one of a few hundred digits slowly.
_MAX_NUMBER_CHARS = 40

_RECEIPT_NO_CHARS = re.compile(r"[A-Za-z0-9./_-]+")
_RECEIPT_NO_BAD = re.compile(r"[^A-Za-z0-9./_-]")
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # as configuration names templates
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0, DEL and C1 controls; in multi-line text, tab, line feed and carriage return are fine.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The characters that matter to nesting depth, and to telling strings from structure.
_STRUCTURAL = re.compile(r'[\[\]{}"\\]')
# A last guard for reasons: nine or more digits, with the layout people type between them.
_PHONE_LIKE = re.compile(r"\d(?:[\s.()\-+]*\d){8,}")

# Values with this many digits or more are not echoed in a reason: they may be phone numbers.
_MAX_DIGITS_SHOWN = 7
_MAX_CHARS_SHOWN = 40


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class TemplateParams:
    """What a job's params must be for one template: exactly `given`, and none of `filled`,
    which the gateway fills itself (a notice kind's agency name, from configuration)."""

    given: frozenset[str]
    filled: frozenset[str] = frozenset()


# An agency's template by name: the params it takes (a bare set: all given by the job);
# None for a name it does not have.
Placeholders = Callable[[str], TemplateParams | frozenset[str] | None]


@dataclass(frozen=True, slots=True)
class DossierEvent:
    """A dossier's state changed (`{prefix}/{agency}/dossier`), checked and typed.

    `phone` is the text as sent, or None when none was given: it is validated when a notice
    is made, because a bad number must not stop the dossier mirror (and MCKH replies) from
    following the dossier. `status` is the canonical name even when the national portal's
    numeric code was sent. `occurred_at` is always aware.
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


@dataclass(frozen=True, slots=True)
class SmsJob:
    """One message to send (`{prefix}/{agency}/sms`), checked and typed.

    Exactly one of `text` and `template` is set; `params` fills the template (numbers sent
    as JSON numbers are already text here) and is empty for a ready text. `to` is the phone
    number as sent, validated when the message is queued.
    """

    id: str
    agency: str
    to: str
    text: str | None
    template: str | None
    params: Mapping[str, str]


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


class _Invalid(Exception):
    """Raised inside this module for one bad field; turned into a `Rejection` at the top."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.reason = f"{field}: {problem}"


def _fail(field: str, problem: str) -> NoReturn:
    raise _Invalid(field, problem)


# --------------------------------------------------------------------------- topics


def parse_topic(topic: str, prefix: str) -> tuple[str, str] | None:
    """`("SCT", "dossier")` for `motcua/SCT/dossier`; None for a topic that is not ours.

    The agency is returned whether it is configured or not: an unknown agency gets a
    rejection (published under its topic, where its sender reads), not silence. Topics of
    other kinds, `status` included (our own output), are not work and give None.
    """
    if not isinstance(topic, str) or not isinstance(prefix, str):
        return None
    levels = topic.split("/")
    prefix_levels = prefix.strip("/").split("/") if prefix.strip("/") else []
    if len(levels) != len(prefix_levels) + 2 or levels[: len(prefix_levels)] != prefix_levels:
        return None
    agency, kind = levels[-2], levels[-1]
    if not agency or kind not in KINDS or "+" in agency or "#" in agency:
        return None
    return agency, kind


# --------------------------------------------------------------------------- decoding


class _BadJson(ValueError):
    """A JSON text Python would read but the contract does not allow."""


def _no_constant(name: str) -> NoReturn:
    raise _BadJson(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text) > _MAX_NUMBER_CHARS:
        raise _BadJson(f"a number longer than {_MAX_NUMBER_CHARS} characters")
    return int(text)


def _float(text: str) -> float:
    if len(text) > _MAX_NUMBER_CHARS:
        raise _BadJson(f"a number longer than {_MAX_NUMBER_CHARS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise _BadJson("a number too large to represent")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _BadJson(f"key {_shown(key)} appears twice in one object")
            seen.add(key)
    return obj


def _too_deep(text: str) -> bool:
    """Whether `text` nests arrays and objects deeper than MAX_DEPTH.

    Only brackets outside strings count; an escaped quote does not end a string. Looks at
    structural characters only, so a 64 KiB payload costs little, and stops at the first
    level too many.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # the usual case, decided at C speed
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _STRUCTURAL.finditer(text):
        i = match.start()
        if i == escaped_at:
            continue
        char = text[i]
        if in_string:
            if char == "\\":
                escaped_at = i + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _type_name(value: object) -> str:
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


def _decode(payload: bytes, size: int | None = None) -> dict[str, Any]:
    """The payload's top-level JSON object; raises _Invalid(field="payload") otherwise.

    `size` is the payload's size as it arrived, when only part of it was kept.
    """
    if isinstance(payload, bytearray | memoryview):
        payload = bytes(payload)
    elif isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    if not isinstance(payload, bytes):
        _fail("payload", f"must be bytes, got {_type_name(payload)}")
    size = len(payload) if size is None else size
    if size > MAX_PAYLOAD:
        _fail("payload", f"larger than {MAX_PAYLOAD // 1024} KiB ({size} bytes)")
    try:
        # A byte order mark from Windows software is harmless; accept it.
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail("payload", f"not UTF-8 (invalid byte at offset {exc.start})")
    if _too_deep(text):
        _fail("payload", f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        _fail("payload", f"not valid JSON (line {exc.lineno} column {exc.colno}): {exc.msg}")
    except _BadJson as exc:
        _fail("payload", f"not valid JSON: {exc}")
    except RecursionError:
        # _too_deep should have caught it; kept so that no input can raise.
        _fail("payload", f"JSON nested deeper than {MAX_DEPTH} levels")
    except ValueError as exc:  # e.g. Python's limit on integer digits
        _fail("payload", f"not valid JSON: {type(exc).__name__}")
    if not isinstance(value, dict):
        _fail("payload", f"must be a JSON object, got {_type_name(value)}")
    return value


# --------------------------------------------------------------------------- fields


def _shown(value: object) -> str:
    """`value` fit to appear in a reason: quoted and short, or described, never a phone."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)  # as the sender wrote it: null, true, false
    if isinstance(value, int | float):
        value = repr(value)
        digits = sum(c.isdigit() for c in value)
        return value if digits < _MAX_DIGITS_SHOWN else f"a number ({digits} digits, not shown)"
    if not isinstance(value, str):
        return _type_name(value)
    digits = sum(c.isdigit() for c in value)
    if digits >= _MAX_DIGITS_SHOWN:
        return f"a value of {len(value)} characters (not shown: it has {digits} digits)"
    value = _SURROGATE.sub("\ufffd", value)
    if len(value) > _MAX_CHARS_SHOWN:
        return repr(value[:_MAX_CHARS_SHOWN]) + "…"
    return repr(value)


def _char_name(char: str) -> str:
    return f"U+{ord(char):04X}"


def _visible(char: str) -> bool:
    """Whether `char` shows: not white space, a format character (Cf) or a mark alone."""
    return not char.isspace() and unicodedata.category(char) not in ("Cf", "Mn", "Me")


def _check_text(field: str, value: str, *, max_len: int, multiline: bool = False) -> str:
    """`value` trimmed, or _Invalid when it is blank, too long, or cannot be stored or sent."""
    trimmed = value.strip()
    if not trimmed:
        _fail(field, "empty")
    if not any(_visible(char) for char in trimmed):
        # Zero-width spaces, soft hyphens, a BOM, lone accents: nothing a reader sees, and
        # stripping would send an empty SMS the province still pays for.
        _fail(field, "empty: only invisible characters")
    if len(trimmed) > max_len:
        _fail(field, f"longer than {max_len} characters ({len(trimmed)})")
    if _SURROGATE.search(value):
        _fail(field, "contains an unpaired surrogate (a \\uD800-\\uDFFF escape alone)")
    control = (_CONTROL_MULTILINE if multiline else _CONTROL).search(trimmed)
    if control is not None:
        _fail(field, f"contains the control character {_char_name(control.group())}")
    return trimmed


def _string(
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
            _fail(field, "missing" if field not in obj else "null, but it is required")
        return None
    if not isinstance(value, str):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        quote = " (quote it)" if number else ""
        _fail(field, f"must be a string{quote}, got {_type_name(value)}")
    if not required and not value.strip():
        return None
    trimmed = _check_text(field, value, max_len=max_len, multiline=multiline)
    return trimmed if strip else value


def _required(obj: Mapping[str, Any], field: str, *, max_len: int, **kw: Any) -> str:
    value = _string(obj, field, max_len=max_len, required=True, **kw)
    if value is None:  # not reached: _string raises for a required field it cannot return
        _fail(field, "missing")
    return value


def _receipt_no(obj: Mapping[str, Any]) -> str:
    value = _required(obj, "receipt_no", max_len=MAX_RECEIPT_NO)
    bad = _RECEIPT_NO_BAD.search(value)
    if bad is not None:
        char = bad.group()
        shown = repr(char) if char.isprintable() and not char.isspace() else _char_name(char)
        _fail(
            "receipt_no",
            f"contains {shown}; only letters, digits, '.', '-', '/' and '_' are allowed",
        )
    return value


def _peek(read: Callable[[Mapping[str, Any]], str], obj: Mapping[str, Any]) -> str | None:
    """What `read` makes of `obj`, or None when that field is itself bad."""
    try:
        return read(obj)
    except _Invalid:
        return None


def _agency(obj: Mapping[str, Any], topic_agency: str, *, required: bool) -> str:
    """The payload's agency, which must be the topic's (a payload cannot speak for another)."""
    value = _string(obj, "agency", max_len=MAX_AGENCY, required=required)
    if value is None:
        return topic_agency
    if value != topic_agency:
        _fail("agency", f"payload says {_shown(value)} but topic is {_shown(topic_agency)}")
    return value


def _check_topic_agency(topic_agency: str, agencies: Collection[str]) -> None:
    try:
        known = topic_agency in agencies
    except TypeError:
        known = False
    if not known:
        _fail("agency", f"unknown agency {_shown(topic_agency)}")


def _status(obj: Mapping[str, Any]) -> str:
    if "status" not in obj:
        _fail("status", "missing")
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
            message = message[: -len(raw)] + _shown(value)
        if message.startswith("status "):
            message = message[len("status ") :]
        _fail("status", message)


def _year_ok(field: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        _fail(field, f"year {year} out of range {MIN_YEAR}-{MAX_YEAR}")


def _due_date(obj: Mapping[str, Any]) -> date | None:
    """The due date, or None: some procedures have none (and then cannot be late)."""
    value = obj.get("due_date")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        _fail("due_date", f"must be a string in YYYY-MM-DD form, got {_type_name(value)}")
    text = value.strip()
    if not _ISO_DATE.fullmatch(text):
        _fail("due_date", "not a date in YYYY-MM-DD form")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        _fail("due_date", f"impossible date {text}")
    _year_ok("due_date", parsed.year)
    return parsed


def _occurred_at(obj: Mapping[str, Any], tz: tzinfo) -> datetime:
    """When the change happened, aware; a time without an offset is local to `tz`."""
    text = _required(obj, "occurred_at", max_len=64)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        _fail("occurred_at", "not an ISO 8601 date and time (e.g. 2026-11-22T10:00:00+07:00)")
    # fromisoformat reads a bare date as its midnight; the order of events needs the time.
    if len(text) <= len("2026-11-22"):
        _fail("occurred_at", "a date without a time; ISO 8601 date and time needed")
    _year_ok("occurred_at", parsed.year)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _same_day(obj: Mapping[str, Any]) -> bool:
    value = obj.get("same_day")
    if value is None:
        return False
    if not isinstance(value, bool):
        _fail("same_day", f"must be true or false (a JSON boolean), got {_type_name(value)}")
    return value


def _params(obj: Mapping[str, Any]) -> Mapping[str, str]:
    """A template's parameters: names to text; JSON numbers are taken as their text."""
    value = obj.get("params")
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        _fail("params", f"must be an object of names to values, got {_type_name(value)}")
    params: dict[str, str] = {}
    for sent, item in value.items():
        name = placeholder_name(sent)
        if name is None:
            _fail(
                "params",
                f"name {_shown(sent)} is not a plain name (letters, digits and _, not "
                f"starting with a digit, at most {MAX_PARAM_NAME})",
            )
        if name in params:
            _fail("params", f"name {_shown(sent)} given twice (once composed, once decomposed)")
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            _fail("params", f"{name}: must be a string or a number, got {_type_name(item)}")
        if isinstance(item, str):
            # Kept as sent; an empty value is the caller's choice (an optional line).
            if item.strip():
                try:
                    _check_text(name, item, max_len=MAX_PARAM_VALUE, multiline=True)
                except _Invalid as exc:
                    _fail("params", exc.reason)
            params[name] = item
        else:
            params[name] = _number_text(name, item)
    return MappingProxyType(params)


def _number_text(name: str, value: int | float) -> str:
    """A JSON number as a citizen reads it: 50000.0 is "50000", 1e21 is all its digits,
    1.5e-3 is "0.0015" (never Python's "50000.0" or "1e+21" in an SMS)."""
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    else:
        text = str(value)
    if len(text) > MAX_PARAM_VALUE:
        _fail("params", f"{name}: a number of {len(text)} digits; at most {MAX_PARAM_VALUE}")
    return text


def _template(
    obj: Mapping[str, Any], placeholders: Placeholders | None, agency: str
) -> tuple[str, TemplateParams | None]:
    """The template's name and the params it takes (None when no lookup was given)."""
    name = _required(obj, "template", max_len=MAX_TEMPLATE)
    if not _TEMPLATE_NAME.fullmatch(name):
        _fail("template", "a template name has only letters, digits, '.', '-' and '_'")
    if placeholders is None:
        return name, None
    fields = placeholders(name)
    if fields is None:
        _fail("template", f"unknown template {_shown(name)} for agency {_shown(agency)}")
    return name, fields if isinstance(fields, TemplateParams) else TemplateParams(fields)


def _check_params(name: str, params: Mapping[str, str], takes: TemplateParams) -> None:
    """`params` fill exactly the template's placeholders the job gives: none missing, none
    unknown, none the gateway fills."""
    filled = sorted(params.keys() & takes.filled)
    if filled:
        _fail(
            "params",
            f"{', '.join(filled)} of template {_shown(name)} is filled from the agency's "
            "configuration; leave it out",
        )
    fields = takes.given
    missing = sorted(fields - params.keys())
    if missing:
        _fail(
            "params",
            f"missing {', '.join(missing)} (placeholder of template {_shown(name)})",
        )
    extra = sorted(params.keys() - fields)
    if extra:
        known = ", ".join(sorted(fields)) or "none"
        _fail(
            "params",
            f"{', '.join(_shown(e) for e in extra)} not a placeholder of template "
            f"{_shown(name)} (its placeholders: {known})",
        )


# --------------------------------------------------------------------------- parsers


def _reason(text: str) -> str:
    # Fields are checked so that no value with many digits is echoed; this is the last
    # guard, in case a message from elsewhere (parse_status) ever carries one.
    return _PHONE_LIKE.sub("…", text)


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
        obj = _decode(payload, size)
        ref = _peek(lambda o: _required(o, "event_id", max_len=MAX_ID), obj)
        receipt_no = _peek(_receipt_no, obj)
        _check_topic_agency(topic_agency, agencies)
        event_id = _required(obj, "event_id", max_len=MAX_ID)
        receipt = _receipt_no(obj)
        agency = _agency(obj, topic_agency, required=True)
        procedure = _required(obj, "procedure", max_len=MAX_PROCEDURE)
        procedure_code = _string(obj, "procedure_code", max_len=MAX_PROCEDURE_CODE, required=False)
        phone = _string(obj, "phone", max_len=MAX_PHONE, required=False, strip=False)
        step = _required(obj, "step", max_len=MAX_STEP)
        status = _status(obj)
        due_date = _due_date(obj)
        same_day = _same_day(obj)
        occurred_at = _occurred_at(obj, tz)
    except _Invalid as exc:
        return Rejection(
            kind=DOSSIER,
            agency=topic_agency if isinstance(topic_agency, str) and topic_agency else None,
            ref=ref,
            receipt_no=receipt_no,
            field=exc.field,
            reason=_reason(exc.reason),
        )
    return DossierEvent(
        event_id=event_id,
        receipt_no=receipt,
        agency=agency,
        procedure=procedure,
        procedure_code=procedure_code,
        phone=phone,
        step=step,
        status=status,
        due_date=due_date,
        same_day=same_day,
        occurred_at=occurred_at,
    )


def parse_sms(
    payload: bytes,
    *,
    topic_agency: str,
    agencies: Collection[str],
    templates: Placeholders | None = None,
    size: int | None = None,
) -> SmsJob | Rejection:
    """The SMS job in `payload` (from `{prefix}/{topic_agency}/sms`), or why not.

    `templates(name)` gives the placeholders of the agency's template of that name, or
    None when it has none; `params` must then fill exactly those placeholders. Without
    it any well-formed name and any params are accepted. `agency` in the payload is
    optional (the topic says it).
    Never raises for any payload; the first bad field found is the one reported.
    """
    ref: str | None = None
    try:
        obj = _decode(payload, size)
        ref = _peek(lambda o: _required(o, "id", max_len=MAX_ID), obj)
        _check_topic_agency(topic_agency, agencies)
        job_id = _required(obj, "id", max_len=MAX_ID)
        agency = _agency(obj, topic_agency, required=False)
        to = _required(obj, "to", max_len=MAX_PHONE, strip=False)
        has_text = obj.get("text") is not None
        has_template = obj.get("template") is not None
        if has_text and has_template:
            _fail("text", "give either text or template, not both")
        if not has_text and not has_template:
            _fail("text", "missing; give text, or template with params")
        text: str | None = None
        template: str | None = None
        params: Mapping[str, str] = MappingProxyType({})
        if has_text:
            text = _required(obj, "text", max_len=MAX_TEXT, multiline=True, strip=False)
            if obj.get("params"):
                _fail("params", "given with text; params go with a template")
        else:
            template, fields = _template(obj, templates, agency)
            params = _params(obj)
            if fields is not None:
                _check_params(template, params, fields)
    except _Invalid as exc:
        return Rejection(
            kind=SMS,
            agency=topic_agency if isinstance(topic_agency, str) and topic_agency else None,
            ref=ref,
            receipt_no=None,
            field=exc.field,
            reason=_reason(exc.reason),
        )
    return SmsJob(id=job_id, agency=agency, to=to, text=text, template=template, params=params)
