"""The `daemon:` section: this daemon's name among the daemons of one store, and the lease
by which the others judge it alive.

Several daemons may share one PostgreSQL store (issue 19). Each works the rows it has
claimed under its `name`, which is therefore unique among the daemons of one store (a
second live daemon of the same name is refused at start-up), and stable across restarts:
a daemon started again under its own name takes back its previous life's claims at once.
A daemon not seen for `lease_seconds` is dead, and the others take its claims and its
once-at-a-time jobs (the apology run, the sweeps). It says it is alive every third of that.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, field_validator

from gateway.settings.values import integer, refuse, rule, text

# A host name's characters: the name is shown on /healthz and written in claims and logs.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
NAME_MAX = 63

# Seconds. Below 3 a heartbeat (every third of the lease) would be due more than once a
# second; above an hour a dead daemon's messages would wait that long for another.
LEASE_MIN = 3
LEASE_MAX = 3600


def host_name() -> str:
    """The machine's host name, the default name: one daemon per machine needs no setting."""
    return socket.gethostname() or "localhost"


def _name(value: Any) -> str:
    name: str = text()(value)
    if len(name) > NAME_MAX:
        refuse(f"at most {NAME_MAX} characters, got {len(name)}")
    if not _NAME.fullmatch(name):
        refuse(
            f"{name!r}: letters, digits, '.', '-' and '_' only, starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """Who this daemon is among the daemons of its store."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    name: str = field(default_factory=host_name)
    lease_seconds: int = 30

    _lease = rule("lease_seconds", check=integer(LEASE_MIN, LEASE_MAX))

    @field_validator("name", mode="plain")
    @staticmethod
    def _name(value: Any) -> str:
        return _name(value)

    @property
    def heartbeat_every(self) -> float:
        """Seconds between two heartbeats: three of them fit in one lease."""
        return self.lease_seconds / 3
