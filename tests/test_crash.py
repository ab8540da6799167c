"""A daemon killed with SIGKILL mid-way and restarted finishes every accepted message."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.gateway_rig import StatusWatch, publish, start_daemon, write_daemon_config

MESSAGES = 300
WINDOW = 10


async def test_sigkill_mid_burst_loses_nothing(broker, tmp_path):
    """300 jobs, SIGKILL after some are out, restart: all delivered, duplicates ≤ window."""
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.005)) as smsc,
        StatusWatch(broker.port) as watch,
    ):
        config = tmp_path / "gateway.yaml"
        write_daemon_config(
            config,
            window=WINDOW,
            broker_port=broker.port,
            smsc_port=smsc.port,
            db=tmp_path / "gateway.db",
        )
        daemon = await start_daemon(config)
        try:
            async with asyncio.timeout(15):
                while smsc.stats.binds < 1:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the daemon's MQTT session is subscribed
            jobs = [
                (
                    "motcua/SCT/sms",
                    {"id": f"job-{i}", "to": f"09{i:08d}", "text": f"Thong bao so {i}"},
                )
                for i in range(MESSAGES)
            ]
            await publish(broker.port, jobs)

            async with asyncio.timeout(30):
                while smsc.stats.submits < MESSAGES // 3:
                    await asyncio.sleep(0.005)
            daemon.send_signal(signal.SIGKILL)
            await daemon.wait()
            killed_at = smsc.stats.submits

            daemon = await start_daemon(config)
            delivered = await watch.wait_for(
                lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) == MESSAGES,
                timeout=60,
            )
        finally:
            if daemon.returncode is None:
                daemon.terminate()
                await daemon.wait()

    assert 0 < killed_at < MESSAGES, "the kill must land mid-burst"
    assert {e["id"] for e in delivered if e["state"] == "delivered"} == {
        f"job-{i}" for i in range(MESSAGES)
    }
    per_number = Counter(r.destination for r in smsc.records if r.status == 0)
    duplicates = sum(n - 1 for n in per_number.values())
    assert len(per_number) == MESSAGES
    assert duplicates <= WINDOW
