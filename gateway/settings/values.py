"""The checked value kinds the settings models are made of, each refusing in the operator's words.

A rule is a plain function from the value YAML gave to the value the model keeps; it
refuses with `refuse()` (a message, and optionally the key below the value it is about) or
`not_text()` (text was expected, and the loader, which knows how the value was written,
explains YAML's reading of it). The rules know nothing of files or lines: the loader
(`gateway.settings.loader`) turns a refusal into `FILE:LINE: KEY: MESSAGE`.

Models attach rules to fields by name with `rule("window", "port", check=...)`, so a model
inherited from a part (`SessionConfig`) gets its checks without its fields being copied.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from typing import Any, NoReturn

from pydantic import field_validator
from pydantic_core import PydanticCustomError

# Error types the loader explains (everything else is pydantic's own, shown as it is).
REFUSED = "config"
NOT_TEXT = "not_text"
UNKNOWN_KEY = "unknown_key"

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")

Check = Callable[[Any], Any]


class LeadingZero(int):
    """An unquoted integer written with a leading 0, which YAML 1.1 reads as octal.

    The loader hands it over as the number YAML read, still an int everywhere, so a rule
    expecting a count can refuse it ("write it without the leading 0") while a rule
    expecting text explains the reading like any other number.
    """

    text: str

    def __new__(cls, value: int, text: str) -> LeadingZero:
        number = super().__new__(cls, value)
        number.text = text
        return number


class Sexagesimal(str):
    """An unquoted `a:b` that YAML 1.1 reads as a base-60 number (46:15 is 2775).

    The loader hands it over as the text written, so a time of day (17:30) reads as meant;
    a rule expecting a number refuses it, saying what YAML would have made of it.
    """

    number: float

    def __new__(cls, text: str, number: float) -> Sexagesimal:
        written = super().__new__(cls, text)
        written.number = number
        return written


def _base60_trap(value: object, expected: str) -> None:
    if isinstance(value, Sexagesimal):
        refuse(
            f"must be {expected}, got {str(value)!r}, which YAML 1.1 reads as the base-60 "
            f"number {value.number:g}; write the number itself"
        )


def refuse(message: str, *at: str | int, near: tuple[str | int, ...] = ()) -> NoReturn:
    """Refuse the value being checked.

    `at` is the key below it the message is about (a cross-check of a section names the
    key to fix); `near` a key whose line to show when `at` was not written in the file.
    """
    raise PydanticCustomError(REFUSED, "{message}", {"message": message, "at": at, "near": near})


def not_text(expected: str, *, secret: bool = False) -> NoReturn:
    """Refuse a value that is not text; `secret`: never show it, even in the explanation."""
    raise PydanticCustomError(
        NOT_TEXT, "must be {expected}", {"expected": expected, "secret": secret, "at": ()}
    )


def unknown_key(*at: str | int) -> NoReturn:
    """Refuse a key the section does not have (the loader adds the "did you mean")."""
    raise PydanticCustomError(UNKNOWN_KEY, "unknown key", {"at": at})


def below(check: Check, value: Any, *at: str | int) -> Any:
    """`check(value)` for the value at key `at` below the one being validated."""
    try:
        return check(value)
    except PydanticCustomError as exc:
        ctx = dict(exc.context or {})
        ctx["at"] = (*at, *ctx.get("at", ()))
        ctx["near"] = tuple(ctx.get("near", ()))
        raise PydanticCustomError(exc.type, exc.message_template, ctx) from None


def rule(*names: str, check: Check) -> Any:
    """A field validator that replaces the type check of `names` with `check`."""
    return field_validator(*names, mode="plain")(staticmethod(check))


def describe(value: object) -> str:
    """What YAML read, as the message shows it: `'ten'`, `the number 5`, `a list`."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, datetime):
        return f"the timestamp {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def kind(value: object) -> str:
    """What a value is, without the value: for secrets."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    return describe(value) if isinstance(value, Mapping | list) else f"a {type(value).__name__}"


def close_match(name: str, choices: Iterable[str]) -> str | None:
    """The choice `name` is most likely a typo of, if any."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


# --------------------------------------------------------------------------- rules


def text(*, secret: bool = False, empty: bool = False, expected: str = "text") -> Check:
    """Text; empty only if `empty`; never a NUL (it would end the string in C and SMPP)."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            not_text(expected, secret=secret)
        if not empty and not value.strip():
            refuse("must not be empty")
        if "\x00" in value:
            refuse("must not contain a NUL character")
        return value

    return check


def optional(check: Check) -> Check:
    """`check`, or None for an empty value."""

    def optional_check(value: Any) -> Any:
        return None if value is None else check(value)

    return optional_check


def _octal_trap(value: object) -> None:
    # YAML 1.1 reads an unquoted 010 as 8: nobody writing a port or a window means that.
    if isinstance(value, LeadingZero):
        refuse(
            f"YAML reads {value.text} with its leading 0 as the octal number {int(value)}; "
            "write it without the leading 0"
        )


# The largest count a key without its own maximum takes (a C int): a 300-digit window or
# retention would pass the check and overflow where it is used (a float, a date, SQLite).
MAX_INTEGER = 2_147_483_647  # 2 ** 31 - 1
# The largest number (seconds, messages a second) a key takes: about 31 years. Finite
# floats above it (1.0e+300) would overflow a date or a timer when used.
MAX_NUMBER = 1e9


def _written(value: float) -> str:
    """A float as YAML writes it: .nan, .inf and -.inf, not Python's nan and inf."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return f"{value:g}"


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    """A whole number in [minimum, maximum], not a boolean, not written as 5.0 or 010.
    Without a maximum: at most MAX_INTEGER."""
    if minimum == 1 and maximum is None:
        expected = "a positive integer"
    elif minimum == 0 and maximum is None:
        expected = "an integer, 0 or more"
    elif minimum is not None and maximum is not None:
        expected = f"an integer from {minimum} to {maximum}"
    else:
        expected = "an integer"

    def check(value: Any) -> int:
        _base60_trap(value, expected)
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                refuse(f"must be {expected}, got {value}: write it without '.'")
            refuse(f"must be {expected}, got {describe(value)}")
        _octal_trap(value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            refuse(f"must be {expected}, got {_shown(value)}")
        if maximum is None and value > MAX_INTEGER:
            refuse(f"must be {expected}, at most {MAX_INTEGER}, got {_shown(value)}")
        return int(value)

    return check


def number(minimum: float = 0.0, *, exclusive: bool = False, maximum: float = MAX_NUMBER) -> Check:
    """A finite number ≥ minimum (> when `exclusive`) and at most `maximum`, kept as a float."""
    if exclusive:
        expected = "a number greater than 0" if minimum == 0 else f"a number > {minimum:g}"
    else:
        expected = "a number, 0 or more" if minimum == 0 else f"a number ≥ {minimum:g}"

    def check(value: Any) -> float:
        _base60_trap(value, expected)
        if isinstance(value, bool) or not isinstance(value, int | float):
            refuse(f"must be {expected}, got {describe(value)}")
        _octal_trap(value)
        if isinstance(value, int) and abs(value) > MAX_INTEGER:
            # float() of 300 digits overflows; any such count is out of range anyway
            result, shown = (math.inf if value > 0 else -math.inf), _shown(value)
        else:
            result = float(value)
            if not math.isfinite(result):
                refuse(f"must be {expected}, got {_written(result)}")
            shown = f"{result:g}"
        if result < minimum or (exclusive and result == minimum):
            refuse(f"must be {expected}, got {shown}")
        if result > maximum:
            refuse(f"must be {expected}, at most {maximum:g}, got {shown}")
        return result

    return check


def _shown(value: int) -> str:
    """An integer for a message: a long one by its length, not 300 digits."""
    digits = str(abs(value))
    if len(digits) <= 20:
        return str(value)
    return f"{'-' if value < 0 else ''}{digits[:6]}… ({len(digits)} digits)"


def boolean(value: Any) -> bool:
    """true or false, unquoted: a quoted 'yes' is text, and refused."""
    if not isinstance(value, bool):
        refuse(f"must be true or false, got {describe(value)}")
    return value


def one_of(choices: Iterable[str]) -> Check:
    """One of `choices`, with "did you mean" for a typo."""
    options = tuple(choices)
    shown = " or ".join(options) if len(options) <= 2 else f"one of {', '.join(options)}"

    def check(value: Any) -> str:
        if not isinstance(value, str):
            not_text(shown)
        if value not in options:
            close = close_match(value, options)
            hint = f"; did you mean {close!r}?" if close else ""
            refuse(f"must be {shown}, got {value!r}{hint}")
        return value

    return check


def time_of_day(value: Any) -> time:
    """A time of day, "HH:MM". The loader hands an unquoted 17:30 over as written, not as YAML 1.1's
    base-60 number 1050, so it works quoted or not."""
    if isinstance(value, time):
        return value
    if isinstance(value, Mapping | list):
        refuse(f'must be a time of day as "HH:MM", got {describe(value)}')
    written = "" if value is None else value if isinstance(value, str) else str(value)
    match = _TIME.fullmatch(written.strip())
    if match is None:
        refuse(f'must be a time of day as "HH:MM", got {written!r}')
    return time(int(match[1]), int(match[2]))


def items(value: Any, what: str) -> list[Any]:
    """The items of a list (an empty value is an empty list)."""
    if value is None:
        return []
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    if not isinstance(value, list):
        refuse(f"must be a list of {what}, got {describe(value)}")
    return value


def entries(value: Any, what: str = "a mapping") -> dict[Any, Any]:
    """The entries of a mapping (an empty value is an empty mapping)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        refuse(f"must be {what} (indented `key: value` lines), got {describe(value)}")
    return dict(value)
