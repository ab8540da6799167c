"""The configured keyword handlers: keyword → module in `handlers/`, with what each says
about itself (syntax, purpose, outcome).

The dispatcher knows no keyword: which handler guides to the others, what the
not-understood reply offers and what the help reply lists all come from the handlers'
own metadata (`gateway.mo.api`).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from gateway.mo.api import Context, Outcome, Reply, Request, Service

Handle = Callable[[Request, Context], Awaitable[Reply]]


class HandlerError(Exception):
    """A `keywords:` entry names a module that is not a usable handler."""


@dataclass(frozen=True, slots=True)
class Handler:
    name: str  # the module's name in handlers/
    syntax: str
    purpose: str
    outcome: Outcome
    module: ModuleType

    @property
    def handle(self) -> Handle:
        """The module's `handle`, looked up at each call (as a module attribute is)."""
        handle: Handle = self.module.handle
        return handle

    @property
    def guide(self) -> bool:
        """A guide to the other handlers (help): not itself a service."""
        return self.outcome is Outcome.HELP


class Handlers:
    """keyword (upper case) → `Handler`, imported once at start-up (and on reload)."""

    def __init__(self, keywords: Mapping[str, str]) -> None:
        modules: dict[str, Handler] = {}
        self._by_keyword: dict[str, Handler] = {}
        for keyword, name in keywords.items():
            handler = modules.get(name) or _load(keyword, name)
            modules[name] = handler
            self._by_keyword[keyword.upper()] = handler
        self._keywords: dict[str, list[str]] = {}
        for keyword, handler in self._by_keyword.items():
            self._keywords.setdefault(handler.name, []).append(keyword)

    def __getitem__(self, keyword: str) -> Handler:
        return self._by_keyword[keyword]

    @property
    def keywords(self) -> list[str]:
        return list(self._by_keyword)

    def services(self) -> list[Service]:
        """Each service handler once, in configuration order; the guides left out."""
        return [
            Service(h.syntax, h.purpose, tuple(self._keywords[h.name]))
            for h in self._unique()
            if not h.guide
        ]

    def syntaxes(self) -> list[str]:
        """What the not-understood reply offers: the services' syntaxes, or, with only
        guides configured, theirs."""
        handlers = self._unique()
        offered = [h for h in handlers if not h.guide] or handlers
        return list(dict.fromkeys(h.syntax for h in offered))

    def _unique(self) -> list[Handler]:
        return list({h.name: h for h in self._by_keyword.values()}.values())


def load_handlers(keywords: Mapping[str, str]) -> Handlers:
    """The handlers `keywords` names; HandlerError, naming the keyword, for one that is
    missing or is not a handler."""
    return Handlers(keywords)


def _load(keyword: str, name: str) -> Handler:
    where = f"keywords.{keyword}: handlers/{name}.py"
    try:
        module = importlib.import_module(f"handlers.{name}")
    except ImportError as exc:
        raise HandlerError(f"keywords.{keyword}: no handler module handlers/{name}.py") from exc
    for attribute in ("handle", "SYNTAX", "PURPOSE"):
        if not hasattr(module, attribute):
            raise HandlerError(f"{where} does not define {attribute}")
    outcome = getattr(module, "OUTCOME", Outcome.ANSWERED)
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise HandlerError(
            f"{where}: OUTCOME must be one of {', '.join(o.value for o in Outcome)}, "
            f"got {outcome!r}"
        ) from None
    for attribute in ("SYNTAX", "PURPOSE"):
        if not isinstance(getattr(module, attribute), str):
            raise HandlerError(f"{where}: {attribute} must be text")
    if not callable(module.handle):
        raise HandlerError(f"{where}: handle must be an async function")
    return Handler(name, module.SYNTAX, module.PURPOSE, outcome, module)
