"""The sender of a daemon stalled past its lease (SIGSTOP, a VM paused) and resumed: the
notices it fetched ahead may be another daemon's by now, so it drops them unsent, and
after its next heartbeat it fetches again, getting only what is still its own. What it
had in flight when it stopped (one window) is the only duplicate."""

from __future__ import annotations

import asyncio
import dataclasses

from gateway.outbound.sender import Sender
from gateway.settings.config import RetryConfig
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, claimant, daemon_store, notices, queue_notices
from tests.support.session import session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


async def _ignore(_item: object) -> None:
    return None


async def test_a_sender_resumed_past_its_lease_drops_what_it_fetched_ahead(store_location):
    clock = Clock(NOON)
    mono = Clock(1_000.0)
    async with (
        SmscSimulator(SimConfig(response_delay=0.5)) as smsc,
        daemon_store(store_location, claimant("a"), clock, monotonic=mono) as a,
        daemon_store(store_location, claimant("b"), clock) as b,
        Session(session_config(smsc.port, window=1), _ignore) as session,
    ):
        await queue_notices(a, notices(5, NOON), NOON)
        retry = dataclasses.replace(RetryConfig(), base_delay=0.05, max_delay=0.1)
        sender = Sender(a.outbox, session, retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            # One in flight (window 1), two more fetched ahead; then a stops for too long.
            await eventually(lambda: smsc.stats.submits == 1, timeout=10)
            mono.now += LEASE + 1
            clock.now = NOON + LEASE + 1
            assert await b.daemons.beat()
            taken = {m.id for m in await b.outbox.due(10)}  # b sends them all now
            assert await a.daemons.beat()  # a resumes
            await asyncio.sleep(1.5)  # a's in-flight answer, and anything else it sends
            rows = await db_rows(a, "SELECT state, claimed_by FROM messages ORDER BY id")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert len(taken) == 5
    assert smsc.stats.submits == 1  # only the one in flight when it stopped
    assert rows == [("queued", "b")] * 5  # a's outcome did not overwrite b's claim
