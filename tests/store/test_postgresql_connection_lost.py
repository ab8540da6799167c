"""A PostgreSQL store whose connection is lost (the server restarted, the backend ended by
pg_terminate_backend, a failover) works again once the server answers (README "Losing
PostgreSQL": senders wait for the store to come back). A connection found closed before
anything of a call ran is opened again and the call runs on it; a read is run again
whatever it had done (it changed nothing); a write lost after it began is not (its
COMMIT's outcome is unknown): StoreUnavailable, the caller's to retry."""

from __future__ import annotations

import pytest

from gateway.store.database import Connection
from gateway.store.schema import StoreUnavailable
from tests.support.clock import NOON, Clock
from tests.support.daemons import claimant, daemon_store, notices, queue_notices
from tests.support.postgres import PostgresServer
from tests.support.store_reads import db_rows


async def test_a_store_whose_backend_was_ended_writes_at_once_on_a_new_connection(
    postgres_server: PostgresServer, postgres_url: str
):
    clock = Clock(NOON)
    async with daemon_store(postgres_url, claimant("gw-1"), clock) as store:
        await queue_notices(store, notices(3, NOON), NOON)
        assert await store.daemons.beat()
        assert postgres_server.terminate_backends(postgres_url) >= 1

        assert await store.daemons.beat()
        assert len(await store.outbox.due(10)) == 3


async def test_a_store_whose_backend_was_ended_reads_at_once_on_a_new_connection(
    postgres_server: PostgresServer, postgres_url: str
):
    async with daemon_store(postgres_url, claimant("gw-1"), Clock(NOON)) as store:
        assert await store.outbox.queue() == (0, None)
        assert postgres_server.terminate_backends(postgres_url) >= 1

        assert await store.outbox.queue() == (0, None)


async def test_a_store_reads_and_writes_again_after_its_server_restarted(
    postgres_server: PostgresServer, postgres_url: str
):
    clock = Clock(NOON)
    async with daemon_store(postgres_url, claimant("gw-1"), clock) as store:
        await queue_notices(store, notices(2, NOON), NOON)

        postgres_server.restart()

        assert await store.outbox.queue() == (2, NOON)
        assert await store.leases.take("apology")
        assert len(await store.outbox.due(10)) == 2


async def test_a_write_whose_connection_is_lost_after_it_began_is_not_run_again(
    postgres_server: PostgresServer, postgres_url: str
):
    runs: list[int] = []

    def ended_midway(db: Connection) -> None:
        runs.append(1)
        db.execute("INSERT INTO apology_runs (run_day, due_date, queued, at) VALUES (?, ?, ?, ?)",
                   ("d1", "d2", 0, NOON))  # fmt: skip
        db.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    async with daemon_store(postgres_url, claimant("gw-1"), Clock(NOON)) as store:
        with pytest.raises(StoreUnavailable):
            await store.database.write(ended_midway)

        assert runs == [1]
        assert await db_rows(store, "SELECT run_day FROM apology_runs") == []
