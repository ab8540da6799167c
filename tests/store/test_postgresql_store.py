"""The PostgreSQL store's own behaviours, beside those both engines share (the rest of
tests/store runs on both): what is refused at start-up (one line naming the server and the
database, never the password), read-only opening for `report`, several daemons on one
store, the write lock, and transactions run again after a serialization failure."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import psycopg.errors
import pytest

from gateway.store.lock import hold
from gateway.store.postgres import PG_SCHEMA_VERSION, WRITE_LOCK
from gateway.store.schema import StoreUnavailable, StoreUnusable
from gateway.store.store import Store
from gateway.store.url import shown
from tests.support.broker import free_port
from tests.support.postgres import GUARDED, GUARDED_PASSWORD, PostgresServer
from tests.support.store_reads import db_rows


async def _open(url: str, **kw: Any) -> None:
    async with Store.open(url, **kw):
        pass


def _one_line_without(message: str, secret: str) -> None:
    assert "\n" not in message
    assert secret not in message


async def test_a_store_of_a_newer_schema_is_refused_and_left_as_it_is(postgres_url: str):
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE schema_version SET version = %s", (PG_SCHEMA_VERSION + 1,))

    with pytest.raises(StoreUnusable) as refused:
        await _open(postgres_url)

    assert str(refused.value).startswith(f"store {postgres_url}: written by a newer version")
    with psycopg.connect(postgres_url, autocommit=True) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [
            (PG_SCHEMA_VERSION + 1,)
        ]


async def test_an_unreachable_server_is_unavailable_on_one_line_naming_it():
    """Nothing listens yet (the database host still booting): a failure that passes, not
    a store that cannot be used."""
    url = f"postgresql://gateway@127.0.0.1:{free_port()}/motcua"

    with pytest.raises(StoreUnavailable) as unavailable:
        await _open(url, password="never-shown")

    message = str(unavailable.value)
    assert message.startswith(f"store {url} is unavailable: cannot connect")
    _one_line_without(message, "never-shown")


async def test_an_unknown_database_is_refused_on_one_line_naming_it(
    postgres_server: PostgresServer,
):
    url = postgres_server.url("no_such_store")

    with pytest.raises(StoreUnusable) as refused:
        await _open(url)

    message = str(refused.value)
    assert message.startswith(f"store {url}: cannot connect")
    assert "does not exist" in message


async def test_a_wrong_password_is_refused_on_one_line_without_it(
    postgres_server: PostgresServer, postgres_url: str
):
    url = postgres_server.url(postgres_url.rsplit("/", 1)[1], role=GUARDED)

    with pytest.raises(StoreUnusable) as refused:
        await _open(url, password="wrong-password")

    message = str(refused.value)
    assert message.startswith(f"store {url}: cannot connect")
    assert "password authentication failed" in message
    _one_line_without(message, "wrong-password")


async def test_the_right_password_opens_the_store(
    postgres_server: PostgresServer, postgres_url: str
):
    url = postgres_server.url(postgres_url.rsplit("/", 1)[1], role=GUARDED)

    async with Store.open(url, password=GUARDED_PASSWORD) as store:
        assert await store.outbox.queue() == (0, None)


def test_a_url_is_shown_without_its_password():
    assert shown("postgresql://u:pw@db:5432/x") == "postgresql://u@db:5432/x"
    assert shown("postgresql://u@db/x") == "postgresql://u@db/x"


async def test_a_new_database_is_given_the_schema(postgres_server: PostgresServer):
    name = "empty_for_schema"
    with postgres_server.admin() as db:
        db.execute(f"CREATE DATABASE {name}")
    url = postgres_server.url(name)
    try:
        async with Store.open(url) as store:
            found = await db_rows(store, "SELECT version FROM schema_version")
        assert found == [(PG_SCHEMA_VERSION,)]
    finally:
        postgres_server.drop(url)


async def test_a_read_only_store_reads_and_cannot_be_written(postgres_url: str):
    async with Store.open(postgres_url, readonly=True) as reader:
        assert await reader.outbox.queue() == (0, None)
        with pytest.raises(StoreUnavailable, match="read-only"):
            await reader.statuses.published(1)


async def test_a_read_only_opening_never_migrates(postgres_server: PostgresServer):
    name = "never_migrated"
    with postgres_server.admin() as db:
        db.execute(f"CREATE DATABASE {name}")
    url = postgres_server.url(name)
    try:
        async with Store.open(url, readonly=True) as reader:
            assert reader.database.version == 0
        with psycopg.connect(url, autocommit=True) as db:
            assert db.execute("SELECT to_regclass('schema_version')").fetchone() == (None,)
    finally:
        postgres_server.drop(url)


async def test_several_daemons_may_hold_one_postgresql_store(postgres_url: str):
    with hold(postgres_url) as first, hold(postgres_url) as second:
        assert (first, second) == (None, None)
        async with Store.open(postgres_url) as one, Store.open(postgres_url) as two:
            await one.statuses.published(0)
            assert await two.outbox.queue() == (0, None)


def _advisory_locks_held(db: Any) -> int:
    return db.execute(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        " AND ((classid::bigint << 32) | objid::bigint) = ?",
        (WRITE_LOCK,),
    ).fetchone()[0]


async def test_every_write_transaction_holds_the_write_lock_and_reads_do_not(postgres_url: str):
    async with Store.open(postgres_url) as store:
        assert await store.database.write(_advisory_locks_held) == 1
        assert await store.database.read(_advisory_locks_held) == 0


async def test_a_write_waits_for_another_daemons_write_to_finish(postgres_url: str):
    """Write transactions run one at a time across daemons, as SQLite's in one process."""
    order: list[str] = []
    inside = asyncio.Event()

    def slow(db: Any, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon_threadsafe(inside.set)
        db.execute("SELECT pg_sleep(0.5)")
        order.append("first done")

    def quick(db: Any) -> None:
        order.append("second ran")

    async with Store.open(postgres_url) as one, Store.open(postgres_url) as two:
        async with asyncio.timeout(30):
            first = asyncio.create_task(one.database.write(slow, asyncio.get_running_loop()))
            await inside.wait()
            await two.database.write(quick)
            await first
    assert order == ["first done", "second ran"]


async def test_a_transaction_that_met_a_serialization_failure_is_run_again(postgres_url: str):
    tries: list[int] = []

    def conflicted_once(db: Any) -> int:
        db.execute("INSERT INTO apology_runs VALUES (?, ?, ?, ?)", (f"d{len(tries)}", "x", 0, 0))
        tries.append(1)
        if len(tries) == 1:
            raise psycopg.errors.SerializationFailure("could not serialize access")
        return len(tries)

    async with Store.open(postgres_url) as store:
        assert await store.database.write(conflicted_once) == 2
        # The first try's insert was rolled back with it.
        assert await db_rows(store, "SELECT run_day FROM apology_runs") == [("d1",)]


def test_without_postgresql_binaries_the_server_fixture_says_how_to_install_them(monkeypatch):
    """The PostgreSQL tests fail (never skip) where the server is not installed."""
    import tests.support.postgres as rig

    monkeypatch.setattr(rig.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(rig.shutil, "which", lambda name: None)

    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        rig.started_server()


async def test_a_connection_the_server_closed_while_idle_is_opened_again_by_the_next_write(
    postgres_server: PostgresServer, postgres_url: str
):
    """A server restart or failover ends the idle connection: the next write finds it
    closed before anything of it ran, and runs on a new connection."""
    async with Store.open(postgres_url) as store:
        (pid,) = (await db_rows(store, "SELECT pg_backend_pid()"))[0]
        with postgres_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        await store.statuses.published(0)

        assert (await db_rows(store, "SELECT pg_backend_pid()"))[0][0] != pid


async def test_placeholders_inside_string_literals_and_percent_signs_are_kept(postgres_url: str):
    async with Store.open(postgres_url) as store:
        found = await db_rows(store, "SELECT 'a ? b %', ?, 'x' LIKE 'x%'", [7])

    assert found == [("a ? b %", 7, True)]
