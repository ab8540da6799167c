"""Zalo's receipt arrives while the fallback SMS's submit_sm is out.

fallback_after 3 s; Zalo delivers the ZNS after 4.5 s (the citizen's phone was offline);
the SMSC takes 3 s to answer a submit_sm. The timer hands the notice to SMS at 3 s, the
SMS sender submits it, Zalo's receipt comes at 4.5 s while the SMSC has the SMS but has
not answered. The notice is delivered (by Zalo: any channel's delivery settles it, and a
final state is never left); the SMS that went all the same is on record, its part kept
and its segment counted in the figures (it is paid for).
"""

from __future__ import annotations

import asyncio
import sqlite3

from tests.support.wait import eventually
from tests.support.zalo import DELAYED
from tests.support.zalo_daemon import zalo_daemon


async def test_an_sms_that_went_while_zalos_receipt_came_is_on_record(broker, tmp_path):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=3) as rig:
        status, _ = await rig.zalo.control(
            "POST", "/rules", {"phone": DELAYED, "rule": "delay", "seconds": 4.5}
        )
        assert status == 200
        rig.smsc.config.response_delay = 3.0
        (ref,) = await rig.notices([DELAYED])

        await eventually(lambda: rig.sms_to(DELAYED) == 1, timeout=30)
        await asyncio.sleep(6)  # the submit_sm_resp, its receipt, the statuses
        trail = rig.trail(ref)
        await rig.stop()

    db = sqlite3.connect(tmp_path / "gateway.db")
    try:
        parts = db.execute("SELECT COUNT(*) FROM parts").fetchone()[0]
        segments = db.execute("SELECT COALESCE(SUM(segments), 0) FROM figures").fetchone()[0]
    finally:
        db.close()
    assert rig.sms_to(DELAYED) == 1  # the SMS went
    assert trail[-1] == ("delivered", "zalo"), trail
    assert [state for state, _ in trail].count("delivered") == 1
    assert (parts, segments) == (1, 1), "the SMS accepted by the SMSC is not counted"
