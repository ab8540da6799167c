"""Daemons whose host clocks are apart (NTP not yet synced after a boot, a VM resumed, a
drift) are judged alive, and hold their leases, on one clock for all: the PostgreSQL
server's (`postgres.ServerTime`: the host's clock plus its offset from the server's,
measured at connect, at reconnect and at each heartbeat). A daemon that beat a second ago
is alive whatever the other host's clock reads, so neither takes the other's claims or
leases while both beat, and neither sends what the other sends.

The pair rig (tests/support/pair.py) runs with a 10 s lease; the hosts here are 10 s
apart. Each store follows its host's clock (`server_clock=True`), as a daemon's store
follows `time.time` by default."""

from __future__ import annotations

import contextlib

import psycopg

from gateway.store.schema import StoreUnavailable
from gateway.store.server_time import ServerTime
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.daemons import claimant, daemon_store, notices, queue_notices
from tests.support.postgres import PostgresServer
from tests.support.store_reads import db_rows

LEASE = 10.0
APART = 10.0
# Seconds two reads of the server's time, one by the store, one straight from the server,
# may be apart: what runs between them on a loaded machine, never a host's offset.
BETWEEN = 5.0
YEARS_OFF = 3 * 365 * 86_400.0


def _server_now(url: str) -> float:
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
    assert row is not None
    return float(row[0])


async def test_a_daemon_seen_a_second_ago_keeps_its_claims_whatever_the_other_clock_reads(
    postgres_url,
):
    behind = Clock(NOON)  # b's host clock
    ahead = Clock(NOON + APART)  # a's host clock, 10 s ahead of b's
    async with (
        daemon_store(postgres_url, claimant("b", LEASE), behind, server_clock=True) as b,
        daemon_store(postgres_url, claimant("a", LEASE), ahead, server_clock=True) as a,
    ):
        await queue_notices(b, notices(5, NOON), NOON)
        held = {m.id for m in await b.outbox.due(10)}
        assert len(held) == 5
        # 3 s later b beats (every third of the lease); one second after that a asks.
        behind.now, ahead.now = NOON + 3, NOON + APART + 3
        assert await b.daemons.beat()
        behind.now, ahead.now = NOON + 4, NOON + APART + 4
        assert await a.daemons.beat()

        assert await a.outbox.due(10) == []  # b's, being sent by b


async def test_a_lease_renewed_a_second_ago_is_not_taken_by_a_daemon_whose_clock_is_ahead(
    postgres_url,
):
    behind = Clock(NOON)
    ahead = Clock(NOON + APART)
    async with (
        daemon_store(postgres_url, claimant("b", LEASE), behind, server_clock=True) as b,
        daemon_store(postgres_url, claimant("a", LEASE), ahead, server_clock=True) as a,
    ):
        assert await b.leases.take("apology")
        behind.now, ahead.now = NOON + 1, NOON + APART + 1
        assert not await a.leases.take("apology")  # b holds it for 9 s more


async def test_a_daemon_whose_clock_is_behind_does_not_take_a_live_daemons_lease(postgres_url):
    behind = Clock(NOON)
    ahead = Clock(NOON + APART)
    async with (
        daemon_store(postgres_url, claimant("a", LEASE), ahead, server_clock=True) as a,
        daemon_store(postgres_url, claimant("b", LEASE), behind, server_clock=True) as b,
    ):
        assert await a.leases.take("apology")
        assert not await b.leases.take("apology")
        assert await a.leases.take("apology")  # renewed by its holder


async def test_a_host_clock_years_off_reads_the_servers_time(postgres_url):
    host = Clock(NOON - YEARS_OFF)
    async with daemon_store(postgres_url, claimant("gw-1", LEASE), host, server_clock=True) as s:
        assert abs(s.database.lease_clock() - _server_now(postgres_url)) < BETWEEN
        ((seen_at,),) = await db_rows(s, "SELECT seen_at FROM daemons")

    assert abs(seen_at - _server_now(postgres_url)) < BETWEEN


async def test_a_host_clock_stepped_is_measured_again_at_the_next_heartbeat(postgres_url):
    host = Clock(NOON)
    async with daemon_store(postgres_url, claimant("gw-1", LEASE), host, server_clock=True) as s:
        host.now += 3_600  # NTP steps the host's clock an hour on

        assert await s.daemons.beat()

        assert abs(s.database.lease_clock() - _server_now(postgres_url)) < BETWEEN


async def test_a_connection_opened_again_measures_the_servers_time_again(
    postgres_server: PostgresServer, postgres_url: str
):
    host = Clock(NOON)
    async with daemon_store(postgres_url, claimant("gw-1", LEASE), host, server_clock=True) as s:
        name = postgres_url.rsplit("/", 1)[1]
        with postgres_server.admin() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        host.now += 3_600
        with contextlib.suppress(StoreUnavailable):
            await s.outbox.queue()  # meets the connection's end
        await s.outbox.queue()  # on a new connection, measured as it opened

        assert abs(s.database.lease_clock() - _server_now(postgres_url)) < BETWEEN


async def test_a_store_opened_with_this_hosts_clock_judges_daemons_on_the_servers_time(
    postgres_url,
):
    async with Store.open(postgres_url) as store:
        assert isinstance(store.database.lease_clock, ServerTime)
        assert abs(store.database.lease_clock() - _server_now(postgres_url)) < BETWEEN


async def test_a_clock_a_test_injects_is_left_as_it_is(postgres_url):
    clock = Clock(NOON)
    async with Store.open(postgres_url, clock=clock) as store:
        assert store.database.lease_clock is clock
