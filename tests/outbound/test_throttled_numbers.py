"""A number the SMSC throttles on every try gives its window slot back after a few
throttles: it goes back to the store with no attempt spent, and what waits behind it (an
MO reply a citizen paid for) goes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.outbound.sender import THROTTLED_AGAIN_AFTER, Sender
from gateway.smpp.session import THROTTLE_LIMIT, Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import THROTTLED, queue_text, without_quiet_hours
from tests.support.session import ignore, session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


async def test_an_mo_reply_goes_while_throttled_notices_fill_the_window(
    tmp_path: Path, store_location
):
    cfg = without_quiet_hours()
    clock = Clock(NOON)

    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01, rules=(THROTTLED,))) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, throttle_pause=0.2, window=2), ignore) as session,
    ):
        composer = Composer(composer_settings(cfg), clock=clock)
        await queue_text(store, composer, "n1", to="0905000001")
        await queue_text(store, composer, "n2", to="0905000002")
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await eventually(lambda: session.stats.throttled >= 2, 10)
            await queue_text(store, composer, "mo1", to="0912345678", priority=Priority.MO_REPLY)

            async def sent() -> bool:
                ((state,),) = await db_rows(
                    store, "SELECT state FROM messages WHERE ref = ?", ["mo1"]
                )
                return state != "queued"

            await eventually(sent, 5)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_message_throttled_on_every_try_goes_back_queued_with_no_attempt_spent(
    tmp_path: Path,
    store_location,
):
    cfg = without_quiet_hours()
    clock = Clock(NOON)

    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01, rules=(THROTTLED,))) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, throttle_pause=0.05), ignore) as session,
    ):
        composer = Composer(composer_settings(cfg), clock=clock)
        await queue_text(store, composer, "n1", to="0905000001")
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:

            async def back_in_the_store() -> bool:
                rows = await db_rows(
                    store, "SELECT attempts, not_before FROM messages WHERE ref = 'n1'"
                )
                return rows[0][1] > NOON

            await eventually(back_in_the_store, 10)
            ((state, attempts, due, reason),) = await db_rows(
                store, "SELECT state, attempts, not_before, reason FROM messages"
            )
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert (state, attempts, reason) == ("queued", 0, "smsc: throttled")
    assert due == NOON + THROTTLED_AGAIN_AFTER
    assert session.stats.throttled == THROTTLE_LIMIT
