"""An SMS job's template and params: the name, the values, and that they fit each other.

A job names one of its agency's templates (configuration) and gives the values of its
placeholders; the params must fill exactly the placeholders the job is to give (none
missing, none unknown, none the gateway fills itself, such as a notice kind's agency
name). JSON numbers are accepted as values and written as a citizen reads them.
The module is pure: no I/O, no clock, no asyncio.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from gateway.domain.notice import MAX_PLACEHOLDER, placeholder_name
from gateway.intake.fields import Invalid, check_text, fail, required, shown, type_name

MAX_TEMPLATE = 64
MAX_PARAM_NAME = MAX_PLACEHOLDER
MAX_PARAM_VALUE = 500

_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # as configuration names templates


@dataclass(frozen=True, slots=True)
class TemplateParams:
    """What a job's params must be for one template: exactly `given`, and none of `filled`,
    which the gateway fills itself (a notice kind's agency name, from configuration)."""

    given: frozenset[str]
    filled: frozenset[str] = frozenset()


# An agency's template by name: the params it takes (a bare set: all given by the job);
# None for a name it does not have.
Placeholders = Callable[[str], TemplateParams | frozenset[str] | None]


def params(obj: Mapping[str, Any]) -> Mapping[str, str]:
    """A template's parameters: names to text; JSON numbers are taken as their text."""
    value = obj.get("params")
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        fail("params", f"must be an object of names to values, got {type_name(value)}")
    out: dict[str, str] = {}
    for sent, item in value.items():
        name = placeholder_name(sent)
        if name is None:
            fail(
                "params",
                f"name {shown(sent)} is not a plain name (letters, digits and _, not "
                f"starting with a digit, at most {MAX_PARAM_NAME})",
            )
        if name in out:
            fail("params", f"name {shown(sent)} given twice (once composed, once decomposed)")
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            fail("params", f"{name}: must be a string or a number, got {type_name(item)}")
        if isinstance(item, str):
            # Kept as sent; an empty value is the caller's choice (an optional line).
            if item.strip():
                try:
                    check_text(name, item, max_len=MAX_PARAM_VALUE, multiline=True)
                except Invalid as exc:
                    fail("params", exc.reason)
            out[name] = item
        else:
            out[name] = _number_text(name, item)
    return MappingProxyType(out)


def _number_text(name: str, value: int | float) -> str:
    """A JSON number as a citizen reads it: 50000.0 is "50000", 1e21 is all its digits,
    1.5e-3 is "0.0015" (never Python's "50000.0" or "1e+21" in an SMS)."""
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    else:
        text = str(value)
    if len(text) > MAX_PARAM_VALUE:
        fail("params", f"{name}: a number of {len(text)} digits; at most {MAX_PARAM_VALUE}")
    return text


def template(
    obj: Mapping[str, Any], placeholders: Placeholders | None, agency: str
) -> tuple[str, TemplateParams | None]:
    """The template's name and the params it takes (None when no lookup was given)."""
    name = required(obj, "template", max_len=MAX_TEMPLATE)
    if not _TEMPLATE_NAME.fullmatch(name):
        fail("template", "a template name has only letters, digits, '.', '-' and '_'")
    if placeholders is None:
        return name, None
    fields = placeholders(name)
    if fields is None:
        fail("template", f"unknown template {shown(name)} for agency {shown(agency)}")
    return name, fields if isinstance(fields, TemplateParams) else TemplateParams(fields)


def check_params(name: str, given: Mapping[str, str], takes: TemplateParams) -> None:
    """`given` fills exactly the template's placeholders the job gives: none missing, none
    unknown, none the gateway fills."""
    filled = sorted(given.keys() & takes.filled)
    if filled:
        fail(
            "params",
            f"{', '.join(filled)} of template {shown(name)} is filled from the agency's "
            "configuration; leave it out",
        )
    fields = takes.given
    missing = sorted(fields - given.keys())
    if missing:
        fail(
            "params",
            f"missing {', '.join(missing)} (placeholder of template {shown(name)})",
        )
    extra = sorted(given.keys() - fields)
    if extra:
        known = ", ".join(sorted(fields)) or "none"
        fail(
            "params",
            f"{', '.join(shown(e) for e in extra)} not a placeholder of template "
            f"{shown(name)} (its placeholders: {known})",
        )
