"""Leases: a once-at-a-time job runs on the one daemon that holds its lease, renewed while
held, taken by another daemon once it expires."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.store.leases import Job, while_held
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, daemon_stores
from tests.support.wait import eventually


@pytest.fixture
def database(store_location: str | Path) -> str | Path:
    """Each test on SQLite, then on PostgreSQL (tests/conftest.py)."""
    return store_location


async def test_a_free_lease_is_taken_and_another_daemon_is_refused_it(database):
    async with daemon_stores(database, ["a", "b"], Clock(NOON)) as (a, b):
        assert await a.leases.take(Job.APOLOGY)
        assert not await b.leases.take(Job.APOLOGY)
        assert await b.leases.take(Job.RETENTION)  # one lease per job


async def test_a_lease_is_renewed_by_its_holder(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await a.leases.take(Job.APOLOGY)
        clock.now = NOON + LEASE - 1
        assert await a.leases.take(Job.APOLOGY)
        clock.now = NOON + LEASE + 1  # past the first lease, within the renewed one
        assert not await b.leases.take(Job.APOLOGY)
        holders = await a.leases.holders()

    assert holders[Job.APOLOGY] == ("a", NOON + 2 * LEASE - 1)


async def test_a_lease_of_a_dead_daemon_moves_after_expiry_and_not_before(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await a.leases.take(Job.RECEIPT_SWEEP)
        clock.now = NOON + LEASE
        before = await b.leases.take(Job.RECEIPT_SWEEP)
        clock.now = NOON + LEASE + 0.5
        after = await b.leases.take(Job.RECEIPT_SWEEP)

    assert (before, after) == (False, True)


async def test_a_job_runs_only_on_the_daemon_holding_its_lease(database):
    runs: list[str] = []

    def job(name: str):
        async def run() -> None:
            runs.append(name)
            await asyncio.Event().wait()

        return run

    async with daemon_stores(database, ["a", "b"], Clock(NOON), lease=3) as (a, b):
        first = asyncio.create_task(while_held(a.leases, Job.RETENTION, job("a")))
        await eventually(lambda: runs == ["a"], timeout=10)
        second = asyncio.create_task(while_held(b.leases, Job.RETENTION, job("b")))
        await asyncio.sleep(1.5)  # b asks every second (a third of the lease)
        for task in (first, second):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)

    assert runs == ["a"]


async def test_a_job_whose_lease_another_daemon_took_is_stopped(database):
    clock = Clock(NOON)
    started, stopped = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    async with daemon_stores(database, ["a", "b"], clock, lease=3) as (a, b):
        held = asyncio.create_task(while_held(a.leases, Job.APOLOGY, run))
        await asyncio.wait_for(started.wait(), timeout=10)
        clock.now = NOON + 10  # a stalled past its lease; b takes it
        assert await b.leases.take(Job.APOLOGY)
        await asyncio.wait_for(stopped.wait(), timeout=10)
        held.cancel()
        await asyncio.gather(held, return_exceptions=True)


async def test_a_lease_is_renewed_while_its_job_runs(database):
    clock = Clock(NOON)

    async def run() -> None:
        await asyncio.Event().wait()

    async with daemon_stores(database, ["a"], clock, lease=3) as (a,):
        held = asyncio.create_task(while_held(a.leases, Job.RETENTION, run))
        try:

            async def taken() -> bool:
                return Job.RETENTION in await a.leases.holders()

            await eventually(taken, timeout=10)
            clock.now = NOON + 2

            async def renewed() -> bool:
                return (await a.leases.holders())[Job.RETENTION] == ("a", NOON + 2 + 3)

            await eventually(renewed, timeout=10)  # every second: a third of the lease
        finally:
            held.cancel()
            await asyncio.gather(held, return_exceptions=True)
