"""A long notice whose first part is written at 20:59:59 and answered at 21:00:01: the
rest of the same concatenated message goes with it, not at 07:00 the next morning. A
citizen must never get part 1/2 of a notice at night and part 2/2 twelve hours later
(the handset cannot join them; the province pays for a notice nobody can read)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.settings.config import RetryConfig, default_config
from gateway.smpp.session import Session
from gateway.store.store import Store
from tests.support.clock import QUIET, TZ, Clock, at
from tests.support.scripted_smsc import Smsc
from tests.support.session import ignore, session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


@pytest.mark.slow
async def test_parts_of_a_notice_begun_before_2100_all_go_together(
    tmp_path: Path, store_location: str | Path
) -> None:
    clock = Clock(at(20, 59))

    def policy(smsc: Smsc, conn, p):
        # The carrier takes two seconds to answer part 1: it is 21:00:01 by then.
        clock.now = at(21, 0) + 1
        return smsc.accept(conn, p)

    base = default_config()
    composer = Composer(
        composer_settings(
            dataclasses.replace(base, schedule=dataclasses.replace(base.schedule, quiet_hours=None))
        ),
        clock=clock,
    )
    retry = dataclasses.replace(RetryConfig(), base_delay=0.5, max_delay=1.0)
    async with (
        Smsc(policy) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port), ignore) as session,
    ):
        message = composer.text(
            "SCT", ref="long", kind="sms", to="0905123456", text="Thong bao ho so " * 20
        )
        await store.dossiers.record_intake(messages=[message])
        sender = Sender(store.outbox, session, retry, clock=clock, quiet=QUIET, tz=TZ)
        task = asyncio.create_task(sender.run())
        try:
            await eventually(lambda: len(smsc.submits) >= 1)
            await asyncio.sleep(1.0)
            ((state, not_before),) = await db_rows(
                store, "SELECT state, not_before FROM messages WHERE ref = 'long'"
            )
            parts = len(smsc.submits)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert parts >= 2, (
        f"only {parts} part(s) written; the message is {state}, rest held until "
        f"{not_before - at(7, 0, day=24):+.0f}s from 07:00"
    )
    assert state == "submitted"
