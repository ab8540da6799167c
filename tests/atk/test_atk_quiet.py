"""A notice taken by the sender at 20:59 while the SMSC is down goes out when the bind
comes back, even at 21:05 (quiet hours)."""
from __future__ import annotations

import asyncio
import dataclasses

from gateway.calendar import QuietHours
from gateway.composer import Composer
from gateway.config import RetryConfig, default_config
from gateway.outbox import Sender
from gateway.smpp.session import Session
from gateway.store import Store
from tests.smpp.conftest import session_config
from tests.test_quiet_hours_at_send import AT_2059, AT_2105, Clock

from .smsc import Smsc


async def test_a_notice_waiting_for_the_bind_at_2059_does_not_go_out_at_2105(tmp_path):
    cfg = dataclasses.replace(
        default_config(), retry=dataclasses.replace(RetryConfig(), base_delay=0.5, max_delay=1.0)
    )
    clock = Clock(AT_2059)
    down = {"on": True}

    def bind_policy(s, conn):
        if down["on"]:
            conn.close()

    def policy(s, conn, p):
        return s.accept(conn, p)

    async def ignore(_item):
        return None

    async with Smsc(policy, bind_policy=bind_policy) as smsc, Store.open(
        tmp_path / "g.db", clock=clock
    ) as store:
        async with Session(session_config(smsc.port, reconnect_max=0.2), ignore) as session:
            quiet = QuietHours(*cfg.schedule.quiet_hours)
            sender = Sender(store, session, cfg.retry, clock=clock, quiet=quiet, tz=cfg.tz)
            task = asyncio.create_task(sender.run())
            try:
                composer = Composer(cfg, clock=clock)
                await store.record_intake(
                    messages=[composer.text("SCT", ref="n1", kind="sms", to="0905123456", text="x")]
                )
                await asyncio.sleep(1.0)  # taken by the sender, waiting for a bind
                clock.now = AT_2105
                down["on"] = False  # the SMSC is back, at 21:05
                await asyncio.sleep(2.0)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    assert len(smsc.submits) == 0, "a notice went out at 21:05"
