"""Operating the daemon: demo, health and metrics, signals, systemd notifications, reports,
retention. The daemon runs as a subprocess wherever a signal or systemd is involved."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime

import pytest

from gateway.app import Gateway, composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Outcome, PartResult
from gateway.ops.report import build, render
from gateway.settings.config import AdminConfig, default_config
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.figures import Figures
from gateway.store.retention import purge_once
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.daemon import (
    StatusWatch,
    gateway_config,
    http_get,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.daemons import claimant
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


def job(n: int, agency: str = "SCT") -> tuple[str, dict]:
    return (f"motcua/{agency}/sms", {"id": f"job-{n}", "to": f"09{n:08d}", "text": f"Tin {n}"})


def delivered_ids(events: list[dict]) -> set[str]:
    return {e["id"] for e in events if e["state"] == "delivered"}


# -- demo -----------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_runs_to_completion_with_every_sample_in_its_expected_state():
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.split("\nSummary\n", 1)[1]
    assert "SCT-3:result               rejected       ok" in summary  # the landline
    assert "SCT-4:result               skipped        ok" in summary  # same-day procedure
    assert "STP-2:result               undeliverable  ok" in summary
    assert "MO lookups answered: 7 of 7" in summary
    # a receipt number two agencies hold: one lookup answers for both, naming each
    assert "held by LDTBXH and STP: both answered, each named" in summary
    # the agency named with an en dash: its result notice is one GSM-7 segment
    assert "Sở Lao động – Thương binh và Xã hội result notice: 1 segment(s) GSM-7 ok" in summary
    # the agency on Zalo first: delivered by Zalo, by SMS at once, by SMS after the timer
    assert "SNV-1:result               delivered by zalo: ok" in summary
    assert "SNV-2:result               delivered by sms: ok" in summary
    assert "SNV-3:result               delivered by sms: ok" in summary
    assert "answered in the chat" in summary
    assert "e-mail copy of SNV-0:receipt: caught, with the receipt's QR code" in summary
    assert summary.rstrip().endswith("demo passed")
    assert "← MO" in result.stdout and "→ SMS" in result.stdout
    assert "→ ZNS" in result.stdout and "(zalo: no receipt within 4 s)" in result.stdout


# -- health and metrics -----------------------------------------------------------------


@pytest.fixture
async def gateway_with_admin(broker, tmp_path):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        config = dataclasses.replace(
            gateway_config(
                broker_port=broker.port,
                smsc_port=smsc.port,
                db=tmp_path / "g.db",
                client_id=f"admin-{tmp_path.name}",
            ),
            admin=AdminConfig(port=free_port()),
        )
        stop = asyncio.Event()
        ready = asyncio.Event()
        gateway = Gateway(config)
        task = asyncio.create_task(gateway.run(stop, on_ready=ready.set))
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.sleep(0.2)
        yield smsc, config.admin.port
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_healthz_is_200_while_bound_and_connected(gateway_with_admin):
    _smsc, port = gateway_with_admin

    status, body = await http_get(port, "/healthz")

    assert status == 200
    health = json.loads(body)
    daemons = health.pop("daemons")
    assert health | {"oldest_queued_age_seconds": None} == {
        "status": "ok",
        "smsc": "bound",
        "broker": "connected",
        "refused_publishes": 0,
        "refused_subscriptions": [],
        "queued": 0,
        "awaiting_receipt": 0,
        "oldest_queued_age_seconds": None,
        "window_in_use": 0,
        "links": {
            "default": {
                "status": "bound",
                "sessions": [{"bound": True, "window_in_use": 0, "last_bind_error": None}],
                "window_in_use": 0,
            }
        },
        "unserved": [],
    }
    assert [(d["name"], d["pid"], d["alive"], d["this"]) for d in daemons] == [
        (socket.gethostname(), os.getpid(), True, True)
    ]


async def test_healthz_lists_every_daemon_of_the_store_alive_or_not(gateway_with_admin, tmp_path):
    _smsc, port = gateway_with_admin

    def an_hour_ago() -> float:
        return time.time() - 3600

    gone = claimant("gw-dead")
    async with Store.open(tmp_path / "g.db", clock=an_hour_ago, claimant=gone) as dead:
        await dead.daemons.register()

    status, body = await http_get(port, "/healthz")

    listed = {d["name"]: d for d in json.loads(body)["daemons"]}
    assert status == 200
    assert listed["gw-dead"]["alive"] is False
    assert listed["gw-dead"]["seen_seconds_ago"] >= 3600
    assert (listed["gw-dead"]["host"], listed["gw-dead"]["this"]) == (socket.gethostname(), False)
    assert listed[socket.gethostname()]["alive"] is True
    _, metrics = await http_get(port, "/metrics")
    assert 'motcua_daemon_alive{daemon="gw-dead"} 0.0' in metrics
    assert f'motcua_daemon_alive{{daemon="{socket.gethostname()}"}} 1.0' in metrics


async def test_healthz_turns_503_when_the_smsc_is_down(broker, tmp_path):
    smsc = SmscSimulator(SimConfig())
    await smsc.__aenter__()
    config = dataclasses.replace(
        gateway_config(
            broker_port=broker.port,
            smsc_port=smsc.port,
            db=tmp_path / "g.db",
            client_id=f"down-{tmp_path.name}",
        ),
        admin=AdminConfig(port=free_port()),
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(Gateway(config).run(stop, on_ready=ready.set))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        await eventually(lambda: smsc.stats.binds >= 1)
        await smsc.__aexit__(None, None, None)  # the SMSC goes away, and stays away

        async def unhealthy() -> tuple[int, str]:
            for _ in range(100):
                status, body = await http_get(config.admin.port, "/healthz")
                if status != 200:
                    return status, body
                await asyncio.sleep(0.05)
            return status, body

        status, body = await unhealthy()
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)

    assert status == 503
    assert json.loads(body)["smsc"] == "down"
    assert json.loads(body)["status"] == "unavailable"


async def test_metrics_count_submits_receipts_and_mo(gateway_with_admin, broker):
    smsc, port = gateway_with_admin
    async with StatusWatch(broker.port) as watch:
        await publish(broker.port, [job(1)])
        await watch.wait_for(lambda ev: "job-1" in delivered_ids(ev))
    await smsc.inject_mo("84905123456", "8083", "hd")
    await eventually(lambda: len(smsc.records) == 2)

    status, text = await http_get(port, "/metrics")

    assert status == 200
    assert 'motcua_submits_total{result="ok"} 2.0' in text
    assert 'motcua_receipts_total{state="DELIVRD"}' in text
    assert 'motcua_mo_total{keyword="HD",outcome="help"} 1.0' in text
    assert "motcua_queue_depth" in text and "motcua_window_in_use" in text
    assert "motcua_throttled_total 0.0" in text
    assert "motcua_ambiguous_resubmits_total 0.0" in text


# -- signals ----------------------------------------------------------------------------


async def test_sigterm_with_messages_in_flight_loses_none(broker, tmp_path):
    """SIGTERM mid-burst: exit 0; after a restart every message is delivered, none twice."""
    count = 300
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.02, response_delay=0.005)) as smsc,
        StatusWatch(broker.port) as watch,
    ):
        config = tmp_path / "gateway.yaml"
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "g.db"
        )
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: smsc.stats.binds >= 1, timeout=15)
            await asyncio.sleep(0.5)
            await publish(broker.port, [job(n) for n in range(count)])
            await eventually(lambda: smsc.stats.submits >= count // 3, timeout=30)
            daemon.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(daemon.wait(), 20)
            stopped_at = smsc.stats.submits

            daemon = await start_daemon(config)
            events = await watch.wait_for(lambda ev: len(delivered_ids(ev)) == count, timeout=60)
        finally:
            await stop_daemon(daemon)

    assert code == 0
    assert 0 < stopped_at < count
    assert delivered_ids(events) == {f"job-{n}" for n in range(count)}
    per_number = Counter(r.destination for r in smsc.records if r.status == 0)
    assert len(per_number) == count
    assert max(per_number.values()) == 1


async def test_sighup_with_a_broken_file_keeps_the_old_config(broker, tmp_path):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc, StatusWatch(broker.port) as w:
        config = tmp_path / "gateway.yaml"
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "g.db"
        )
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: smsc.stats.binds >= 1, timeout=15)
            await asyncio.sleep(0.5)
            good = config.read_text()
            config.write_text(good + "  STP:\n    diacritics: sometimes\n")  # no name, bad value
            daemon.send_signal(signal.SIGHUP)
            await asyncio.sleep(0.5)
            await publish(broker.port, [job(1), job(2, agency="STP")])
            events = await w.wait_for(
                lambda ev: (
                    "job-1" in delivered_ids(ev) and any(e["state"] == "rejected" for e in ev)
                )
            )
        finally:
            await stop_daemon(daemon)

    assert daemon.returncode == 0
    (rejected,) = [e for e in events if e["state"] == "rejected"]
    assert "agency" in rejected["reason"]  # STP is still unknown: the old config runs
    assert smsc.stats.binds == 1


async def test_sighup_adds_an_agency_without_dropping_the_bind(broker, tmp_path):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc, StatusWatch(broker.port) as w:
        config = tmp_path / "gateway.yaml"
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "g.db"
        )
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: smsc.stats.binds >= 1, timeout=15)
            await asyncio.sleep(0.5)
            config.write_text(config.read_text() + "  STP:\n    name: Sở Tư pháp\n")
            daemon.send_signal(signal.SIGHUP)
            await asyncio.sleep(0.5)
            await publish(broker.port, [job(7, agency="STP")])
            await w.wait_for(lambda ev: "job-7" in delivered_ids(ev))
        finally:
            await stop_daemon(daemon)

    assert smsc.stats.binds == 1
    assert w.topics[-1] == "motcua/STP/status"


# -- systemd ----------------------------------------------------------------------------


async def test_systemd_hears_ready_status_watchdog_and_stopping(broker, tmp_path):
    notify = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    heard: list[str] = []

    async def listen() -> None:
        while True:
            heard.append((await loop.sock_recv(sock, 4096)).decode())

    async with SmscSimulator(SimConfig()) as smsc:
        config = tmp_path / "gateway.yaml"
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "g.db"
        )
        listener = asyncio.create_task(listen())
        daemon = await start_daemon(
            config, env={"NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "400000"}
        )
        try:
            await eventually(lambda: any("READY=1" in m for m in heard), timeout=15)
            await eventually(lambda: sum("WATCHDOG=1" in m for m in heard) >= 3, timeout=5)
            daemon.send_signal(signal.SIGTERM)
            await asyncio.wait_for(daemon.wait(), 20)
        finally:
            listener.cancel()
            sock.close()
            if daemon.returncode is None:
                daemon.kill()

    ready = next(m for m in heard if "READY=1" in m)
    assert "STATUS=bound, broker ok, 0 queued" in ready
    assert any(m == "STOPPING=1" for m in heard)
    assert heard.index(ready) < heard.index("STOPPING=1")


# -- reports and retention ----------------------------------------------------------------


def local_today() -> date:
    """Reports count by the agencies' calendar day, which is not the test machine's (UTC)."""
    return datetime.now(default_config().tz).date()


def composer_without_quiet_hours() -> Composer:
    """These tests are about figures, so a notice queued at night must still be due now."""
    config = default_config()
    schedule = dataclasses.replace(config.schedule, quiet_hours=None)
    return Composer(composer_settings(dataclasses.replace(config, schedule=schedule)))


async def figures_of_today(store: Store, by=("agency",)):
    today = local_today()
    figures = Figures(store.database, default_config().tz, 450)
    return await build(figures, today, today, by)


async def test_report_counts_by_agency_with_reasons(tmp_path):
    composer = composer_without_quiet_hours()
    async with Store.open(tmp_path / "g.db") as store:
        await store.dossiers.record_intake(
            messages=[
                composer.text("SCT", ref="a", kind="sms", to="0905123456", text="x"),
                composer.text("SCT", ref="b", kind="sms", to="0905123457", text="y"),
                composer.text("SCT", ref="c", kind="sms", to="0258 3822 123", text="z"),
                composer.text("STP", ref="d", kind="sms", to="0905123458", text="é"),
            ]
        )
        queued = {m.ref: m for m in await store.outbox.due(10)}
        part = PartResult(queued["a"].id, 1, "4d2", frozenset({"s:4d2"}))
        await store.outbox.record_outcomes(
            [
                Outcome(queued["a"], "submitted", 1, 0, segments=1, parts=[part]),
                Outcome(queued["b"], "failed", 1, 0, reason="smsc: ESME_RINVDSTADR"),
            ]
        )
        await store.receipts.record_receipts([])
        rows = await figures_of_today(store)

    sct, stp = rows
    assert sct.agency == "SCT" and stp.agency == "STP"
    assert sct.notices_queued == 2 and (sct.segments, sct.cost_vnd) == (1, 450)
    assert {r: n for r, n in sct.not_delivered.items() if n} == {"failed": 1, "landline": 1}
    assert stp.notices_queued == 1
    table = render(rows, ["agency"], "table")
    assert "SCT" in table and "landline" in table
    assert render(rows, ["agency"], "csv").startswith("agency,dossiers_received,")


def test_report_command_prints_csv(tmp_path):
    db = tmp_path / "g.db"
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=1883, smsc_port=2775, db=db)

    async def seed() -> None:
        composer = Composer(composer_settings(default_config()))
        async with Store.open(db) as store:
            await store.dossiers.record_intake(
                messages=[composer.text("SCT", ref="a", kind="sms", to="0905123456", text="x")]
            )

    asyncio.run(seed())
    today = local_today().isoformat()
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "report", "-c", str(config),
         "--from", today, "--to", today, "--by", "day", "--format", "csv"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.startswith("day,dossiers_received,dossiers_resolved,notices_queued")
    assert row.startswith(f"{today},0,0,1,0,0,0,0")


async def test_retention_forgets_numbers_and_texts_but_keeps_the_figures(tmp_path):
    composer = composer_without_quiet_hours()
    async with Store.open(tmp_path / "g.db") as store:
        await store.dossiers.record_intake(
            messages=[composer.text("SCT", ref="a", kind="sms", to="0905123456", text="x")]
        )
        (queued,) = await store.outbox.due(10)
        await store.outbox.record_outcomes([Outcome(queued, "failed", 1, 0, reason="smsc: X")])
        before = render(await figures_of_today(store), ["agency"], "json")

        purged = await purge_once(store.retention, retention_days=0, now=time.time() + 1)

        after = render(await figures_of_today(store), ["agency"], "json")
        rows = await db_rows(store, "SELECT phone, text, state, reason FROM messages")
    assert purged["messages"] == 1
    assert rows == [(None, None, "failed", "smsc: X")]
    assert after == before
    assert '"failed": 1' in before
