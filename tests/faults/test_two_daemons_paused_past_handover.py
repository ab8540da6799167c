"""Two daemons on one PostgreSQL store; one paused (SIGSTOP) past its lease and past the
broker's keep-alive and the handover, then resumed (a VM frozen, a long GC pause, a host
suspended): the other has taken its claims and its MQTT session meanwhile. Every job is
delivered, and no SMS goes twice beyond the window the paused daemon had out when it froze.
Statuses are at least once (docs/INTEGRATION.md: key on `id`), so one published again by
the other daemon is no failure here."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import WINDOW
from tests.support.pair import HANDOVER, LEASE, Pair
from tests.support.wait import eventually

COUNT = 1000
KEEPALIVE = 4  # the broker drops a silent connection after 1.5 x this
PAUSE = LEASE + 1.5 * KEEPALIVE + HANDOVER + 4


async def test_a_daemon_paused_past_its_lease_and_handover_sends_nothing_twice_beyond_a_window(
    fresh_broker, postgres_url, tmp_path
):
    async with SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.002)) as smsc:
        pair = Pair(fresh_broker.port, smsc, tmp_path, postgres_url)
        for member in pair.members.values():
            text = member.config.read_text(encoding="utf-8")
            member.config.write_text(
                text.replace("  shared_group:", f"  keepalive: {KEEPALIVE}\n  shared_group:"),
                encoding="utf-8",
            )
        async with pair:
            paused = pair["a"]
            await pair.publish_jobs(COUNT // 2)
            await eventually(lambda: smsc.stats.submits >= COUNT // 5, 120, poll=0.005)
            assert paused.process is not None
            paused.process.send_signal(signal.SIGSTOP)
            try:
                await pair.publish_jobs(COUNT - COUNT // 2, start=COUNT // 2)
                await asyncio.sleep(PAUSE)
            finally:
                paused.process.send_signal(signal.SIGCONT)
            delivered = await pair.watch.wait_for(
                lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) >= COUNT,
                timeout=180,
            )
            await pair.settled_store(60)
            await asyncio.sleep(3)  # whatever the resumed daemon still does

    per_number = Counter(r.destination for r in smsc.records if r.status == 0)
    duplicates = sum(n - 1 for n in per_number.values())
    assert {e["id"] for e in delivered if e["state"] == "delivered"} == {
        f"job-{n}" for n in range(COUNT)
    }
    assert len(per_number) == COUNT
    assert duplicates <= WINDOW, f"{duplicates} SMS sent twice"
