"""What a crash can send twice: a message the SMSC accepted whose acceptance is not yet
committed is sent again after a restart. The sender bounds that to a window of messages
and the REPLY_SLOTS MO replies it starts beyond the window, however many replies wait."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.outbound.sender import Sender
from gateway.outbound.slots import REPLY_SLOTS
from gateway.settings.config import RetryConfig
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import queue_text, without_quiet_hours
from tests.support.session import ignore, session_config
from tests.support.wait import eventually

WINDOW = 2


@pytest.mark.parametrize("store_location", ["sqlite"], indirect=True)
async def test_at_most_a_window_and_the_reply_slots_wait_accepted_and_uncommitted(
    store_location,
):
    clock = Clock(NOON)
    composer = Composer(composer_settings(without_quiet_hours()), clock=clock)
    async with (
        SmscSimulator(SimConfig(response_delay=0.5)) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, window=WINDOW), ignore) as session,
    ):
        for n in range(WINDOW):
            await queue_text(store, composer, f"notice-{n}", to=f"090512340{n}")
        sender = Sender(store.outbox, session, RetryConfig(), clock=clock)
        task = asyncio.create_task(sender.run())
        release = threading.Event()
        try:
            await eventually(lambda: smsc.stats.submits == WINDOW, 10)  # the window full
            for n in range(REPLY_SLOTS + 2):
                await queue_text(
                    store, composer, f"reply-{n}", to=f"091234560{n}", priority=Priority.MO_REPLY
                )
            # The replies are taken from the store (being sent, or fetched ahead).
            await eventually(
                lambda: len(sender._slots.held | {m.id for m in sender._ready})
                == WINDOW + REPLY_SLOTS + 2,
                10,
            )
            # The store stops committing (a disk stalled, a transaction long under way):
            # what the SMSC accepts from now on stays uncommitted, as at a SIGKILL.
            holding = asyncio.create_task(store.database.write(lambda _db: release.wait(30)))
            await eventually(lambda: smsc.stats.submits_by_status["ESME_ROK"] >= WINDOW, 10)
            await asyncio.sleep(1.5)  # anything else the sender writes, and its answers
            accepted_uncommitted = smsc.stats.submits_by_status["ESME_ROK"]
        finally:
            release.set()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await holding
    assert accepted_uncommitted <= WINDOW + REPLY_SLOTS, (
        f"{accepted_uncommitted} messages accepted and not committed: a SIGKILL now sends "
        f"them all again (more than a window of {WINDOW} and {REPLY_SLOTS} replies)"
    )
