"""Receipt matching under a carrier that numbers messages with a hex counter, after an
outage at start-up. The other attacks of this file moved to tests/faults/
test_sloppy_smsc_daemon.py (daemon) and tests/smpp/test_sloppy_smsc.py (session)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from tests.faults.scripted_daemon import ScriptedDaemon, job
from tests.gateway_rig import stop_daemon
from tests.smpp.scripted_smsc import Smsc


@pytest.mark.parametrize("hex_ids", [True])  # [False]: tests/faults/test_sloppy_smsc_daemon.py
async def test_started_while_the_smsc_is_down_then_it_comes_up(broker, tmp_path, hex_ids):
    """Started with the SMSC refusing connections (binds closed at once) for 3 s: the
    jobs wait, nothing fails or is counted, all are delivered once when it is back; and a
    SIGTERM while it is down ends the daemon in bounded time."""
    down = {"on": True}

    def bind_policy(s, conn):
        if down["on"]:
            conn.close()

    def policy(s, conn, p):
        async def go():
            mid = s.next_id()
            conn.resp(p.sequence, 0, mid)
            s.accepted.append((p, mid))
            await asyncio.sleep(0.05)
            conn.receipt(mid, "DELIVRD")

        return go()

    async with Smsc(policy, bind_policy=bind_policy) as smsc:
        smsc.id_format = "{:08X}" if hex_ids else "M{:08d}"
        smpp = "  reconnect_max: 1\n"
        async with ScriptedDaemon(broker.port, smsc.port, tmp_path, smpp=smpp) as d:
            await asyncio.sleep(1)
            await d.publish([job(n) for n in range(30)])
            await asyncio.sleep(3)
            down["on"] = False
            finals = await d.wait_final([f"job-{n}" for n in range(30)], timeout=30)
            down["on"] = True
            for c in smsc.conns:
                c.close()
            await d.publish([job(n) for n in range(30, 35)])
            await asyncio.sleep(1)
            t = time.monotonic()
            rc = await stop_daemon(d.proc, timeout=30)
            took = time.monotonic() - t
    paid = Counter(p.destination_addr for p, _ in smsc.accepted)
    assert len(finals) == 30 and all(v == ["delivered"] for v in finals.values())
    assert set(paid.values()) == {1}
    assert rc == 0 and took < 15
