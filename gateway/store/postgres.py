"""The database under the repositories on PostgreSQL: `Database`'s twin for `store.url`.

The same shape as SQLite's (gateway/store/database.py): one connection (psycopg 3, used
synchronously) on a thread of its own, each transaction run there whole in one hand-off
from the event loop, so the repositories' functions (`fn(connection, ...)`) run unchanged.

Several daemons may share one PostgreSQL store, so every write transaction first takes one
transaction-scoped advisory lock (`WRITE_LOCK`): write transactions run one at a time
across all daemons, as SQLite's `BEGIN IMMEDIATE` makes them run in one, and each
repository's transaction stays correct unchanged. Reads do not take it. A serialization
failure or a deadlock, should one still occur, runs the transaction again.

`?` placeholders stay in the repositories' SQL; the connection here turns them into
psycopg's `%s` (and a literal `%` into `%%`), and leaves out SQLite's index hints. The
connection's time zone is UTC, so an ISO time without an offset reads as in SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
import psycopg.errors
from psycopg.abc import Buffer
from psycopg.adapt import Dumper
from psycopg.types.string import StrDumperUnknown

from gateway.store.database import Database
from gateway.store.dialect import POSTGRESQL, Dialect
from gateway.store.lanes import StoreThread
from gateway.store.pg_schema import SQLITE_STEP_OF, STEPS
from gateway.store.schema import StoreOutdated, StoreUnavailable, StoreUnusable
from gateway.store.server_time import ServerTime
from gateway.store.url import shown

R = TypeVar("R")

PG_SCHEMA_VERSION = len(STEPS)
# The key of the one advisory lock every write transaction takes ("motcua" in ASCII).
WRITE_LOCK = 0x6D6F74637561
# A transaction that met a serialization failure or a deadlock is run again this often.
RETRIES = 5
CONNECT_TIMEOUT = 10  # seconds
# A server gone without a reset (a failover, a cable): TCP keep-alives and a limit on
# unacknowledged data end the connection in about half a minute, rather than the kernel's
# quarter of an hour, so the store's one thread (the heartbeat with it) is not held.
TCP_KEEPALIVE = dict(
    keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
    tcp_user_timeout=30_000,  # milliseconds
)  # fmt: skip
# SQLSTATEs that mean "run the transaction again": serialization failure, deadlock.
_RETRY = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)
# What the server answers a connection it will not take as the daemon is configured: its
# login (a wrong or missing password, an unknown role, no pg_hba.conf entry for it) or
# its database (unknown, not allowed). A restart cannot fix these. Anything else that
# stops a connection (nobody listening yet, a timeout, a name not resolved, a server
# starting up, shutting down or full) may pass: libpq gives such errors no SQLSTATE, so
# its message tells them apart.
_REFUSED = re.compile(
    r"authentication failed|does not exist|no pg_hba\.conf entry|permission denied"
    r"|no password supplied|not permitted to log in",
    re.IGNORECASE,
)
# What a read of an older schema cannot answer: a table or a column it has not yet.
_OUTDATED = (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn)


class _BoolAsInteger(Dumper):
    """Python booleans as 1 and 0: the schema keeps flags in integer columns, as SQLite."""

    oid = psycopg.postgres.types["int2"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _TextWithoutNul(StrDumperUnknown):
    """Text as psycopg sends it, but with NUL, which PostgreSQL's text cannot hold (SQLite's
    can), as U+FFFD: an MO padded like a C string, a phone or a chat message carrying one is
    stored and answered, not refused with its whole batch."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj)


# SQLite's index hints (`INDEXED BY name`), which its planner needs on a few queries;
# PostgreSQL has no hints, and its planner none there.
_HINT = re.compile(r"\s+INDEXED\s+BY\s+\w+", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _unhinted(sql: str) -> str:
    return _HINT.sub("", sql)


@lru_cache(maxsize=1024)
def _placeholders(sql: str) -> str:
    """`sql` with `?` (outside string literals) as `%s`, every `%` as `%%`, no hints."""
    sql = _unhinted(sql)
    out: list[str] = []
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


class PgConnection:
    """What the repositories use of a connection (`execute`, `executemany`, `dialect`),
    on psycopg, with SQLite's placeholders."""

    dialect: Dialect = POSTGRESQL

    def __init__(
        self,
        connection: psycopg.Connection[Any],
        reopen: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        self.connection = connection
        self.traced: Callable[[str], object] | None = None
        self._reopen = reopen

    def lost(self) -> bool:
        """Whether the server has closed the connection (a restart, a failover, its
        backend ended), as far as the last statement found."""
        return self.connection.closed or self.connection.broken

    def ensure(self) -> None:
        """Connect again if the server closed the connection; while the server is away
        this fails as the call would (StoreUnavailable to the caller)."""
        if self.lost() and self._reopen is not None:
            self.connection = self._reopen()

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> psycopg.Cursor[Any]:
        """One statement; its cursor (rows, `rowcount`)."""
        if self.traced is not None:
            self.traced(sql)
        if not params:
            return self.connection.execute(_unhinted(sql))
        return self.connection.execute(_placeholders(sql), params)

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        """One statement for each of `params`, pipelined; the cursor's `rowcount` is the
        rows all of them changed."""
        if self.traced is not None:
            self.traced(sql)
        cursor = self.connection.cursor()
        cursor.executemany(_placeholders(sql), list(params))
        return cursor

    def close(self) -> None:
        """Close the connection to the server."""
        self.connection.close()


def connect(
    url: str, password: str | None, *, readonly: bool = False, server_time: ServerTime | None = None
) -> tuple[PgConnection, int]:
    """Connect to the store at `url`, check it, and (unless `readonly`) migrate it: the
    connection and the store's schema version. StoreUnusable, naming the server and the
    database without the password, for anything that makes it unusable; StoreUnavailable
    for a server that cannot be reached just now (not up yet, restarting): the daemon
    exits to be started again rather than refuse for good. `server_time`, if given, is measured
    against the server on each connection."""
    try:
        connection = _session(url, password, readonly, server_time)
    except psycopg.Error as exc:
        why = f"cannot connect ({_one_line(exc)})"
        if _REFUSED.search(str(exc)):
            raise StoreUnusable(shown(url), why) from None
        raise StoreUnavailable(shown(url), why) from None
    try:
        if readonly:
            version = _version(connection)
            _refuse_newer(url, version)
        else:
            version = _migrated(connection, url)
    except PostgresDatabase.UNAVAILABLE as exc:
        # The server went away meanwhile (restarted, failed over, the backend ended) or
        # is a standby: unavailable just now, as an unreachable one is, not a refusal.
        connection.close()
        raise StoreUnavailable(shown(url), f"cannot be used just now ({_one_line(exc)})") from None
    except psycopg.Error as exc:
        connection.close()
        raise StoreUnusable(shown(url), f"cannot be used ({_one_line(exc)})") from None
    except BaseException:
        connection.close()
        raise
    return PgConnection(connection, lambda: _session(url, password, readonly, server_time)), version


def _session(
    url: str, password: str | None, readonly: bool, server_time: ServerTime | None = None
) -> psycopg.Connection[Any]:
    """A connection set up as the store's: autocommit (transactions are explicit),
    booleans as integers, UTC, read-only transactions for a reader, and `server_time` measured
    against the server."""
    connection = psycopg.connect(
        url, password=password, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **TCP_KEEPALIVE
    )
    try:
        connection.adapters.register_dumper(bool, _BoolAsInteger)
        connection.adapters.register_dumper(str, _TextWithoutNul)
        connection.execute("SET TimeZone = 'UTC'")
        if readonly:
            connection.execute("SET default_transaction_read_only = on")
        if server_time is not None:
            server_time.measure(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _version(connection: psycopg.Connection[Any]) -> int:
    found = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not found or not found[0]:
        return 0
    row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _refuse_newer(url: str, version: int) -> None:
    if version > PG_SCHEMA_VERSION:
        raise StoreUnusable(
            shown(url),
            f"written by a newer version of motcua-sms (schema {version}; this version "
            f"knows schemas up to {PG_SCHEMA_VERSION}); run that version or a newer one",
        )


def _migrated(connection: psycopg.Connection[Any], url: str) -> int:
    """Bring the store to PG_SCHEMA_VERSION, each step a transaction under the write lock
    (two daemons starting at once: the second finds the steps done)."""
    with connection.transaction():
        connection.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = _version(connection)
        _refuse_newer(url, version)
        for number, step in enumerate(STEPS, start=1):
            if number > version:
                connection.execute(step)
                connection.execute("DELETE FROM schema_version")
                connection.execute("INSERT INTO schema_version VALUES (%s)", (number,))
    return PG_SCHEMA_VERSION


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


class PostgresDatabase(Database):
    """`async with PostgresDatabase.open(url) as db:`, as `Database.open(path)`."""

    # The server gone, or a store opened read-only asked to write.
    UNAVAILABLE = (psycopg.OperationalError, psycopg.errors.ReadOnlySqlTransaction)

    def __init__(self, db: PgConnection, thread: StoreThread, *args: Any, **kw: Any) -> None:
        super().__init__(db, thread, *args, **kw)
        # The call running on the connection's thread, so that a cancellation interrupts
        # the read it was meant for, never the next call.
        self._running: object | None = None
        self._running_lock = threading.Lock()

    @classmethod
    @asynccontextmanager
    async def open(  # type: ignore[override]
        cls,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
        password: str | None = None,
        server_clock: bool | None = None,
    ) -> AsyncIterator[PostgresDatabase]:
        """Connect, check and migrate (or with `readonly`, read as it is).

        `server_clock`: whether the daemons' liveness and leases are judged on the
        server's time (`ServerTime`, following `clock`); by default when `clock` is this
        host's (`time.time`), and not for a clock a test injects and moves itself."""
        judged = clock is time.time if server_clock is None else server_clock
        # This host's own clock is followed by its monotonic clock, which NTP never steps:
        # a step between two measures would otherwise move the server's time with it.
        elapsed = time.monotonic if clock is time.time else clock
        server_time = ServerTime(elapsed) if judged else None
        thread = StoreThread()
        loop = asyncio.get_running_loop()
        try:
            db, version = await loop.run_in_executor(
                thread, lambda: connect(url, password, readonly=readonly, server_time=server_time)
            )
            try:
                yield cls(
                    db, thread, clock, path=shown(url), version=version, lease_clock=server_time
                )
            finally:
                await loop.run_in_executor(thread, db.close)
        finally:
            thread.shutdown(wait=True)

    async def read(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(connection, *args)` on the store's thread; cancelled, the server cancels
        the query (`connection.cancel_safe`) rather than run it on for nobody."""
        token = object()
        try:
            return await self._call(self._tracked, token, fn, *args)
        except asyncio.CancelledError:
            threading.Thread(target=self._cancel, args=(token,), daemon=True).start()
            raise
        except _OUTDATED as exc:
            if self.version >= PG_SCHEMA_VERSION:
                raise
            raise StoreOutdated(self.path, self.version, exc) from None

    async def write(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(connection, *args)` as one transaction under the write lock."""
        return await self._call(_transaction, self._db, fn, args)

    async def sync_clock(self) -> None:
        """Measure the server's time again (`ServerTime`), on the store's thread."""
        if isinstance(self.lease_clock, ServerTime):
            await self._call(self._measure, self.lease_clock)

    def trace(self, callback: Callable[[str], object] | None) -> None:
        """Hand every statement the connection runs to `callback` (None: stop)."""
        self._db.traced = callback

    def has_step(self, step: int) -> bool:
        """Whether the store has what SQLite's schema step `step` made."""
        return any(step <= made for made in SQLITE_STEP_OF[: self.version])

    def _tracked(self, token: object, fn: Callable[..., R], *args: Any) -> R:
        """`fn`, run again once on a new connection if it found the connection closed by
        the server: a read changes nothing, so running it again is safe."""
        self._db.ensure()
        with self._running_lock:
            self._running = token
        try:
            try:
                return fn(self._db, *args)
            except psycopg.OperationalError:
                if not self._db.lost():
                    raise  # cancelled, or the server's own error: not the connection's
                self._db.ensure()
                return fn(self._db, *args)
        finally:
            with self._running_lock:
                self._running = None

    def _measure(self, server_time: ServerTime) -> None:
        self._db.ensure()
        server_time.measure(self._db.connection)

    def _cancel(self, token: object) -> None:
        with self._running_lock:
            if self._running is token:
                with contextlib.suppress(psycopg.Error):
                    self._db.connection.cancel_safe(timeout=CONNECT_TIMEOUT)


def _transaction(db: PgConnection, fn: Callable[..., R], args: Sequence[Any]) -> R:
    """BEGIN, the write lock, `fn`, COMMIT; again on a serialization failure or a deadlock.

    A connection the server closed while it was idle (a restart, a failover, its backend
    ended) is found closed by BEGIN or the lock, before anything of `fn` ran: the
    transaction runs again at once on a new connection. Lost later, it is not run again
    here (a COMMIT's outcome is then unknown): StoreUnavailable, the caller's to retry."""
    db.ensure()
    reconnected = False
    for attempt in range(RETRIES):
        begun = False
        try:
            with db.connection.transaction():
                db.connection.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                begun = True
                return fn(db, *args)
        except _RETRY:
            if attempt == RETRIES - 1:
                raise
        except psycopg.OperationalError:
            if begun or reconnected or not db.lost():
                raise
            reconnected = True
            db.ensure()
    raise AssertionError("unreachable")
