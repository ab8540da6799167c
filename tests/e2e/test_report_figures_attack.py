"""Probes of the figures over the real path (attack x3): each names the correct behaviour."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime

from gateway.settings.config import default_config
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.figures import Figures
from gateway.store.store import Store
from tests.support.daemon import dossier_event, gateway_config, publish, running_gateway
from tests.support.wait import eventually

TZ = default_config().tz


def _replies(db) -> int:
    with sqlite3.connect(db) as c:
        return c.execute(
            "SELECT COUNT(*) FROM messages WHERE kind = 'mo_reply' AND state = 'delivered'"
        ).fetchone()[0]


async def test_help_and_not_found_replies_are_not_counted_as_lookups_answered(broker, tmp_path):
    db = tmp_path / "gateway.db"
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        config = gateway_config(
            broker_port=broker.port, smsc_port=smsc.port, db=db, client_id=f"x3-{tmp_path.name}"
        )
        async with running_gateway(config):
            now = datetime.now(TZ).isoformat()
            await publish(broker.port, [("motcua/SCT/dossier", dossier_event(
                1, occurred_at=now, due_date="2099-12-31", event_id="x3-1"))])  # fmt: skip
            await asyncio.sleep(1)
            await smsc.inject_mo("84905123456", "8083", "MCKH 0101700001")  # answered
            await smsc.inject_mo("84905123457", "8083", "MCKH")  # no number: help reply
            await smsc.inject_mo("84905123458", "8083", "MCKH 0101799777")  # not found
            await eventually(lambda: _replies(db) == 3, timeout=15, poll=0.1)
    today = datetime.now(TZ).date()
    async with Store.open(db, readonly=True) as store:
        (row,) = await Figures(store.database, TZ, 0).table(today, today, ())
    assert row.lookups_answered == 1
