"""An MO reply the carrier throttled THROTTLE_LIMIT times in a row gives its slot back like
any message, but is due again at once: it goes before notices queued after it, since a
citizen paid for it and is waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.outbound.sender import Sender
from gateway.smpp.codes import Status
from gateway.smpp.session import THROTTLE_LIMIT, Session
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import config, queue_text
from tests.support.session import ignore, session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


async def _state(store: Store, ref: str) -> str:
    ((state,),) = await db_rows(store, "SELECT state FROM messages WHERE ref = ?", [ref])
    return state


async def test_an_mo_reply_throttled_ten_times_then_accepted_goes_before_later_notices(
    tmp_path: Path, store_location,
):
    cfg = config()
    clock = Clock(NOON)
    # The carrier throttles the reply's number THROTTLE_LIMIT times, then takes it.
    rule = Rule("84912*", "transient", status=Status.ESME_RTHROTTLED, count=THROTTLE_LIMIT)
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01, rules=(rule,))) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, throttle_pause=0.02, window=2), ignore) as session,
    ):
        composer = Composer(composer_settings(cfg), clock=clock)
        await queue_text(store, composer, "mo1", to="0912345678", priority=Priority.MO_REPLY)
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await eventually(lambda: session.stats.throttled >= THROTTLE_LIMIT, 10)
            await asyncio.sleep(0.2)
            # A notice queued after the reply, 5 s later on the clock.
            clock.now = NOON + 5
            await queue_text(store, composer, "n1", to="0905000001")

            async def notice_gone() -> bool:
                return await _state(store, "n1") != "queued"

            await eventually(notice_gone, 5)
            reply = await _state(store, "mo1")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert reply != "queued", "the MO reply waits behind a notice queued after it"
