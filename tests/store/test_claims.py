"""Claims: a queued message, letter or status is worked by one daemon of the store; a dead
daemon's claims are taken after the lease, a restarted daemon's own at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.domain.channel import Channel
from gateway.domain.message import Outcome
from gateway.domain.states import MessageState
from gateway.store import statuses
from tests.support.clock import NOON, Clock
from tests.support.daemons import (
    LEASE,
    claimant,
    daemon_store,
    daemon_stores,
    gone_pid,
    notices,
    queue_letters,
    queue_notices,
)
from tests.support.store_reads import db_rows


@pytest.fixture
def database(store_location: str | Path) -> str | Path:
    """Each test on SQLite, then on PostgreSQL (tests/conftest.py)."""
    return store_location


async def test_two_daemons_never_get_the_same_message_from_due(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(400, NOON), NOON)
        taken: dict[str, list[int]] = {"a": [], "b": []}
        while True:  # each round, both ask at once
            batches = await asyncio.gather(
                a.outbox.due(7, exclude=taken["a"]), b.outbox.due(7, exclude=taken["b"])
            )
            if not any(batches):
                break
            for name, batch in zip("ab", batches, strict=True):
                taken[name].extend(m.id for m in batch)

    assert not set(taken["a"]) & set(taken["b"])
    assert len(taken["a"]) + len(taken["b"]) == 400
    assert taken["a"] and taken["b"]


async def test_a_claim_of_a_daemon_whose_heartbeat_stopped_is_taken_after_the_lease(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(3, NOON), NOON)
        held = {m.id for m in await a.outbox.due(10)}
        clock.now = NOON + LEASE  # a's last heartbeat was a lease ago: still alive
        await b.daemons.beat()
        before = await b.outbox.due(10)
        clock.now = NOON + LEASE + 1
        await b.daemons.beat()
        after = await b.outbox.due(10)

    assert len(held) == 3
    assert before == []
    assert {m.id for m in after} == held


async def test_a_live_daemons_claims_are_not_counted_as_due_by_another(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(2, NOON), NOON)
        await a.outbox.due(10)

        assert await b.outbox.next_due_at() is None
        assert await a.outbox.next_due_at() == NOON


async def test_a_daemon_restarted_under_its_own_name_takes_its_own_claims_at_once(database):
    clock = Clock(NOON)
    async with daemon_store(database, claimant("a", pid=gone_pid()), clock) as killed:
        await queue_notices(killed, notices(3, NOON), NOON)
        held = {m.id for m in await killed.outbox.due(10)}
    # The first life was killed: it never left, and its row says it was seen just now.
    clock.now = NOON + 1
    async with daemon_stores(database, ["a", "b"], clock) as (again, other):
        assert await other.outbox.due(10) == []
        assert {m.id for m in await again.outbox.due(10)} == held


async def test_a_retry_releases_its_claim(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(1, NOON), NOON)
        (message,) = await a.outbox.due(10)
        await a.outbox.record_outcomes(
            [Outcome(message, MessageState.QUEUED, 1, NOON + 5, reason="smsc: ESME_RTHROTTLED")]
        )
        clock.now = NOON + 5
        taken = await b.outbox.due(10)

    assert [m.id for m in taken] == [message.id]


async def test_an_outcome_that_ends_a_message_releases_its_claim(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a"], clock) as (a,):
        await queue_notices(a, notices(1, NOON), NOON)
        (message,) = await a.outbox.due(10)
        await a.outbox.record_outcomes([Outcome(message, MessageState.SUBMITTED, 1, NOON)])
        rows = await db_rows(a, "SELECT state, claimed_by FROM messages")

    assert rows == [("submitted", None)]


async def test_a_daemon_stopping_cleanly_releases_its_claims_at_once(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(2, NOON), NOON)
        held = {m.id for m in await a.outbox.due(10)}
        await a.daemons.leave()

        assert {m.id for m in await b.outbox.due(10)} == held


async def test_two_daemons_never_get_the_same_letter_from_due(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_letters(a, 50, NOON)
        first = await a.letters.due(30)
        second = await b.letters.due(30)

    assert len(first) == 30
    assert len(second) == 20
    assert not {x.id for x in first} & {x.id for x in second}


async def test_a_dead_daemons_letters_are_taken_after_the_lease(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_letters(a, 2, NOON)
        held = {x.id for x in await a.letters.due(10)}
        before = await b.letters.due(10)
        clock.now = NOON + LEASE + 1
        await b.daemons.beat()
        after = await b.letters.due(10)

    assert before == []
    assert {x.id for x in after} == held


def _statuses(agency: str, count: int) -> list[tuple[str, str]]:
    return [(agency, f'{{"n": {i}}}') for i in range(count)]


async def test_each_status_is_read_by_one_daemon(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await a.database.write(statuses.insert, _statuses("SCT", 5) + _statuses("STP", 5))
        by_a = await a.statuses.pending(100)
        by_b = await b.statuses.pending(100)

    assert len(by_a) == 10
    assert by_b == []


async def test_an_agency_another_daemon_publishes_is_left_to_it(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await a.database.write(statuses.insert, _statuses("SCT", 2))
        first = await a.statuses.pending(100)
        await a.database.write(statuses.insert, _statuses("SCT", 1) + _statuses("STP", 1))
        by_b = await b.statuses.pending(100)
        by_a = await a.statuses.pending(100, after=first[-1][0])

    assert [agency for _, agency, _ in by_b] == ["STP"]
    assert [agency for _, agency, _ in by_a] == ["SCT"]


async def test_a_daemon_deletes_only_the_statuses_it_claimed(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await a.database.write(statuses.insert, _statuses("SCT", 2))
        mine = await a.statuses.pending(100)
        await a.database.write(statuses.insert, _statuses("STP", 2))
        theirs = await b.statuses.pending(100)
        await a.statuses.published(theirs[-1][0])
        left = await db_rows(a, "SELECT agency, claimed_by FROM status_out ORDER BY seq")

    assert len(mine) == 2
    assert left == [("STP", "b"), ("STP", "b")]


async def test_a_dead_daemons_statuses_are_published_by_another_after_the_lease(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await a.database.write(statuses.insert, _statuses("SCT", 3))
        held = await a.statuses.pending(100)
        before = await b.statuses.pending(100, after=10_000)
        clock.now = NOON + LEASE + 1
        await b.daemons.beat()
        after = await b.statuses.pending(100, after=10_000)

    assert before == []
    assert after == held


async def test_a_marked_zalo_notice_of_a_dead_daemon_waits_for_its_receipt(database):
    clock = Clock(NOON)
    async with daemon_stores(database, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(1, NOON, channel=Channel.ZALO), NOON)
        (message,) = await a.outbox.due(10, channel=Channel.ZALO)
        await a.zalo.sending([message.id], 600)
        alive = await b.zalo.orphaned()
        clock.now = NOON + LEASE + 1
        await b.daemons.beat()
        sent_again = await b.outbox.due(10, channel=Channel.ZALO)
        due_at = await b.outbox.next_due_at(channel=Channel.ZALO)
        orphaned = await b.zalo.orphaned()
        state = await db_rows(b, "SELECT state FROM messages")

    assert alive == 0
    assert sent_again == []
    assert due_at is None
    assert orphaned == 1
    assert state == [("submitted",)]
