"""With the window full of slow (throttled, or waiting for a bind) sends and more due
messages already fetched ahead, the sender waits; it does not ask the store again and
again (an SMSC outage would otherwise keep a core and the store's thread busy)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.settings.config import default_config
from gateway.smpp.codes import Status
from gateway.smpp.session import Session
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import queue_text
from tests.support.wait import eventually

THROTTLED = Rule("84905*", "nack", status=Status.ESME_RTHROTTLED)


async def test_window_full_with_messages_fetched_ahead_does_not_spin_on_the_store(tmp_path: Path):
    base = default_config()
    cfg = dataclasses.replace(base, schedule=dataclasses.replace(base.schedule, quiet_hours=None))
    clock = Clock(NOON)

    async def ignore(_item: object) -> None:
        return None

    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01, rules=(THROTTLED,))) as smsc,
        Store.open(tmp_path / "g.db", clock=clock) as store,
        Session(session_config_(smsc.port), ignore) as session,
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


def session_config_(port: int):
    from tests.support.session import session_config

    return session_config(port, throttle_pause=0.3, window=2)


async def test_an_smsc_outage_with_a_small_backlog_does_not_spin_on_the_store(tmp_path: Path):
    """The same loop during an SMSC outage: the window's sends wait for a bind (up to their
    TTL), the rest wait in `_ready`, and the sender asks the store thousands of times a
    second for as long as the outage lasts."""
    import socket

    from tests.support.session import session_config

    base = default_config()
    cfg = dataclasses.replace(base, schedule=dataclasses.replace(base.schedule, quiet_hours=None))
    clock = Clock(NOON)
    with socket.socket() as s:  # a port nobody listens on: the SMSC is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def ignore(_item: object) -> None:
        return None

    async with (
        Store.open(tmp_path / "g.db", clock=clock) as store,
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
