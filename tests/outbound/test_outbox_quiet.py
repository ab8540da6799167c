"""Quiet hours at send time: notices wait them out however they became due; MO replies go.

A fixed, settable clock stands for the time of day, so these run at any hour: the
store, the composer and the sender all read it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Outcome, PartResult, Priority, Queued
from gateway.domain.states import MessageState
from gateway.outbound.sender import Sender
from gateway.settings.config import RetryConfig
from gateway.smpp.account import receipt_keys
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.claims import ALONE, Claimant
from gateway.store.database import Database
from gateway.store.outbox import Outbox
from gateway.store.store import Store
from tests.support.clock import QUIET, TZ, Clock, at
from tests.support.outbox import OutboxRig, config
from tests.support.session import session_config
from tests.support.wait import eventually


class CountingOutbox(Outbox):
    """The real outbox, counting how often the sender asks it for due messages."""

    due_calls = 0

    async def due(
        self, limit: int, exclude: Iterable[int] = (), *, max_priority: int | None = None
    ) -> list[Queued]:
        type(self).due_calls += 1
        return await super().due(limit, exclude, max_priority=max_priority)


class CountingStore(Store):
    """The real store, with the counting outbox."""

    def __init__(
        self,
        database: Database,
        claimant: Claimant = ALONE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(database, claimant, monotonic)
        self.outbox = CountingOutbox(database, claimant, self.daemons.tenure)


class QuietRig(OutboxRig[SmscSimulator]):
    """The outbox rig with a settable clock, which the store, composer and sender read."""

    def __init__(self, store: Store, smsc: SmscSimulator, clock: Clock) -> None:
        # Queued with quiet hours off: the message is due at once, as a retry or a
        # backlog is; only the sender's own rule can hold it.
        super().__init__(store, smsc, Composer(composer_settings(config()), clock=clock))
        self.clock = clock


@pytest.fixture
def window() -> int:
    return 10


@pytest.fixture
async def quiet_rig(tmp_path: Path, store_location, window: int) -> AsyncIterator[QuietRig]:
    clock = Clock(at(22))
    CountingOutbox.due_calls = 0
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        CountingStore.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port, window=window), _ignore) as session,
    ):
        retry = dataclasses.replace(RetryConfig(), base_delay=0.05, max_delay=0.1)
        sender = Sender(store.outbox, session, retry, clock=clock, quiet=QUIET, tz=TZ)
        task = asyncio.create_task(sender.run())
        yield QuietRig(store, smsc, clock)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _ignore(_item: object) -> None:
    return None


async def test_notice_due_at_night_waits_for_the_end_of_quiet_hours(quiet_rig):
    """Due at 22:00 (a retry, a backlog): not sent during quiet hours, sent after 07:00."""
    await quiet_rig.queue("notice")
    await asyncio.sleep(0.5)
    held = quiet_rig.smsc.stats.submits

    assert held == 0
    quiet_rig.clock.now = at(7, 0, day=24)
    quiet_rig.store.outbox.queued_added.set()  # or the sender's own wake-up, at most 5 s later

    async def submitted() -> bool:
        # The state, not the simulator's count: the outcome is committed just after the
        # SMSC answers, and reading the state at that count raced the commit.
        return await quiet_rig.state("notice") == "submitted"

    await eventually(submitted)
    assert quiet_rig.smsc.stats.submits == 1


async def test_mo_reply_goes_during_quiet_hours(quiet_rig):
    """A citizen who texted MCKH at 22:00 gets the answer now; a notice beside it waits."""
    await quiet_rig.queue("notice")
    await quiet_rig.queue("reply", priority=Priority.MO_REPLY)

    await eventually(lambda: quiet_rig.smsc.stats.submits >= 1)
    await asyncio.sleep(0.3)

    assert quiet_rig.smsc.stats.submits == 1
    assert await quiet_rig.state("reply") == "submitted"
    assert await quiet_rig.state("notice") == "queued"


@pytest.mark.slow
async def test_sender_does_not_poll_the_store_during_quiet_hours(quiet_rig):
    """With only notices due at night the sender sleeps: a couple of look-ups in 1.5 s,
    not a loop (it sleeps until the end of quiet hours, or 5 s, or new work)."""
    for n in range(20):
        await quiet_rig.queue(f"notice-{n}")
    await asyncio.sleep(0.2)
    before = CountingOutbox.due_calls

    await asyncio.sleep(1.5)

    assert CountingOutbox.due_calls - before <= 1
    assert quiet_rig.smsc.stats.submits == 0


async def test_notices_go_by_day(quiet_rig):
    """At 10:00 nothing holds a notice back."""
    quiet_rig.clock.now = at(10)

    await quiet_rig.queue("notice")

    await eventually(lambda: quiet_rig.smsc.stats.submits == 1)


@pytest.mark.slow
@pytest.mark.parametrize("window", [1])
async def test_notice_fetched_before_quiet_hours_waits_if_not_yet_sent(quiet_rig):
    """Window 1: the second notice was fetched ahead at 20:59 while the first was out;
    quiet hours begin before its turn comes, so it stays queued."""
    quiet_rig.clock.now = at(20, 59)
    quiet_rig.smsc.config.response_delay = 0.3
    await quiet_rig.queue("first")
    await quiet_rig.queue("second")
    await eventually(lambda: quiet_rig.smsc.stats.submits >= 1)

    quiet_rig.clock.now = at(21, 0)
    await asyncio.sleep(1.0)

    assert quiet_rig.smsc.stats.submits == 1
    assert await quiet_rig.state("second") == "queued"


LONG = "Ho so cua quy Ong/Ba da co ket qua giai quyet. " * 4  # two GSM-7 parts


async def test_rest_of_a_long_notice_begun_before_quiet_hours_goes_during_them(quiet_rig):
    """Part 1 went before 21:00; part 2, put back for a moment (a throttle, a transient
    answer), goes at 22:00 rather than at 07:00: a phone cannot join parts sent hours apart."""
    await quiet_rig.queue("long", text=LONG)
    (begun,) = await quiet_rig.store.outbox.due(10)
    assert begun.ref == "long"
    first = PartResult(begun.id, 1, "A1", receipt_keys("default", "A1"))
    await quiet_rig.store.outbox.record_outcomes(
        [Outcome(begun, MessageState.QUEUED, begun.attempts, quiet_rig.clock.now, parts=[first])]
    )

    async def submitted() -> bool:
        return await quiet_rig.state("long") == "submitted"

    await eventually(submitted)
    assert quiet_rig.smsc.stats.submits == 1  # part 2 only
