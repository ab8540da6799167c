"""Quiet hours hold when a notice is *sent*, not only when it is queued (SPEC: "a retry, or
a backlog left by an SMSC outage, never goes out at night")."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.app import composer_settings
from gateway.calendar.workdays import QuietHours
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.settings.config import RetryConfig, default_config
from gateway.smpp.session import Session
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.session import ignore, session_config
from tests.support.wait import eventually

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AT_2059 = datetime(2026, 11, 23, 20, 59, tzinfo=TZ).timestamp()
AT_2105 = datetime(2026, 11, 23, 21, 5, tzinfo=TZ).timestamp()
AT_0701 = datetime(2026, 11, 24, 7, 1, tzinfo=TZ).timestamp()


class Clock:
    """Runs at real speed from the time it was last set to (a frozen clock would keep a
    retry's back-off from ever ending)."""

    def __init__(self, now: float) -> None:
        self.now = now

    @property
    def now(self) -> float:
        return self._base + time.monotonic() - self._set_at

    @now.setter
    def now(self, value: float) -> None:
        self._base, self._set_at = value, time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def night(
    tmp_path, store_location
) -> AsyncIterator[tuple[Clock, Store, SmscSimulator, Composer]]:
    """Quiet hours 21:00-07:00 (the defaults), fast retries, a clock the test moves."""
    cfg = dataclasses.replace(
        default_config(), retry=dataclasses.replace(RetryConfig(), base_delay=0.5, max_delay=1.0)
    )
    clock = Clock(AT_2059)
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port), ignore) as session,
    ):
        quiet = QuietHours(*cfg.schedule.quiet_hours)
        sender = Sender(store.outbox, session, cfg.retry, clock=clock, quiet=quiet, tz=cfg.tz)
        task = asyncio.create_task(sender.run())
        try:
            yield clock, store, smsc, Composer(composer_settings(cfg), clock=clock)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.mark.slow
async def test_a_notice_queued_at_2059_whose_turn_comes_at_2105_waits_for_seven(night):
    clock, store, smsc, composer = night
    message = composer.text("SCT", ref="n1", kind="sms", to="0905123456", text="x")
    clock.now = AT_2105  # the SMSC was down, or the queue was long
    await store.dossiers.record_intake(messages=[message])
    await asyncio.sleep(1.0)  # time for the sender to take it, were it going to

    assert smsc.stats.submits == 0, "a notice went out at 21:05"
    clock.now = AT_0701
    await eventually(lambda: smsc.stats.submits == 1, timeout=10)


@pytest.mark.slow
async def test_a_retry_that_falls_after_2100_waits_for_seven(night):
    clock, store, smsc, composer = night
    smsc.config.rules = (Rule("84905*", "transient", count=1),)
    await store.dossiers.record_intake(
        messages=[composer.text("SCT", ref="n1", kind="sms", to="0905123456", text="x")]
    )
    await eventually(lambda: smsc.stats.submits == 1, timeout=10)  # refused, 20:59
    clock.now = AT_2105
    await asyncio.sleep(2.0)

    assert smsc.stats.submits == 1, "the retry went out at 21:05"
