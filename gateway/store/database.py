"""The database under the repositories: one SQLite connection on a thread of its own.

SQLite in WAL mode, one connection, `synchronous=FULL`: an MQTT message is acknowledged
and a deliver_sm answered only after what it caused is here. Callers hand over whole
batches and each batch is one transaction of a few `executemany` calls (group commit);
one transaction per message could not keep up with thousands per second.

The connection lives on a thread of its own and each transaction runs there whole, in a
single hand-off from the event loop. (With aiosqlite each statement was a round trip
through the loop; under load a loop turn takes milliseconds, so a seven-statement
transaction held the database for ~7 ms and everything queued behind it.)

Only the repositories beside this module write SQL; everything above the store asks
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from gateway.store.dialect import Dialect
from gateway.store.lanes import StoreThread
from gateway.store.schema import (
    SCHEMA_VERSION,
    StoreOutdated,
    StoreUnavailable,
    connect,
    read_only,
)

R = TypeVar("R")


class Connection(Protocol):
    """What a repository function is handed, on either engine: SQLite's connection
    (`schema.SqliteConnection`) or PostgreSQL's (`postgres.PgConnection`), both with `?`
    placeholders and the engine's `dialect`."""

    dialect: Dialect

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

# Host parameters per statement, well under SQLite's limit (32,766).
CHUNK = 10_000


class Database:
    """`async with Database.open(path) as db:` (PostgreSQL's twin: `postgres`).

    Every call is one hand-off to the connection's thread: a write runs its whole
    transaction there (BEGIN … COMMIT) and comes back once, so no transaction is ever
    interleaved with another and none waits on the event loop between its statements.
    """

    # The driver's errors that mean the database cannot be used just now: StoreUnavailable.
    UNAVAILABLE: tuple[type[Exception], ...] = (sqlite3.OperationalError,)

    def __init__(
        self,
        db: Any,
        thread: StoreThread,
        clock: Callable[[], float] = time.time,
        *,
        path: str = ":memory:",
        version: int = SCHEMA_VERSION,
        lease_clock: Callable[[], float] | None = None,
    ) -> None:
        self._db = db
        self._thread = thread
        self.clock = clock
        # What the daemons of the store are judged by, alive or dead, holding a lease or
        # not: one clock for all of them (on PostgreSQL the server's, `server_time.ServerTime`;
        # on SQLite, one daemon per store, the store's own clock).
        self.lease_clock = clock if lease_clock is None else lease_clock
        self.path = path
        self.version = version
        # Change notifications, so the sender and the status publisher wait, not poll.
        self.queued_added = asyncio.Event()
        # An MO reply was queued: it goes before notices already fetched ahead.
        self.reply_added = asyncio.Event()
        self.status_added = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: str | Path, *, clock: Callable[[], float] = time.time, readonly: bool = False
    ) -> AsyncIterator[Database]:
        """Open, check and migrate the store (`schema.connect`), or with `readonly` read
        it as it is, at its own schema version (`schema.read_only`)."""
        thread = StoreThread()
        loop = asyncio.get_running_loop()
        try:
            version = SCHEMA_VERSION  # connect migrates to it
            if readonly:
                db, version = await loop.run_in_executor(thread, read_only, str(path))
            else:
                db = await loop.run_in_executor(thread, connect, str(path))
            try:
                yield cls(db, thread, clock, path=str(path), version=version)
            finally:
                await loop.run_in_executor(thread, db.close)
        finally:
            thread.shutdown(wait=True)

    @property
    def dialect(self) -> Dialect:
        """The engine's spellings, for SQL built outside a transaction's function."""
        return self._db.dialect  # type: ignore[no-any-return]

    def has_step(self, step: int) -> bool:
        """Whether the store has SQLite's schema step `step` (or what stands for it on
        PostgreSQL), for a reader of an older store."""
        return self.version >= step

    async def sync_clock(self) -> None:
        """Measure `lease_clock` against the clock it follows again (each heartbeat asks):
        nothing to measure on SQLite."""

    async def read(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(connection, *args)` in the store's thread. On a store of an older schema
        opened read-only, a query it cannot answer is StoreOutdated. Cancelled (its
        caller gone, the process stopping), the query is interrupted: the thread would
        otherwise scan on, holding the connection, for nobody."""
        call = _Read()
        try:
            return await self._call(call.run, fn, self._db, *args)
        except asyncio.CancelledError:
            call.interrupt(self._db)
            raise
        except StoreUnavailable as exc:
            if self.version >= SCHEMA_VERSION or exc.__cause__ is None:
                raise
            raise StoreOutdated(self.path, self.version, exc.__cause__) from None

    async def write(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(connection, *args)` as one transaction, in the store's thread."""
        return await self._call(_transaction, self._db, fn, args)

    def trace(self, callback: Callable[[str], object] | None) -> None:
        """Hand every statement the connection runs to `callback` (None: stop), to see
        which queries a call makes and check their plans."""
        self._db.set_trace_callback(callback)

    async def _call(self, fn: Callable[..., R], *args: Any) -> R:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except self.UNAVAILABLE as exc:
            raise StoreUnavailable(self.path, " ".join(str(exc).split())) from exc


class _Read:
    """One read on the store's thread, interrupted when cancelled only while it runs: one
    cancelled while still queued is just not run, and the statement running then is
    another caller's, which an interrupt would fail."""

    __slots__ = ("_lock", "_running")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False

    def run(self, fn: Callable[..., R], *args: Any) -> R:
        with self._lock:
            self._running = True
        try:
            return fn(*args)
        finally:
            with self._lock:
                self._running = False

    def interrupt(self, db: sqlite3.Connection) -> None:
        with self._lock:
            if self._running:
                db.interrupt()  # safe from another thread


def _transaction(db: sqlite3.Connection, fn: Callable[..., R], args: Sequence[Any]) -> R:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn(db, *args)
        db.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (disk full) may leave the transaction open, or SQLite may have
        # rolled it back already; either way the next BEGIN must find none open.
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise
    return result


def rows(db: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Every row of one query."""
    return db.execute(sql, params).fetchall()


def marks(items: Sequence[Any]) -> str:
    """As many `?` as `items`, for an `IN (...)`; of none, `NULL`, which nothing is `IN`
    on either engine (PostgreSQL has no `IN ()`). Not for a `NOT IN` of none: nothing is
    `NOT IN (NULL)` either."""
    return ",".join("?" * len(items)) or "NULL"


def digests(
    db: Connection, table: str, column: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """The (agency, key) idempotency keys `table` holds, with their content digest (its
    index leads with agency)."""
    found: dict[tuple[str, str], str | None] = {}
    for agency in {a for a, _ in keys}:
        mine = [k for a, k in keys if a == agency]
        for at in range(0, len(mine), CHUNK):
            chunk = mine[at : at + CHUNK]
            result = db.execute(
                f"""SELECT {column}, digest FROM {table}
                    WHERE agency = ? AND {column} IN ({marks(chunk)})""",
                [agency, *chunk],
            )
            found.update(((agency, r[0]), r[1]) for r in result)
    return found
