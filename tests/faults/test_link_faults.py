"""The SMSC and the broker misbehaving mid-burst: nothing lost, duplicates within a window
per broken session (one session a link here)."""

from __future__ import annotations

import asyncio

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import Burst

COUNT = 2000


async def test_smsc_dropping_every_session_every_second(broker, tmp_path):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.002)) as smsc,
        Burst(broker.port, smsc, tmp_path, COUNT) as burst,
    ):
        drops: list[int] = []

        async def chaos() -> None:
            while True:
                await asyncio.sleep(1)
                drops.append(smsc.drop_all())

        dropper = asyncio.create_task(chaos())
        await burst.publish()
        await burst.submitted_at_least(COUNT)
        dropper.cancel()
        delivered = await burst.all_delivered()

    assert sum(drops) >= 1, "the sessions must really have dropped"
    burst.check(delivered, interruptions=sum(drops))


async def test_mosquitto_killed_and_restarted_mid_burst(fresh_broker, tmp_path):
    """The broker crashes (SIGKILL: what it had not saved is gone). The agency's software
    publishes again what it is unsure of; job ids make that harmless."""
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05)) as smsc,
        Burst(fresh_broker.port, smsc, tmp_path, COUNT) as burst,
    ):
        await burst.publish(0, COUNT // 2)
        await burst.submitted_at_least(COUNT // 4)
        fresh_broker.kill()
        await asyncio.sleep(0.5)
        fresh_broker.start()
        await asyncio.sleep(0.1)
        await burst.until_healthy()  # the daemon has subscribed again
        await burst.publish()  # everything again, the second half for the first time
        delivered = await burst.all_delivered_in_store()

    burst.check(delivered)


async def test_smsc_throttling_most_submits_for_a_while(broker, tmp_path):
    """ESME_RTHROTTLED to all but 50 submits a second for 3 s: paused and resent, never
    failed, never counted as an attempt."""
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.02, tps=50)) as smsc,
        Burst(broker.port, smsc, tmp_path, COUNT) as burst,
    ):
        await burst.publish()
        await asyncio.sleep(3)
        throttled = smsc.stats.submits_by_status["ESME_RTHROTTLED"]
        smsc.config.tps = 0
        delivered = await burst.all_delivered()
        states = {e["state"] for e in burst.watch.events}

    assert throttled > 0
    assert "failed" not in states and "expired" not in states
    burst.check(delivered)
