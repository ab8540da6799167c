"""The sender on a store shared with other daemons: a message another daemon claimed and
died with is sent once the lease has passed, with nothing in this process to wake the
sender but its own bounded idle wait (another daemon's death sets no event here)."""

from __future__ import annotations

import asyncio
import dataclasses

from gateway.outbound.sender import IDLE_MAX, Sender
from gateway.settings.config import RetryConfig
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, daemon_stores, notices, queue_notices
from tests.support.session import session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


async def _ignore(_item: object) -> None:
    return None


async def test_a_dead_daemons_message_is_sent_by_an_idle_sender_after_the_lease(store_location):
    clock = Clock(NOON)
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        daemon_stores(store_location, ["dead", "alive"], clock) as (dead, alive),
        Session(session_config(smsc.port, window=5), _ignore) as session,
    ):
        await queue_notices(dead, notices(2, NOON), NOON)
        assert len(await dead.outbox.due(10)) == 2  # claimed; then the daemon is killed
        retry = dataclasses.replace(RetryConfig(), base_delay=0.05, max_delay=0.1)
        sender = Sender(alive.outbox, session, retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await asyncio.sleep(0.5)
            held = smsc.stats.submits
            clock.now = NOON + LEASE + 1
            await alive.daemons.beat()

            async def sent() -> bool:
                rows = await db_rows(alive, "SELECT state, claimed_by FROM messages")
                return rows == [("submitted", None)] * 2  # the outcome released the claims

            await eventually(sent, timeout=IDLE_MAX + 5)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert held == 0
    assert smsc.stats.submits == 2
