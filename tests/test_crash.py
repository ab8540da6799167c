"""A daemon killed with SIGKILL mid-way and restarted finishes every accepted message."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.gateway_rig import StatusWatch, publish

MESSAGES = 300
WINDOW = 10


def write_config(path: Path, *, broker_port: int, smsc_port: int, db: Path) -> None:
    path.write_text(
        f"""
smpp:
  host: 127.0.0.1
  port: {smsc_port}
  password: secret
  window: {WINDOW}
  tps: 0
  response_timeout: 2
  reconnect_min: 0.05
  reconnect_max: 0.5
mqtt:
  port: {broker_port}
  client_id: crash-test-{os.getpid()}
store:
  path: {db}
schedule:
  quiet_hours: "off"
retry:
  base_delay: 0.1
  max_delay: 0.5
agencies:
  SCT:
    name: Sở Công Thương
""",
        encoding="utf-8",
    )


async def start_daemon(config: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "run",
        "-c",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )


async def test_sigkill_mid_burst_loses_nothing(broker, tmp_path):
    """300 jobs, SIGKILL after some are out, restart: all delivered, duplicates ≤ window."""
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.005)) as smsc,
        StatusWatch(broker.port) as watch,
    ):
        config = tmp_path / "gateway.yaml"
        write_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "gateway.db"
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
