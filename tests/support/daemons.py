"""Several daemons on one store, in one process: a `Store` per daemon name, each
registered in the store's daemons, all on one database and one settable clock.

On SQLite the daemon's file lock (`gateway.store.lock`) is what keeps a second daemon out;
these stores are opened without it, to see the claims and leases work as they do for
several daemons on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from gateway.domain.channel import Channel
from gateway.domain.letter import NewLetter
from gateway.domain.message import NewMessage, Priority
from gateway.domain.states import MessageState
from gateway.store.claims import Claimant
from gateway.store.daemons import new_instance
from gateway.store.emails import insert_letters
from gateway.store.outbox import insert_messages
from gateway.store.store import Store

LEASE = 30.0


def claimant(name: str, lease: float = LEASE, *, pid: int | None = None) -> Claimant:
    """Daemon `name` in a life of its own (`pid`: a process other than this one's)."""
    if pid is None:
        return Claimant(name, lease, new_instance())
    return Claimant(name, lease, new_instance(), pid=pid)


def gone_pid() -> int:
    """The pid of a process that has ended: a daemon's previous life, killed."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    return int(child.stdout)


@contextlib.asynccontextmanager
async def daemon_store(
    database: str | Path,
    who: Claimant,
    clock: Callable[[], float],
    *,
    register: bool = True,
    monotonic: Callable[[], float] = time.monotonic,
    server_clock: bool | None = None,
) -> AsyncIterator[Store]:
    """The store as daemon `who` opens it: registered (unless not `register`), its own
    view of its claims kept on `monotonic`; with `server_clock`, `clock` is its host's
    clock, judged by the PostgreSQL server's."""
    async with Store.open(
        database, clock=clock, claimant=who, monotonic=monotonic, server_clock=server_clock
    ) as store:
        if register:
            await store.daemons.register()
        yield store


@contextlib.asynccontextmanager
async def daemon_stores(
    database: str | Path, names: Sequence[str], clock: Callable[[], float], lease: float = LEASE
) -> AsyncIterator[list[Store]]:
    """One registered store per name, on one database."""
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(daemon_store(database, claimant(n, lease), clock))
            for n in names
        ]


def notices(count: int, now: float, *, channel: Channel = Channel.SMS) -> list[NewMessage]:
    """`count` queued notices, due at `now`."""
    return [
        NewMessage(
            agency="SCT",
            ref=f"n-{i}",
            kind="result_ready",
            source="SOCONGTHUONG",
            priority=Priority.NOTICE,
            state=MessageState.QUEUED,
            not_before=now,
            expires_at=now + 86_400,
            phone="84912345678",
            text=f"Ho so {i} da co ket qua",
            segments=1,
            channel=channel,
            zns='{"template": "1"}' if channel is Channel.ZALO else None,
        )
        for i in range(count)
    ]


async def queue_notices(store: Store, messages: Sequence[NewMessage], now: float) -> None:
    await store.database.write(insert_messages, list(messages), now)


async def queue_letters(store: Store, count: int, now: float) -> None:
    """`count` queued e-mail copies, due at `now`."""
    letters = [
        NewLetter(
            agency="SCT",
            ref=f"n-{i}",
            kind="result_ready",
            state=MessageState.QUEUED,
            sender="motcua@sct.gov.vn",
            not_before=now,
            expires_at=now + 86_400,
            address="nguyenvana@gmail.com",
            subject="Ho so",
            body="Ho so da co ket qua",
        )
        for i in range(count)
    ]
    await store.database.write(insert_letters, letters, now)
