"""The reconciliation figures over the real path: dossier events in over MQTT to the
daemon, notices out through the simulator and its receipts back, an MCKH lookup from a
citizen's phone, then `motcua-sms report`; and the same report once the period is purged."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.settings.config import default_config
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from gateway.store.retention import purge_once
from gateway.store.store import Store
from tests.support.daemon import (
    StatusWatch,
    dossier_event,
    gateway_config,
    publish,
    running_gateway,
    write_daemon_config,
)
from tests.support.store_reads import db_rows
from tests.support.wait import eventually

TZ = default_config().tz
CODE = "2.000123"  # the same procedure code at both agencies
# Number -> what the carrier does with a notice to it (the simulator's rules).
UNDELIVERABLE, EXPIRED, REFUSED = "84905000001", "84905000002", "84905000003"
RULES = (
    Rule(UNDELIVERABLE, "undeliverable"),
    Rule(EXPIRED, "expired"),
    Rule(REFUSED, "reject", status=0x0B),  # ESME_RINVDSTADR: the sender gives up, failed
)


def event(
    n: int, agency: str, phone: str | None, status: str = "result_ready", **over: Any
) -> tuple[str, dict[str, Any]]:
    now = datetime.now(TZ).isoformat()
    body = dossier_event(
        n, agency=agency, status=status, phone=phone, occurred_at=now, due_date="2099-12-31"
    )
    body.update(over)
    return f"motcua/{agency}/dossier", body


EVENTS = [
    event(1, "SCT", "0905 123 456", status="received"),
    event(1, "SCT", "0905 123 456"),  # then resolved, its notice delivered
    event(2, "SCT", "0236 3822 123"),  # a landline: refused at intake
    event(3, "SCT", None),  # no number
    event(4, "SCT", "0905 12"),  # an impossible number
    event(5, "SCT", "0" + UNDELIVERABLE[2:]),
    event(6, "SCT", "0" + EXPIRED[2:]),
    event(7, "SCT", "0" + REFUSED[2:]),
    event(8, "SCT", "0905 123 456", procedure_code="2.000999"),  # same name, another code
    event(9, "STP", "0905 123 456"),  # the same code at another agency
    event(10, "STP", "0905 123 456", status="processing"),  # received only
]
NOTICES = [f"{agency}-{n}-result_ready:result" for n, agency in
           [(1, "SCT"), *((n, "SCT") for n in range(2, 9)), (9, "STP")]]  # fmt: skip


def report(config: Path, *options: str) -> str:
    """`motcua-sms report` over the days around today (the daemon ran on the wall clock)."""
    today = datetime.now(TZ).date()
    days = ["--from", str(today - timedelta(days=1)), "--to", str(today + timedelta(days=1))]
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "report", "-c", str(config), *days, *options],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout


@pytest.fixture
async def daemon_run(broker, tmp_path):
    """The daemon's run is over once this yields: the store holds what it made of it."""
    db = tmp_path / "gateway.db"
    async with SmscSimulator(SimConfig(receipt_delay=0.01, rules=RULES)) as smsc:
        config = gateway_config(
            broker_port=broker.port, smsc_port=smsc.port, db=db, client_id=f"fig-{tmp_path.name}"
        )
        async with StatusWatch(broker.port) as watch, running_gateway(config):
            await publish(broker.port, EVENTS)
            finals = {"delivered", "undeliverable", "expired", "failed", "rejected"}
            await watch.wait_for(
                lambda seen: {e["id"] for e in seen if e["state"] in finals} >= set(NOTICES), 20
            )
            await smsc.inject_mo("84905123456", "8083", "MCKH 0101700001")
            async with Store.open(db, readonly=True) as reader:
                await eventually(lambda: reply_delivered(reader), timeout=10, poll=0.05)
    path = tmp_path / "gateway.yaml"
    write_daemon_config(path, broker_port=broker.port, smsc_port=smsc.port, db=db)
    with path.open("a", encoding="utf-8") as f:
        f.write("  STP:\n    name: Sở Tư pháp\nreport:\n  segment_price: 450\n")
    return path, db


async def reply_delivered(store: Store) -> bool:
    sql = "SELECT state FROM messages WHERE kind = 'mo_reply'"
    return await db_rows(store, sql) == [("delivered",)]


def totals(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The JSON rows summed over the days (a run across local midnight has two)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["agency"], row["procedure_code"])
        held = found.setdefault(key, {k: 0 for k, v in row.items() if isinstance(v, int)})
        for name in held:
            held[name] += row[name]
        reasons = held.setdefault("by_reason", {})
        for reason, n in row["not_delivered_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    return found


async def test_figures_over_the_real_path_and_the_same_once_purged(daemon_run):
    config, db = daemon_run
    by = ("--by", "agency,procedure,day", "--format", "json")

    rows = json.loads(report(config, *by))

    found = totals(rows)
    sct = found[("SCT", CODE)]
    assert (sct["dossiers_received"], sct["dossiers_resolved"]) == (7, 7)
    assert (sct["notices_queued"], sct["notices_delivered"]) == (4, 1)
    assert sct["by_reason"] == {
        "landline": 1, "invalid_number": 1, "no_number": 1,
        "undeliverable": 1, "expired": 1, "failed": 1,
    }  # fmt: skip
    assert sct["lookups_answered"] == 1
    assert (sct["segments"], sct["cost_vnd"]) == (4, 4 * 450)  # 3 notices + 1 reply sent
    other = found[("SCT", "2.000999")]
    assert (other["dossiers_resolved"], other["notices_delivered"]) == (1, 1)
    stp = found[("STP", CODE)]
    assert (stp["dossiers_received"], stp["dossiers_resolved"], stp["notices_delivered"]) == (
        2, 1, 1,
    )  # fmt: skip
    table = report(config, "--by", "agency,procedure,day")

    async with Store.open(db) as store:
        purged = await purge_once(store.retention, 1, now=datetime.now(TZ).timestamp() + 3 * 86400)

    assert purged["messages"] >= len(NOTICES) and purged["dossiers"] == 9  # SCT-3 had none
    assert json.loads(report(config, *by)) == rows
    assert report(config, "--by", "agency,procedure,day") == table
