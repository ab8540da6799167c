"""A daemon's own view of its claims (`Tenure`): they hold until its last successful
heartbeat's start plus the lease, less a margin, on this machine's monotonic clock; a fetch
made before a lapse is no longer held after it, even once a heartbeat renews the claims."""

from __future__ import annotations

import asyncio

import structlog

from gateway.store.claims import MARGIN, Tenure
from tests.support.clock import Clock

LEASE = 30.0


def test_claims_not_yet_renewed_by_any_heartbeat_hold():
    assert Tenure(LEASE, Clock(0.0)).holds()  # no registration: no daemon judges this one


def test_claims_hold_until_the_lease_less_the_margin_after_the_last_heartbeat_began():
    mono = Clock(100.0)
    tenure = Tenure(LEASE, mono)
    tenure.renewed(100.0, None)
    mono.now = 100.0 + LEASE * (1 - MARGIN)
    assert tenure.holds()
    mono.now += 0.01
    assert not tenure.holds()


def test_a_fetch_made_before_a_lapse_is_not_held_after_the_next_heartbeat():
    mono = Clock(100.0)
    tenure = Tenure(LEASE, mono)
    tenure.renewed(100.0, None)
    fetched = mono.now
    assert tenure.held_since(fetched)
    mono.now = 100.0 + LEASE + 5  # stalled
    with structlog.testing.capture_logs() as logs:
        tenure.renewed(mono.now, LEASE + 5)
    assert tenure.holds()
    assert not tenure.held_since(fetched)
    assert tenure.held_since(mono.now)  # what is fetched from now on is held
    assert [e["event"] for e in logs] == ["daemon_was_judged_dead"]
    assert logs[0]["unseen_seconds"] == LEASE + 5


def test_a_heartbeat_the_store_saw_late_breaks_the_hold_though_this_clock_did_not_see_it():
    mono = Clock(100.0)
    tenure = Tenure(LEASE, mono)
    tenure.renewed(100.0, None)
    fetched = mono.now
    mono.now += 1
    with structlog.testing.capture_logs() as logs:
        tenure.renewed(mono.now, LEASE * (1 - MARGIN) + 1)  # late, not yet past the lease
    assert not tenure.held_since(fetched)
    assert [e["event"] for e in logs] == ["daemon_heartbeat_late"]


def test_heartbeats_on_time_keep_the_hold_unbroken_and_log_nothing():
    mono = Clock(100.0)
    tenure = Tenure(LEASE, mono)
    tenure.renewed(100.0, None)
    fetched = mono.now
    with structlog.testing.capture_logs() as logs:
        for beat in range(1, 10):
            mono.now = 100.0 + beat * LEASE / 3
            tenure.renewed(mono.now, LEASE / 3)
    assert tenure.held_since(fetched)
    assert logs == []


async def test_waiting_for_the_claims_to_be_regained_ends_at_the_next_heartbeat():
    mono = Clock(100.0)
    tenure = Tenure(LEASE, mono)
    waiting = asyncio.create_task(tenure.regained(30.0))
    await asyncio.sleep(0)
    tenure.renewed(mono.now, None)
    async with asyncio.timeout(5):
        await waiting


async def test_watching_for_a_lapse_ends_once_the_claims_lapse():
    mono = Clock(100.0)
    tenure = Tenure(LEASE, mono)
    tenure.renewed(100.0, None)
    watching = asyncio.create_task(tenure.lapsed(mono.now))
    await asyncio.sleep(0.05)
    assert not watching.done()
    mono.now = 100.0 + LEASE
    async with asyncio.timeout(5):
        await watching
