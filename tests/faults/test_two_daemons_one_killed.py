"""Two daemons on one PostgreSQL store and one broker: one SIGKILLed mid-burst, and every
job is delivered through the other (its claims taken after the lease), none lost, at most
the killed daemon's window sent twice, every delivery published."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.broker import free_port
from tests.support.burst import WINDOW, jobs
from tests.support.daemon import (
    StatusWatch,
    log_events,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually

COUNT = 1000
LEASE = 3


def config(tmp_path: Path, name: str, url: str, broker: int, smsc: int) -> Path:
    # Its own directory, so its own MQTT client id: never a persistent session of another
    # test's daemon, which the broker may still hold with jobs queued for it.
    directory = tmp_path / f"{tmp_path.name}-{name}"
    directory.mkdir()
    path = directory / "gateway.yaml"
    write_daemon_config(
        path, broker_port=broker, smsc_port=smsc, db=url, window=WINDOW,
        admin_port=free_port(), sections=f"daemon:\n  name: {name}\n  lease_seconds: {LEASE}\n",
    )  # fmt: skip
    return path


async def test_a_daemon_killed_mid_burst_leaves_every_job_to_the_other(
    broker, postgres_url, tmp_path
):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05)) as smsc,
        StatusWatch(broker.port) as watch,
    ):
        configs = [
            config(tmp_path, name, postgres_url, broker.port, smsc.port)
            for name in ("gw-1", "gw-2")
        ]
        one, two = [await start_daemon(c) for c in configs]
        try:
            await eventually(lambda: smsc.stats.binds >= 2, timeout=30)
            # Both subscribed (logged after the SUBACK): a job published before would find
            # no session of theirs at the broker yet.
            await eventually(
                lambda: all(log_events(c)["mqtt_connected"] >= 1 for c in configs), timeout=30
            )
            await publish(broker.port, jobs(COUNT))
            await eventually(lambda: smsc.stats.submits >= COUNT // 5, timeout=60, poll=0.005)
            two.send_signal(signal.SIGKILL)
            await two.wait()

            events = await watch.wait_for(
                lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) >= COUNT,
                timeout=120,
            )
        finally:
            await stop_daemon(one)
            if two.returncode is None:
                await stop_daemon(two)

    assert {e["id"] for e in events if e["state"] == "delivered"} == {
        f"job-{n}" for n in range(COUNT)
    }
    per_number = Counter(r.destination for r in smsc.records if r.status == 0)
    assert len(per_number) == COUNT
    assert sum(n - 1 for n in per_number.values()) <= WINDOW
