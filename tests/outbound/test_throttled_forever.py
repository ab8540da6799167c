"""A message the SMSC throttles on every submit (the simulator's `nack@0x58` rule: a
generic_nack with ESME_RTHROTTLED, for every submit to that number, as its rule says)
is resent after each throttle pause until its TTL ends, and then ends `expired`. While
it waits the sender does not ask the store again and again for work: nothing else is due.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.settings.config import default_config
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import THROTTLED, queue_text, without_quiet_hours
from tests.support.session import ignore, session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually

BOUND = 10.0


@dataclass
class Rig:
    smsc: SmscSimulator
    store: Store
    session: Session
    clock: Clock
    composer: Composer
    fetches: list[float]

    async def state(self, ref: str) -> tuple[str, str | None]:
        ((state, reason),) = await db_rows(
            self.store, "SELECT state, reason FROM messages WHERE ref = ?", [ref]
        )
        return state, reason


@pytest.fixture
async def rig(tmp_path: Path, store_location) -> AsyncIterator[Rig]:
    """A sender at noon, quiet hours off, against the simulator throttling 84905*."""
    cfg = without_quiet_hours()
    clock = Clock(NOON)

    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01, rules=(THROTTLED,))) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, throttle_pause=0.1), ignore) as session,
    ):
        fetches: list[float] = []
        due: Callable[..., Awaitable[Any]] = store.outbox.due

        async def counted_due(*args: Any, **kwargs: Any) -> Any:
            fetches.append(clock())
            return await due(*args, **kwargs)

        store.outbox.due = counted_due  # type: ignore[method-assign]
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            yield Rig(
                smsc, store, session, clock, Composer(composer_settings(cfg), clock=clock), fetches
            )
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_message_throttled_on_every_submit_ends_expired_when_its_ttl_ends(rig):
    await queue_text(rig.store, rig.composer, "t1")
    await eventually(lambda: rig.session.stats.throttled >= 3, BOUND)
    assert (await rig.state("t1"))[0] == "queued"  # still trying, within its TTL

    rig.clock.now = NOON + default_config().retry.ttl + 1  # its TTL ends

    async def expired() -> bool:
        return (await rig.state("t1")) == ("expired", "ttl ended unsent")

    await eventually(expired, BOUND)


async def test_the_sender_does_not_query_the_store_again_and_again_while_a_send_waits(rig):
    await queue_text(rig.store, rig.composer, "t1")
    await eventually(lambda: rig.session.stats.throttled >= 1, BOUND)
    before = len(rig.fetches)
    throttled = rig.session.stats.throttled

    await eventually(lambda: rig.session.stats.throttled >= throttled + 5, BOUND)

    # Nothing else is due: at most the idle wait's own look (every 5 s), not one per loop.
    assert len(rig.fetches) - before <= 2, f"{len(rig.fetches) - before} fetches"
