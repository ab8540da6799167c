"""Bytes to the payload's top-level JSON object, strictly, for any bytes at all.

Python's JSON reader is more lenient than the contract (NaN, duplicate keys, numbers of
any length) and can be made to recurse or to spend time by hostile input; `decode` closes
each of those doors before or while parsing and reports what it refused as the `payload`
field. The module is pure: no I/O, no clock, no asyncio.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from gateway.intake.fields import fail, shown, type_name

MAX_PAYLOAD = 64 * 1024  # bytes; a dossier event is a few hundred, an SMS job under 2 KiB

# The deepest nesting a payload may have; the contract needs 2 (an SMS job's params), the
# rest is headroom for fields added later. Checked before parsing, so that a payload of
# thousands of `[` can neither exhaust the stack nor cost time.
MAX_DEPTH = 20

# Python's JSON reader would otherwise turn a 5000-digit integer into an error that is not a
# JSONDecodeError, and parse one of a few hundred digits slowly.
_MAX_NUMBER_CHARS = 40

# The characters that matter to nesting depth, and to telling strings from structure.
_STRUCTURAL = re.compile(r'[\[\]{}"\\]')


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
                raise _BadJson(f"key {shown(key)} appears twice in one object")
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


def decode(payload: bytes, size: int | None = None) -> dict[str, Any]:
    """The payload's top-level JSON object; raises Invalid(field="payload") otherwise.

    `size` is the payload's size as it arrived, when only part of it was kept.
    """
    if isinstance(payload, bytearray | memoryview):
        payload = bytes(payload)
    elif isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    if not isinstance(payload, bytes):
        fail("payload", f"must be bytes, got {type_name(payload)}")
    size = len(payload) if size is None else size
    if size > MAX_PAYLOAD:
        fail("payload", f"larger than {MAX_PAYLOAD // 1024} KiB ({size} bytes)")
    try:
        # A byte order mark from Windows software is harmless; accept it.
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail("payload", f"not UTF-8 (invalid byte at offset {exc.start})")
    if _too_deep(text):
        fail("payload", f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        fail("payload", f"not valid JSON (line {exc.lineno} column {exc.colno}): {exc.msg}")
    except _BadJson as exc:
        fail("payload", f"not valid JSON: {exc}")
    except RecursionError:
        # _too_deep should have caught it; kept so that no input can raise.
        fail("payload", f"JSON nested deeper than {MAX_DEPTH} levels")
    except ValueError as exc:  # e.g. Python's limit on integer digits
        fail("payload", f"not valid JSON: {type(exc).__name__}")
    if not isinstance(value, dict):
        fail("payload", f"must be a JSON object, got {type_name(value)}")
    return value
