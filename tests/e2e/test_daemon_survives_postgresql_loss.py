"""The daemon on PostgreSQL when its connection to the server is lost and the server is
back: README "Losing PostgreSQL" (senders wait for the store to come back). A server
restart (an upgrade, a failover) or an operator's pg_terminate_backend ends the daemon's
connections; every part then works again on new ones: intake takes the next job, the
sender sends it, the publisher publishes its statuses, and the heartbeat goes on, so the
daemon is never judged dead for a loss it came through."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.daemon import (
    StatusWatch,
    log_events,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.postgres import PostgresServer
from tests.support.wait import eventually

BEFORE = {"id": "pg-loss-1", "to": "0905123456", "text": "Ho so truoc khi mat CSDL"}
AFTER = {"id": "pg-loss-2", "to": "0905123457", "text": "Ho so sau khi CSDL tro lai"}
# Seconds for the heartbeat to beat after the loss: two beats of the default 30 s lease.
BEATS = 20


def _ended(server: PostgresServer, url: str) -> None:
    assert server.terminate_backends(url) >= 1


def _restarted(server: PostgresServer, url: str) -> None:
    server.restart()


def _server_now_and_seen(url: str) -> tuple[float, float]:
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute(
            "SELECT extract(epoch FROM clock_timestamp())::float8, MAX(seen_at) FROM daemons"
        ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


@pytest.mark.parametrize("loss", [_ended, _restarted], ids=["backends_ended", "server_restarted"])
async def test_a_daemon_works_on_after_its_postgresql_connections_were_lost(
    broker,
    tmp_path,
    postgres_server: PostgresServer,
    postgres_url: str,
    loss: Callable[[PostgresServer, str], None],
):
    config = tmp_path / "gateway.yaml"
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        StatusWatch(broker.port) as watch,
    ):
        write_daemon_config(config, broker_port=broker.port, smsc_port=smsc.port, db=postgres_url)
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: smsc.sessions == 1, timeout=20)
            # Subscribed (logged once the broker granted intake's subscriptions).
            await eventually(lambda: log_events(config)["mqtt_connected"] >= 1, timeout=20)
            await publish(broker.port, [("motcua/SCT/sms", BEFORE)])
            try:
                await watch.wait_for(lambda seen: "delivered" in watch.states(BEFORE["id"]), 20)
            except TimeoutError:
                raise AssertionError(
                    f"not delivered; the daemon's log: {log_events(config).most_common(12)}"
                ) from None

            loss(postgres_server, postgres_url)
            back_at, _ = _server_now_and_seen(postgres_url)

            await publish(broker.port, [("motcua/SCT/sms", AFTER)])
            try:
                await watch.wait_for(lambda seen: "delivered" in watch.states(AFTER["id"]), 40)
            except TimeoutError:
                raise AssertionError(
                    f"not delivered after the connections were lost; the daemon's log: "
                    f"{log_events(config).most_common(12)}"
                ) from None
            await eventually(lambda: _server_now_and_seen(postgres_url)[1] > back_at, BEATS)
        finally:
            await stop_daemon(daemon)

    assert sorted(r.body.decode() for r in smsc.records) == sorted([BEFORE["text"], AFTER["text"]])
