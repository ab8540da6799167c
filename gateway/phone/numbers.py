"""Phone numbers: validate and normalise what desk staff typed, mask what logs and statuses show.

Over 30 % of the pilot's messages failed on numbers typed wrong or landlines, so every number
is checked before anything is queued, and a refusal says what is wrong in terms the desk can
act on. Refusals never repeat the number: it is personal data and the reason travels in MQTT
statuses and logs.

The rules, in order:

- Only text is a phone number. A JSON or YAML number has already lost its leading 0.
- Spaces, dots, dashes and parentheses are layout; one `+` may open the number.
- `+84`, `0084` and a bare `84` introduce the international form (an extra trunk `0` after
  the country code, `+84 (0) 905…`, is dropped); a single leading `0` is the national form.
  A bare `84` is always read as the country code, so `849051234` is `84` + 7 digits (too
  short), never the 9-digit national number `84 905 1234` with its `0` lost.
- 1800/1900 and other service numbers are dialled without a `0` and are refused as such.
- Any other number without a `0` or a country code is refused: guessing where a digit went
  missing is how messages reach the wrong person.
- Pre-2018 11-digit mobile numbers (`01689…`) are converted to their 10-digit form first
  (the last 7 digits are kept).
- phonenumbers (region VN) decides what the number is; only MOBILE is accepted. A number
  in no allocated block is refused naming the block checked (`0891`, beside the allocated
  `0896-0899`), never with a prefix that is in fact in use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

from gateway.phone.blocks import unallocated
from gateway.phone.places import COUNTRIES, VN_AREAS
from gateway.phone.plain import plain_mobile_nsn

__all__ = [
    "REASONS",
    "PhoneError",
    "is_phone_number",
    "mask_phone",
    "normalise_phone",
    "normalise_phone_fully",
]

REASONS = frozenset(
    {
        "missing",
        "not_text",
        "invalid_characters",
        "too_short",
        "too_long",
        "landline",
        "service_number",
        "not_vietnamese",
        "invalid",
    }
)


class PhoneError(ValueError):
    """A phone number that cannot receive an SMS from the gateway.

    Args:
        reason: a machine code from `REASONS`, for the one-stop software to branch on.
        message: a short English sentence for the status `reason`; it never contains the
            number itself.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


_COUNTRY_CODE = 84
_COUNTRY = "84"

# Mobile national significant numbers have 9 digits, landlines 10 (area code + subscriber).
_MOBILE_NSN_LENGTH = 9
_LANDLINE_NSN_LENGTH = 10
_MOBILE_FIRST_DIGITS = frozenset("35789")

# Longer than anything a person types for one number, even with generous layout.
_MAX_CHARACTERS = 64
# E.164 allows 15 digits after the country code's `+`; `00` may come on top.
_MAX_DIGITS = 17

# Pre-2018 11-digit mobile prefixes (national significant number without the 0) and the
# 10-digit prefixes that replaced them in 2018; the last 7 digits did not change.
_OLD_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        # MobiFone
        "120": "70",
        "121": "79",
        "122": "77",
        "126": "76",
        "128": "78",
        # VinaPhone
        "123": "83",
        "124": "84",
        "125": "85",
        "127": "81",
        "129": "82",
        # Viettel
        **{f"16{d}": f"3{d}" for d in "23456789"},
        # Vietnamobile
        "186": "56",
        "188": "58",
        # Gmobile
        "199": "59",
    }
)

_SERVICE_TYPES: Mapping[int, str] = MappingProxyType(
    {
        PhoneNumberType.TOLL_FREE: "toll-free",
        PhoneNumberType.PREMIUM_RATE: "premium-rate",
        PhoneNumberType.SHARED_COST: "shared-cost",
        PhoneNumberType.UAN: "service",
        PhoneNumberType.VOIP: "VoIP",
        PhoneNumberType.PAGER: "pager",
        PhoneNumberType.PERSONAL_NUMBER: "personal-number service",
        PhoneNumberType.VOICEMAIL: "voicemail",
    }
)

# Layout characters: digits, `+`, dots, parentheses, ASCII and typographic dashes (word
# processors turn `-` into `–`), and spaces, the Unicode ones too (no-break spaces from
# spreadsheets), but no control character: a tab or a line break is two fields of a form
# run together, not one number.
_NOT_ALLOWED = re.compile(r"[^0-9+.()\-\u2010-\u2015\u2212\s]|[\x00-\x1f\x7f-\x9f]")
_NOT_DIGIT = re.compile(r"[^0-9]")
_FIRST_DIGIT = re.compile(r"[0-9]")

_SEPARATORS = frozenset(",;/|&")

_ALLOWED_TEXT = "only digits, spaces, '.', '-', '(', ')' and a leading '+' are allowed"

_NATIONAL_FORM = "write it as 0 + 9 digits, or +84 + 9 digits"


def _warm_up() -> None:
    # Loading and compiling the VN metadata happens on first use; do it at import so that
    # the first message does not pay for it.
    phonenumbers.PhoneMetadata.metadata_for_region("VN")
    phonenumbers.number_type(PhoneNumber(country_code=_COUNTRY_CODE, national_number=905123456))


_warm_up()


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bytes | bytearray):
        return "bytes"
    return f"a {type(value).__name__}"


def _check_text(raw: object) -> str:
    if raw is None:
        raise PhoneError("missing", "phone: missing")
    if not isinstance(raw, str):
        raise PhoneError(
            "not_text",
            f"phone: must be text (a quoted string), got {_type_name(raw)}; "
            "a number loses the leading 0",
        )
    text = raw.strip()
    if not text:
        raise PhoneError("missing", "phone: empty")
    if len(text) > _MAX_CHARACTERS:
        raise PhoneError("too_long", f"phone: {len(text)} characters, too long for one number")
    bad = _NOT_ALLOWED.search(text)
    if bad is not None:
        char = bad.group()
        hint = "; one number only" if char in _SEPARATORS else ""
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        raise PhoneError("invalid_characters", f"phone: contains {shown} ({_ALLOWED_TEXT}){hint}")
    return text


def _digits_after_plus(text: str) -> tuple[str, bool]:
    """The number's digits, and whether a `+` opened it."""
    plus = text.count("+")
    if plus > 1:
        raise PhoneError("invalid_characters", "phone: more than one '+'")
    first = _FIRST_DIGIT.search(text)
    if first is None:
        raise PhoneError("missing", "phone: no digits")
    if plus and text.index("+") > first.start():
        raise PhoneError("invalid_characters", "phone: '+' is allowed only before the number")
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) > _MAX_DIGITS:
        raise PhoneError("too_long", f"phone: too long ({len(digits)} digits)")
    return digits, bool(plus)


def _foreign(international: str) -> PhoneError:
    """The refusal for a number whose country code is not Vietnam's."""
    try:
        number = phonenumbers.parse("+" + international, None)
    except phonenumbers.NumberParseException:
        return PhoneError("invalid", "phone: not a valid international number")
    if not phonenumbers.is_valid_number(number):
        return PhoneError(
            "invalid",
            f"phone: not a valid number for country code +{number.country_code}",
        )
    region = phonenumbers.region_code_for_number(number)
    country = COUNTRIES.get(region or "", "another country")
    return PhoneError(
        "not_vietnamese",
        f"phone: foreign number (+{number.country_code}, {country}); "
        "SMS goes only to Vietnamese mobiles",
    )


# How the number was written: with 0, with a country code, or as a service number is dialled.
_NATIONAL = "national"
_INTERNATIONAL = "international"
_AS_DIALLED = "as_dialled"


def _no_prefix(digits: str) -> PhoneError:
    """The refusal for digits with neither a leading 0 nor a country code."""
    if len(digits) < _MOBILE_NSN_LENGTH:
        return PhoneError("too_short", f"phone: too short ({len(digits)} digits); {_NATIONAL_FORM}")
    return PhoneError(
        "invalid", f"phone: no leading 0 or +84 ({len(digits)} digits); {_NATIONAL_FORM}"
    )


def _national_significant(digits: str, plus: bool) -> tuple[str, str]:
    """The Vietnamese national significant number (no 0, no 84) in `digits`, and its form.

    Raises PhoneError for foreign numbers and for numbers with neither 0 nor a country code.
    """
    if plus:
        if not digits.startswith(_COUNTRY):
            raise _foreign(digits)
        nsn = digits[2:]
    elif digits.startswith("00"):
        if not digits.startswith("0084"):
            raise _foreign(digits[2:])
        nsn = digits[4:]
    elif digits.startswith("0"):
        return digits[1:], _NATIONAL
    elif digits.startswith(_COUNTRY):
        nsn = digits[2:]
    elif digits.startswith("1"):
        # 1800 / 1900 / 1xxx service numbers are dialled as they are, without a 0.
        return digits, _AS_DIALLED
    else:
        raise _no_prefix(digits)
    # `+84 (0) 905 …`: the national trunk 0 written after the country code.
    if nsn.startswith("0") and not nsn.startswith("00"):
        nsn = nsn[1:]
    if not nsn:
        raise PhoneError("too_short", "phone: country code only, no number")
    return nsn, _INTERNATIONAL


def _length_error(nsn: str, form: str) -> PhoneError | None:
    """too_short / too_long when the length is wrong for the kind of number it starts like."""
    if nsn[0] in _MOBILE_FIRST_DIGITS:
        expected, kind = _MOBILE_NSN_LENGTH, "a mobile number"
    elif nsn[0] == "2":
        expected, kind = _LANDLINE_NSN_LENGTH, "a landline number"
    else:
        return None
    if len(nsn) == expected:
        return None
    reason = "too_short" if len(nsn) < expected else "too_long"
    words = reason.replace("_", " ")
    if form == _INTERNATIONAL:
        got = f"84 + {len(nsn)} digits"
        want = f"84 + {expected} digits (a leading 84 is the country code)"
    else:
        got = f"{len(nsn) + 1} digits"
        want = f"{expected + 1} digits starting with 0"
    return PhoneError(reason, f"phone: {words}: {got}, {kind} has {want}")


def _classify(nsn: str, form: str) -> str:
    number = PhoneNumber(country_code=_COUNTRY_CODE, national_number=int(nsn))
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.MOBILE and form != _AS_DIALLED:
        return _COUNTRY + nsn
    if kind in _SERVICE_TYPES:
        label = _SERVICE_TYPES[kind]
        prefix = nsn[:4] if nsn.startswith(("1800", "1900")) else ""
        what = f"{prefix} {label} number" if prefix else f"{label} number"
        raise PhoneError("service_number", f"phone: {what}, SMS needs a mobile")
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        area_len = phonenumbers.length_of_geographical_area_code(number) or 3
        area = "0" + nsn[:area_len]
        place = VN_AREAS.get(nsn[:3]) or VN_AREAS.get(nsn[:2])
        where = f"{place} area code {area}" if place else f"area code {area}"
        raise PhoneError("landline", f"phone: landline number ({where}), SMS needs a mobile")
    if form == _AS_DIALLED:
        raise _no_prefix(nsn)
    length = _length_error(nsn, form)
    if length is not None:
        raise length
    raise PhoneError("invalid", f"phone: {unallocated(nsn)}")


def normalise_phone(raw: object) -> str:
    """The international form without `+` (`84905123456`) of a Vietnamese mobile number.

    Raises:
        PhoneError: with `.reason` one of `REASONS` and a message that names the problem
            without repeating the number.
    """
    nsn = plain_mobile_nsn(raw)  # the mirror's numbers and most typed ones: no parsing
    if nsn is not None:
        return _COUNTRY + nsn
    return normalise_phone_fully(raw)


def normalise_phone_fully(raw: object) -> str:
    """`normalise_phone` by the rules above every time, without the plain-number
    shortcut of gateway.phone.plain: what that shortcut's answers are checked against."""
    text = _check_text(raw)
    digits, plus = _digits_after_plus(text)
    nsn, form = _national_significant(digits, plus)
    if len(nsn) == _MOBILE_NSN_LENGTH + 1 and form != _AS_DIALLED:
        new_prefix = _OLD_PREFIXES.get(nsn[:3])
        if new_prefix is not None:
            nsn = new_prefix + nsn[3:]
    if not nsn:
        raise PhoneError("too_short", f"phone: too short ({len(digits)} digits)")
    if nsn.startswith("0"):
        raise PhoneError("invalid", "phone: too many leading zeros")
    return _classify(nsn, form)


# Refusals that still mean "this is somebody's telephone number", just not an SMS target.
_STILL_A_PHONE = frozenset({"landline", "service_number", "not_vietnamese"})


def is_phone_number(text: str) -> bool:
    """True when `text` is a telephone number of any kind (mobile, landline, service).

    Why: citizens add their own number to an MCKH lookup ("sdt 0905 123 456"); it must not
    be answered as a receipt that was not found. The same rules as `normalise_phone`, so
    one definition of what a number is.
    """
    try:
        normalise_phone(text)
    except PhoneError as exc:
        return exc.reason in _STILL_A_PHONE
    return True


def mask_phone(msisdn: str) -> str:
    """`84905123456` → `8490*****56`: enough to tell numbers apart, not to dial one.

    Numbers of 10 characters or more keep their first 4 and last 2; shorter ones keep only
    the last 2, and 2 characters or fewer are masked whole: the full number never comes out.
    """
    text = str(msisdn)
    n = len(text)
    if n <= 2:
        return "*" * n
    if n < 10:
        return "*" * (n - 2) + text[-2:]
    return text[:4] + "*" * (n - 6) + text[-2:]
