"""The daemon on a PostgreSQL store, end to end: the real daemon process (`motcua-sms run`)
with `store.url` on the test server, its password from `store.password_file`, an SMS job
in over MQTT (mosquitto), the SMS at the bundled simulator over SMPP, and the job's
`delivered` status out on the agency's status topic; the store holds what happened."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta

import psycopg

from gateway.app import composer_settings
from gateway.cli import STARTUP_FAILURE
from gateway.compose.composer import Composer
from gateway.settings.config import default_config
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.daemon import (
    StatusWatch,
    log_events,
    publish,
    run_refused,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.postgres import GUARDED, GUARDED_PASSWORD, PostgresServer
from tests.support.wait import eventually

JOB = {"id": "fee-pg-1", "to": "0905123456", "text": "Le phi ho so: 50.000 dong"}


async def test_a_job_in_over_mqtt_is_delivered_by_a_daemon_on_postgresql(
    broker, tmp_path, postgres_server: PostgresServer, postgres_url: str
):
    url = postgres_server.url(postgres_url.rsplit("/", 1)[1], role=GUARDED)
    secret = tmp_path / "store.pass"
    secret.write_text(GUARDED_PASSWORD + "\n")
    config = tmp_path / "gateway.yaml"
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        StatusWatch(broker.port) as watch,
    ):
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=url,
            store_extra=f"  password_file: {secret}\n",
        )  # fmt: skip
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: smsc.sessions == 1, timeout=20)
            # Subscribed (logged after the SUBACK): a job published before would find no
            # session of ours at the broker yet.
            await eventually(lambda: log_events(config)["mqtt_connected"] >= 1, timeout=20)
            await publish(broker.port, [("motcua/SCT/sms", JOB)])
            await watch.wait_for(lambda seen: "delivered" in watch.states(JOB["id"]), 20)
        finally:
            assert await stop_daemon(daemon) == 0

    assert [(r.destination, r.body.decode()) for r in smsc.records] == [
        ("84905123456", JOB["text"])
    ]
    assert watch.states(JOB["id"])[-1] == "delivered"
    with psycopg.connect(postgres_url, autocommit=True) as db:
        stored = db.execute("SELECT ref, state, phone FROM messages").fetchall()
    assert stored == [(JOB["id"], "delivered", "84905123456")]


async def test_a_daemon_refused_by_the_server_exits_at_start_on_one_line_without_the_password(
    broker, tmp_path, postgres_server: PostgresServer, postgres_url: str
):
    url = postgres_server.url(postgres_url.rsplit("/", 1)[1], role=GUARDED)
    config = tmp_path / "gateway.yaml"
    write_daemon_config(
        config, broker_port=broker.port, smsc_port=free_port(), db=url,
        store_extra="  password: not-the-password\n",
    )  # fmt: skip

    status, lines = await run_refused(config)

    assert status == STARTUP_FAILURE
    (line,) = lines
    assert line.startswith(f"motcua-sms: store {url}: cannot connect")
    assert "password authentication failed" in line
    assert "not-the-password" not in line


async def test_report_reads_a_postgresql_store_beside_its_daemon(tmp_path, postgres_url: str):
    """`motcua-sms report` on `store.url`: read-only, the figures as the daemon left them."""
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=free_port(), smsc_port=free_port(), db=postgres_url)
    async with Store.open(postgres_url) as store:
        await store.dossiers.record_intake(
            messages=[Composer(composer_settings(default_config())).text(
                "SCT", ref="j1", kind="sms", to="0905123456", text="x"
            )]
        )  # fmt: skip
    today = datetime.now(default_config().tz).date()
    days = ["--from", str(today - timedelta(days=1)), "--to", str(today + timedelta(days=1))]

    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "gateway.cli", "report", "-c", str(config), *days,
         "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert (done.returncode, done.stderr) == (0, "")
    rows = json.loads(done.stdout)
    assert sum(row["notices_queued"] for row in rows) == 1
