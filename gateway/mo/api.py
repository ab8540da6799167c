"""What a keyword handler sees: the only module a handler in `handlers/` imports.

A handler is a module with

    SYNTAX = "MCKH <Mã số biên nhận>"       # how to write it: help and not-understood replies
    PURPOSE = "tra cứu tình trạng hồ sơ"    # what it is for: the help reply
    OUTCOME = Outcome.ANSWERED              # optional; Outcome.HELP for a guide to the others
    async def handle(request: Request, context: Context) -> Reply: ...

named by the `keywords:` section (several keywords may share one). Everything a handler
may need of the gateway comes through `Context`: dossiers by receipt number, templates
and their rendering with an agency's diacritics policy, segment counting as the sender
will cut the text, today's date, the services on offer. So a handler cannot reach the
store, the configuration or the SMPP layer, and those can change without touching it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from gateway.compose.templates import format_date
from gateway.mo.text import receipt_numbers, short_numbers
from gateway.phone.numbers import is_phone_number

__all__ = [
    "Context",
    "Dossier",
    "Outcome",
    "Reply",
    "Request",
    "Service",
    "format_date",
    "is_phone_number",
    "receipt_numbers",
    "short_numbers",
]


class Outcome(StrEnum):
    """What the MO log records for a handler's reply (`motcua_mo_total`, the report).

    A handler whose replies are `HELP` is a guide to the others: it is not itself offered
    as the syntax to use, nor listed among the services. A reply may say its own outcome
    (`Reply.outcome`): a lookup handler's reply is `ANSWERED` only when it told of a
    dossier; the MCKH lookups answered of the figures count those alone.
    """

    ANSWERED = "answered"
    HELP = "help"
    MISSING = "missing"  # no receipt number in the MO: the syntax was sent back
    NOT_FOUND = "not_found"  # no dossier has the number(s) asked for
    INCOMPLETE = "incomplete"  # the MO came cut short: asked to send it again


@dataclass(frozen=True, slots=True)
class Request:
    keyword: str  # the configured keyword that matched, upper case
    argument: str  # the rest of the text, trimmed of separators and trailing punctuation
    shortcode: str  # the number the citizen wrote to, and the reply's sender
    # False: a long MO some of whose parts never came; `argument` is what did come, so a
    # number in it may be cut short.
    complete: bool = True


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    agency: str | None = None  # whose diacritics policy and status topic apply
    # The receipt number the reply tells about: the figures count a lookup answered for
    # every agency's dossier of that number (the reply told of each).
    receipt_no: str | None = None
    # What the MO log records; None: the handler's `OUTCOME`.
    outcome: Outcome | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """One configured handler as citizens are told about it."""

    syntax: str
    purpose: str
    keywords: tuple[str, ...]  # upper case, in configuration order


@dataclass(frozen=True, slots=True)
class Dossier:
    """A dossier as a citizen may be told about it (no phone number, no history)."""

    receipt_no: str
    agency: str  # the agency's code
    agency_name: str
    procedure: str
    step: str  # the human name of the current step
    due_date: date | None
    timeliness: str  # `Đúng hạn` / `Trễ hạn` today (a finished one: the day it finished)


class Context(Protocol):
    """What a handler may use of the gateway, for one MO."""

    @property
    def today(self) -> date:
        """The office's date when the MO arrived."""
        ...

    @property
    def max_lookups(self) -> int:
        """Receipt numbers one MO may look up (`mo.max_lookups`)."""
        ...

    @property
    def services(self) -> Sequence[Service]:
        """The services this shortcode offers: every handler but the guides (HELP)."""
        ...

    async def find(self, numbers: Sequence[str]) -> list[list[Dossier]]:
        """For each receipt number, in order, its dossiers at every agency in scope.

        A receipt number is unique within one agency only, so one number may find
        several dossiers (in agency order), or none.
        """
        ...

    def template(self, kind: str, agency: str | None) -> str:
        """The agency's own template for `kind` (`mckh_reply`) if it has one, else the
        default."""
        ...

    def render(self, template: str, fields: Mapping[str, str], *, agency: str | None) -> str:
        """`template` filled with `fields`, as that agency's messages are sent (diacritics
        stripped or kept; no agency: stripped). Raises ValueError for a missing field."""
        ...

    def segments(self, text: str) -> int:
        """SMS parts `text` will go as, counted as the sender will cut it."""
        ...
