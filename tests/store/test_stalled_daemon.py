"""A daemon stalled past its lease (SIGSTOP, a VM paused, a long GC or swap storm) and
resumed: meanwhile another daemon judged it dead and took its claimed messages and
statuses. Resumed, it does not go on with what it held: its heartbeat after the gap says
it was judged dead, what it fetched before is no longer held as its own (its senders drop
it and fetch again), what it fetches again leaves the other daemon's alone, and its
outcomes never overwrite those of a message the other took."""

from __future__ import annotations

import structlog

from gateway.domain.message import Outcome
from gateway.domain.states import MessageState
from gateway.store import statuses
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, daemon_stores, notices, queue_notices
from tests.support.store_reads import db_rows


async def test_a_daemon_resumed_after_its_claims_were_taken_no_longer_holds_what_it_fetched(
    postgres_url,
):
    clock = Clock(NOON)
    async with daemon_stores(postgres_url, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(5, NOON), NOON)
        mark = a.outbox.tenure.clock()
        held = {m.id for m in await a.outbox.due(10)}  # a's sender: fetched ahead
        # a is stopped (SIGSTOP) for longer than the lease; b beats on and takes a's claims.
        clock.now = NOON + LEASE + 1
        assert await b.daemons.beat()
        assert {m.id for m in await b.outbox.due(10)} == held  # b sends them now
        with structlog.testing.capture_logs() as logs:
            assert await a.daemons.beat()  # a resumes: its name is still its own
        again = await a.outbox.due(10)

    assert not a.outbox.tenure.held_since(mark)  # its sender drops the batch
    assert again == []  # what it fetches again is only what is still its own
    (judged,) = [e for e in logs if e["event"] == "daemon_was_judged_dead"]
    assert judged["unseen_seconds"] == LEASE + 1


async def test_the_outcome_of_a_message_another_daemon_took_meanwhile_is_not_recorded(
    postgres_url,
):
    clock = Clock(NOON)
    async with daemon_stores(postgres_url, ["a", "b"], clock) as (a, b):
        await queue_notices(a, notices(1, NOON), NOON)
        (held,) = await a.outbox.due(10)
        clock.now = NOON + LEASE + 1
        assert await b.daemons.beat()
        assert [m.id for m in await b.outbox.due(10)] == [held.id]
        # a's submit was in flight when it stopped; its answer is recorded as a resumes.
        await a.outbox.record_outcomes(
            [Outcome(held, MessageState.QUEUED, 1, NOON + LEASE + 60, reason="smsc: ESME_RSYSERR")]
        )
        rows = await db_rows(a, "SELECT state, attempts, claimed_by FROM messages")

    assert rows == [("queued", 0, "b")]  # b's to send, and b's outcome to record


async def test_a_daemon_resumed_after_its_statuses_were_taken_no_longer_holds_them(
    postgres_url,
):
    clock = Clock(NOON)
    async with daemon_stores(postgres_url, ["a", "b"], clock) as (a, b):
        await a.database.write(statuses.insert, [("SCT", '{"state": "queued"}')] * 5)
        mark = a.statuses.tenure.clock()
        mine = await a.statuses.pending()  # a's publisher holds them, unpublished
        assert len(mine) == 5
        clock.now = NOON + LEASE + 1
        assert await b.daemons.beat()
        assert [s[0] for s in await b.statuses.pending()] == [s[0] for s in mine]
        assert await a.daemons.beat()
        again = await a.statuses.pending()
        await a.statuses.published(mine[-1][0])  # deletes none of b's
        left = await db_rows(a, "SELECT claimed_by FROM status_out")

    assert not a.statuses.tenure.held_since(mark)  # its publisher drops them unpublished
    assert again == []
    assert left == [("b",)] * 5
