"""MO replies arriving during a stalled backlog are fetched alone: what waits fetched ahead
stays bounded (about two windows), however many replies come, instead of growing by two
windows of notices per reply."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.outbound.sender import Sender
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import config, queue_text
from tests.support.session import session_config


class _Stalled:
    """An SMSC that never answers: every submit waits."""

    def __init__(self) -> None:
        self.config = session_config(1, window=2)
        self.started = 0

    async def submit(self, sm: object) -> str:
        self.started += 1
        await asyncio.Event().wait()
        return "never"


async def test_mo_replies_during_a_backlog_do_not_pile_notices_into_the_fetched_ahead_list(
    tmp_path: Path, store_location,
):
    cfg = config()
    clock = Clock(NOON)
    session = _Stalled()
    async with Store.open(store_location, clock=clock) as store:
        composer = Composer(composer_settings(cfg), clock=clock)
        for i in range(300):
            await queue_text(store, composer, f"n{i}", to=f"0905{i:06d}")
        sender = Sender(store.outbox, session, cfg.retry, clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await asyncio.sleep(0.3)
            for i in range(10):
                await queue_text(
                    store, composer, f"mo{i}", to=f"0912{i:06d}", priority=Priority.MO_REPLY
                )
                await asyncio.sleep(0.1)
            ready = len(sender._ready)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    # Window 2: a window's worth ahead plus the 10 replies is plenty.
    assert ready <= 2 * 2 + 10, f"{ready} messages fetched ahead for a window of 2"
