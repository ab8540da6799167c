"""The PostgreSQL server's clock, read on the daemon's host: what the daemons sharing one
store are judged alive by, and hold their leases by (`Database.lease_clock`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg


class ServerTime:
    """The PostgreSQL server's clock as read on this host: a clock of the host's (`host`:
    its monotonic clock, which NTP never steps, for a daemon; a test's own clock in tests)
    plus its offset from the server's (`clock_timestamp()`), measured at connect, at
    reconnect and at each heartbeat. Every daemon of the store reads it alike whatever its host's
    clock says (NTP not synced yet after a boot, a VM resumed, a drift), so who is alive
    and who holds a lease is judged on one clock; two daemons 10 s apart would otherwise
    each take the other's claims and leases while both beat."""

    def __init__(self, host: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.offset = 0.0

    def __call__(self) -> float:
        return self.host() + self.offset

    def measure(self, connection: psycopg.Connection[Any]) -> None:
        """The offset, from one round trip: the server's time against the host's halfway
        through it."""
        before = self.host()
        row = connection.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
        after = self.host()
        if row is not None:
            self.offset = float(row[0]) - (before + after) / 2
