"""The daemons of one store: registration, the refusal of a second live daemon of one
name, the heartbeat, and leaving."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.store.daemons import DaemonNameTaken, keep_alive
from gateway.store.schema import StoreError
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, claimant, daemon_store, daemon_stores, gone_pid
from tests.support.store_reads import db_rows


@pytest.fixture
def database(store_location: str | Path) -> str | Path:
    """Each test on SQLite, then on PostgreSQL (tests/conftest.py)."""
    return store_location


async def test_a_second_live_daemon_of_the_same_name_is_refused_naming_the_first(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["gw-1"], clock):
        clock.now = NOON + LEASE
        with pytest.raises(DaemonNameTaken) as info:
            async with daemon_store(database, claimant("gw-1", pid=1), clock):
                pass

    assert isinstance(info.value, StoreError)  # a start-up refusal: exit 3, one line
    assert "daemon name 'gw-1' is in use" in str(info.value)
    assert "give each its own daemon.name" in str(info.value)
    assert "\n" not in str(info.value)


async def test_a_name_not_seen_within_the_lease_is_taken(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["gw-1"], clock):
        clock.now = NOON + LEASE + 1
        async with daemon_store(database, claimant("gw-1", pid=1), clock) as again:
            (row,) = await again.daemons.listed()

    assert (row.name, row.pid, row.seen_at) == ("gw-1", 1, NOON + LEASE + 1)


async def test_a_previous_life_on_this_host_whose_process_is_gone_is_no_second_daemon(database):
    clock = Clock(NOON)
    async with daemon_store(database, claimant("gw-1", pid=gone_pid()), clock):
        pass  # killed: it never left
    async with daemon_store(database, claimant("gw-1"), clock) as again:
        (row,) = await again.daemons.listed()

    assert row.seen_at == NOON


async def test_a_heartbeat_keeps_a_daemon_seen(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["gw-1"], clock) as (store,):
        clock.now = NOON + 20
        assert await store.daemons.beat()
        (row,) = await store.daemons.listed()

    assert (row.started_at, row.seen_at) == (NOON, NOON + 20)


async def test_a_daemon_whose_name_another_instance_took_stops_its_heartbeat(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["gw-1"], clock) as (stalled,):
        clock.now = NOON + LEASE + 1
        async with daemon_store(database, claimant("gw-1", pid=1), clock):
            assert not await stalled.daemons.beat()
            await keep_alive(stalled.daemons, every=0.01)  # returns: the daemon stops


async def test_a_daemon_leaving_is_no_longer_listed_and_its_leases_are_free(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        assert await a.leases.take("apology")
        await a.daemons.leave()
        names = [d.name for d in await b.daemons.listed()]
        leases = await db_rows(b, "SELECT name, holder FROM leases")

    assert names == ["b"]
    assert leases == []
