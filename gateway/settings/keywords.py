"""The `keywords:` and `mo:` sections: what the shortcode answers, and how it refuses abuse.

`keywords` maps an MO keyword (any case) to a handler module in handlers/; the section is
the whole table, replacing the default one.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import ConfigDict, ValidationInfo

from gateway.settings.secrets import source_of
from gateway.settings.values import below, entries, integer, not_text, number, refuse, rule, text

DEFAULT_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {"MCKH": "mckh", "HELP": "help", "HD": "help"}
)

_KEYWORD = re.compile(r"[A-Za-z0-9]+")


def _word(word: Any) -> str:
    if not isinstance(word, str):
        not_text("a keyword (text)")
    if not _KEYWORD.fullmatch(word):
        refuse(f"a keyword is letters and digits only, got {word!r}")
    return word


def _handler(value: Any) -> str:
    handler: str = text()(value)
    if not (handler.isascii() and handler.isidentifier()):
        refuse(f"must name a handler module in handlers/ (a Python identifier), got {handler!r}")
    if importlib.util.find_spec(f"handlers.{handler}") is None:
        refuse(f"no handler module handlers/{handler}.py")
    return handler


def keywords(value: Any, info: ValidationInfo) -> Mapping[str, str]:
    """The keyword table, upper-cased; the same keyword twice in different case refused."""
    lines = source_of(info)
    out: dict[str, str] = {}
    first: dict[str, Any] = {}
    for word, handler in entries(value, "a mapping of keyword to handler").items():
        below(_word, word, word, "[key]")
        checked = below(_handler, handler, word)
        upper = word.upper()
        if upper in out:
            seen = lines.line_of("keywords", first[upper])
            where = f"on line {seen}" if seen is not None else repr(first[upper])
            refuse(f"same keyword as {where} (keywords ignore case)", word, "[key]")
        out[upper] = checked
        first[upper] = word
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True)
class MoConfig:
    """How the shortcode answers citizens, and how it refuses to be abused."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    rate_limit: int = 10  # MOs answered per number per rate_window; beyond, logged only
    rate_window: float = 60.0
    duplicate_window: float = 120.0  # the same text from the same number: answered once
    max_lookups: int = 3  # receipt numbers answered from one MO

    _counts = rule("rate_limit", "max_lookups", check=integer(minimum=1))
    _windows = rule("rate_window", "duplicate_window", check=number(exclusive=True))
