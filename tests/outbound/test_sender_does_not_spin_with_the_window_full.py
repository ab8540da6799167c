"""With the window full of slow (throttled, or waiting for a bind) sends and more due
messages already fetched ahead, the sender waits; it does not ask the store again and
again (an SMSC outage would otherwise keep a core and the store's thread busy)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.clock import NOON, Clock
from tests.support.outbox import THROTTLED, queue_text, without_quiet_hours
from tests.support.session import ignore, session_config
from tests.support.wait import eventually


async def test_window_full_with_messages_fetched_ahead_does_not_spin_on_the_store(
    tmp_path: Path, store_location
):
    cfg = without_quiet_hours()
    clock = Clock(NOON)

    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01, rules=(THROTTLED,))) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, throttle_pause=0.3, window=2), ignore) as session,
    ):
        fetches = 0
        due = store.outbox.due

        async def counted(*a, **k):
            nonlocal fetches
            fetches += 1
            return await due(*a, **k)

        store.outbox.due = counted  # type: ignore[method-assign]
        composer = Composer(composer_settings(cfg), clock=clock)
        for i in range(3):  # window is 2: two in flight, one fetched ahead
            await queue_text(store, composer, f"t{i}")
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await eventually(lambda: session.stats.throttled >= 2, 10)
            before = fetches
            await asyncio.sleep(1.0)
            assert fetches - before <= 3, f"{fetches - before} store fetches in 1 s"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_an_smsc_outage_with_a_small_backlog_does_not_spin_on_the_store(
    tmp_path: Path, store_location
):
    """During an SMSC outage the window's sends wait for a bind (up to their TTL) and the
    rest wait fetched ahead: the sender waits with them, for as long as the outage lasts."""
    cfg = without_quiet_hours()
    clock = Clock(NOON)
    port = free_port()  # nobody listens on it: the SMSC is down

    async with (
        Store.open(store_location, clock=clock) as store,
        Session(
            session_config(port, window=10, reconnect_min=0.5, reconnect_max=1.0), ignore
        ) as session,
    ):
        fetches = 0
        due = store.outbox.due

        async def counted(*a, **k):
            nonlocal fetches
            fetches += 1
            return await due(*a, **k)

        store.outbox.due = counted  # type: ignore[method-assign]
        composer = Composer(composer_settings(cfg), clock=clock)
        for i in range(15):
            await queue_text(store, composer, f"t{i}", to=f"0905{i:06d}")
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await asyncio.sleep(0.5)
            before = fetches
            await asyncio.sleep(1.0)
            assert fetches - before <= 3, f"{fetches - before} store fetches in 1 s"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
