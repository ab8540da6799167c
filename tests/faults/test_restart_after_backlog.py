"""The daemon stopped while agencies go on publishing: more than a Receive Maximum (1,000)
of jobs wait in its session. Started again, it takes them all."""

from __future__ import annotations

import json
import signal

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.broker import free_port
from tests.support.burst import WINDOW, jobs
from tests.support.daemon import (
    StatusWatch,
    http_get,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually

BACKLOG = 1500


async def test_a_daemon_restarted_with_more_than_a_receive_maximum_queued_takes_every_job(
    fresh_broker, tmp_path
):
    async with SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.002)) as smsc:
        directory = tmp_path / "backlog"
        directory.mkdir()
        config = directory / "gateway.yaml"
        port = free_port()
        write_daemon_config(
            config, broker_port=fresh_broker.port, smsc_port=smsc.port,
            db=tmp_path / "gateway.db", window=WINDOW, admin_port=port,
        )  # fmt: skip

        async def healthy() -> bool:
            try:
                status, body = await http_get(port, "/healthz")
                return status == 200 and json.loads(body).get("status") == "ok"
            except (OSError, ValueError):
                return False

        daemon = await start_daemon(config)
        try:
            await eventually(healthy, 30, poll=0.1)
            daemon.send_signal(signal.SIGKILL)
            await daemon.wait()
            async with StatusWatch(fresh_broker.port) as watch:
                await publish(fresh_broker.port, jobs(BACKLOG))
                daemon = await start_daemon(config)
                try:
                    queued = await watch.wait_for(
                        lambda ev: len({e["id"] for e in ev if e["state"] == "queued"})
                        >= BACKLOG,
                        timeout=60,
                    )
                finally:
                    taken = {e["id"] for e in watch.events if e["state"] == "queued"}
                    print(f"queued published for {len(taken)} of {BACKLOG} jobs")
        finally:
            await stop_daemon(daemon)
    assert len({e["id"] for e in queued if e["state"] == "queued"}) == BACKLOG
