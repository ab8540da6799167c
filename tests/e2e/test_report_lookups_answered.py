"""MCKH lookups answered, over the real path: a reply that told of a dossier counts; the
help text and "not found" do not."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from gateway.settings.config import default_config
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.figures import Figures
from gateway.store.store import Store
from tests.support.daemon import dossier_event, gateway_config, publish, running_gateway
from tests.support.wait import eventually

TZ = default_config().tz


def _dossiers(db) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0]


def _replies(db) -> int:
    with sqlite3.connect(db) as c:
        return c.execute(
            "SELECT COUNT(*) FROM messages WHERE kind = 'mo_reply' AND state = 'delivered'"
        ).fetchone()[0]


async def test_help_and_not_found_replies_are_not_counted_as_lookups_answered(broker, tmp_path):
    db = tmp_path / "gateway.db"
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        config = gateway_config(
            broker_port=broker.port, smsc_port=smsc.port, db=db, client_id=f"mo-{tmp_path.name}"
        )
        async with running_gateway(config):
            now = datetime.now(TZ).isoformat()
            await publish(broker.port, [("motcua/SCT/dossier", dossier_event(
                1, occurred_at=now, due_date="2099-12-31", event_id="lookups-1"))])  # fmt: skip
            await eventually(lambda: _dossiers(db) == 1, timeout=15, poll=0.1)
            await smsc.inject_mo("84905123456", "8083", "MCKH 0101700001")  # answered
            await smsc.inject_mo("84905123457", "8083", "MCKH")  # no number: help reply
            await smsc.inject_mo("84905123458", "8083", "MCKH 0101799777")  # not found
            await eventually(lambda: _replies(db) == 3, timeout=15, poll=0.1)
    # The days around today, so that a run across midnight counts the same.
    today = datetime.now(TZ).date()
    since, until = today - timedelta(days=1), today + timedelta(days=1)
    async with Store.open(db, readonly=True) as store:
        (row,) = await Figures(store.database, TZ, 0).table(since, until, ())
    assert row.lookups_answered == 1
