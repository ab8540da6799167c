"""An MO reply queued during a notice backlog goes with the next free window slot, not
after the notices the sender has already fetched ahead: the citizen paid for that answer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.outbound.sender import Sender
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import queue_text, without_quiet_hours
from tests.support.session import ignore, session_config
from tests.support.wait import eventually


async def test_an_mo_reply_overtakes_the_notices_fetched_ahead(tmp_path: Path, store_location):
    cfg = without_quiet_hours()
    clock = Clock(NOON)

    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, window=10, tps=10), ignore) as session,
    ):
        composer = Composer(composer_settings(cfg), clock=clock)
        for i in range(100):
            await queue_text(store, composer, f"n{i}", to=f"0905{i:06d}")
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await eventually(lambda: len(smsc.records) >= 15, 10)
            before = len(smsc.records)
            started = time.monotonic()
            await queue_text(store, composer, "mo", to="0912345678", priority=Priority.MO_REPLY)

            def mo_sent() -> bool:
                return any(r.destination.endswith("912345678") for r in smsc.records)

            await eventually(mo_sent, 20)
            waited = time.monotonic() - started
            ahead = (
                next(i for i, r in enumerate(smsc.records) if r.destination.endswith("912345678"))
                - before
            )
            # At most the window in flight may go first.
            assert ahead <= 10, f"{ahead} notices went before the MO reply ({waited:.1f} s)"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
