"""Quiet hours decided at the moment of writing: a notice the sender took before 21:00
that is still waiting (for a bind) at 21:00 is not written then, but put back, with no
attempt counted, until 07:00. An MO reply waiting the same way goes when the bind comes.

The SMSC is the scriptable one, refusing binds (each dropped at once) until the test
lets it up; a settable clock stands for the time of day.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.outbound.sender import Sender
from gateway.settings.config import RetryConfig, default_config
from gateway.smpp.session import Session
from gateway.store.store import Store
from tests.support.clock import QUIET, TZ, Clock, at
from tests.support.outbox import queue_text
from tests.support.scripted_smsc import Conn, Smsc
from tests.support.session import ignore, session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


@dataclass
class Night:
    smsc: Smsc
    store: Store
    clock: Clock
    composer: Composer
    down: dict[str, bool]

    async def queue(self, ref: str, priority: Priority = Priority.NOTICE) -> None:
        await queue_text(self.store, self.composer, ref, priority=priority)

    async def row(self, ref: str) -> tuple[str, int, float]:
        ((state, attempts, not_before),) = await db_rows(
            self.store, "SELECT state, attempts, not_before FROM messages WHERE ref = ?", [ref]
        )
        return state, attempts, not_before


@pytest.fixture
async def night(tmp_path: Path, store_location: str | Path) -> AsyncIterator[Night]:
    clock = Clock(at(20, 59))
    down = {"on": True}

    def bind_policy(_s: Smsc, conn: Conn) -> None:
        if down["on"]:
            conn.close()

    base = default_config()
    composer = Composer(
        composer_settings(
            dataclasses.replace(base, schedule=dataclasses.replace(base.schedule, quiet_hours=None))
        ),
        clock=clock,
    )
    retry = dataclasses.replace(RetryConfig(), base_delay=0.5, max_delay=1.0)
    async with (
        Smsc(lambda s, c, p: s.accept(c, p), bind_policy=bind_policy) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, reconnect_max=0.1), ignore) as session,
    ):
        sender = Sender(store.outbox, session, retry, clock=clock, quiet=QUIET, tz=TZ)
        task = asyncio.create_task(sender.run())
        try:
            yield Night(smsc, store, clock, composer, down)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _taken_at_2059_bound_at_2105(night: Night) -> None:
    async def taken() -> bool:  # by the sender, which claims what it takes
        rows = await db_rows(
            night.store, "SELECT claimed_by FROM messages WHERE claimed_by IS NOT NULL"
        )
        return bool(rows)

    await eventually(taken)
    await eventually(lambda: night.smsc.binds >= 2)  # and waiting for a bind
    night.clock.now = at(21, 5)
    night.down["on"] = False


async def test_a_notice_waiting_for_the_bind_at_2059_is_not_written_at_2105(night):
    await night.queue("notice")
    await _taken_at_2059_bound_at_2105(night)
    await eventually(lambda: night.smsc.binds >= 3 and not night.smsc.conns[-1].closed)
    await asyncio.sleep(0.5)

    assert night.smsc.submits == []


async def test_a_notice_withheld_at_2105_waits_until_seven_with_no_attempt_counted(night):
    await night.queue("notice")
    await _taken_at_2059_bound_at_2105(night)

    async def put_back() -> bool:
        state, _attempts, not_before = await night.row("notice")
        return state == "queued" and not_before >= at(7, 0, day=24)

    await eventually(put_back, 10, poll=0.05)
    assert (await night.row("notice"))[:2] == ("queued", 0)


async def test_an_mo_reply_waiting_for_the_bind_at_2059_goes_at_2105(night):
    await night.queue("reply", priority=Priority.MO_REPLY)
    await _taken_at_2059_bound_at_2105(night)

    await eventually(lambda: len(night.smsc.accepted) == 1)
