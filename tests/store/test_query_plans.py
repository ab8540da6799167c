"""Every query the daemon runs on its send, receipt, MO and health paths uses an index.

The statements are not a hand-copied list that could drift from the repositories: a
short real run of the whole gateway (mosquitto, the bundled SMSC simulator over TCP, the
admin endpoint) is traced with sqlite3's trace callback, and each distinct statement it
executed is planned with `EXPLAIN QUERY PLAN` on the same store afterwards. A `SCAN` of
one of the tables that grow with the traffic (a year of a large province: millions of
messages, a million dossiers) is a cost that grows with the store, and fails the test.

Without `ANALYZE` statistics SQLite's plans do not depend on how many rows a table holds,
so a store of a few rows plans as a store of millions does.

SQLite only: PostgreSQL's planner depends on each table's statistics, so a test store's
plans say nothing of a province's; the hot queries' indexes are checked on PostgreSQL
with sequential scans priced out (tests/support/store_reads.query_plan, in
test_store_receipts.py and test_apology.py).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import gateway.store.database
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.daemon import (
    StatusWatch,
    dossier_event,
    gateway_config,
    http_get,
    publish,
    running_gateway,
)
from tests.support.smtp import SmtpServer
from tests.support.store_reads import db_rows
from tests.support.wait import eventually
from tests.support.zalo import DELIVERED, NEVER, NO_ZALO, daemon_on_zalo, zalo_rig

# Tables that grow with the traffic; the small ones (counters, the status outbox drained
# as it fills, apology runs, early receipts purged within minutes) may be scanned.
BIG_TABLES = frozenset(
    {"messages", "parts", "part_keys", "dossiers", "events", "mo_log", "early_receipts",
     "emails"}
)  # fmt: skip
_DML = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE)\b", re.IGNORECASE)
_ALIAS = re.compile(
    r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+AS)?\s+(?!WHERE\b|JOIN\b|ON\b|ORDER\b|GROUP\b|LIMIT\b"
    r"|LEFT\b|INNER\b|USING\b|SET\b|VALUES\b|UNION\b|AND\b)(\w+)",
    re.IGNORECASE,
)
_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def shape(sql: str) -> str:
    """A statement with its literals taken out: one entry per query, whatever the values."""
    return " ".join(_LITERAL.sub("?", sql).split())


def scanned_big_tables(sql: str, plan: list[str]) -> list[str]:
    """The plan lines of `sql` that scan a big table (named directly or by an alias)."""
    aliases = {alias.lower(): table.lower() for table, alias in _ALIAS.findall(sql)}
    found = []
    for detail in plan:
        match = re.match(r"SCAN (\w+)", detail)
        if match:
            table = aliases.get(match.group(1).lower(), match.group(1).lower())
            if table in BIG_TABLES:
                found.append(detail)
    return found


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the store's connection runs from its opening on (the migrations
    before it are not queries of any path)."""
    statements: list[str] = []
    opened: Callable[[str], sqlite3.Connection] = gateway.store.database.connect

    def connect(path: str) -> sqlite3.Connection:
        db = opened(path)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(gateway.store.database, "connect", connect)
    return statements


@pytest.fixture
async def short_run(broker, tmp_path: Path, traced: list[str]) -> AsyncIterator[Path]:
    """Notices, an SMS job, their receipts, an MCKH and its reply, health asked."""
    db = tmp_path / "gateway.db"
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        config = gateway_config(
            broker_port=broker.port,
            smsc_port=smsc.port,
            db=db,
            client_id=f"gw-plans-{tmp_path.name}",
        )
        async with StatusWatch(broker.port) as watch, running_gateway(config):
            event = dossier_event(1)
            await publish(
                broker.port,
                [
                    ("motcua/SCT/dossier", event),
                    ("motcua/SCT/dossier", event),  # a redelivery
                    ("motcua/SCT/dossier", dossier_event(1, status="processing",
                                                         event_id="SCT-1-older",
                                                         occurred_at="2026-11-22T09:00:00+07:00")),
                    ("motcua/SCT/sms", {"id": "job-1", "to": "0905123456", "text": "Thong bao"}),
                ],
            )  # fmt: skip
            await watch.wait_for(
                lambda events: sum(e["state"] == "delivered" for e in events) >= 2, timeout=15
            )
            assert await smsc.inject_mo("84905123456", "8083", "MCKH 0101700001") == [0]
            await watch.wait_for(
                lambda events: sum(e["state"] == "delivered" for e in events) >= 3, timeout=15
            )
            for path in ("/healthz", "/metrics"):
                status, _ = await http_get(config.admin.port, path)
                assert status == 200
    yield db


@pytest.fixture
async def channels_run(broker, tmp_path: Path, traced: list[str]) -> AsyncIterator[Path]:
    """Notices of an agency on Zalo first (delivered by Zalo, handed to SMS at once, handed
    by the fallback timer), an e-mail copy, a lookup from the Zalo chat, health asked."""
    db = tmp_path / "gateway.db"
    hook = free_port()
    async with (
        zalo_rig(tmp_path, webhook_url=f"http://127.0.0.1:{hook}/zalo/webhook",
                 templates={"2001": True}) as zalo,
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
    ):  # fmt: skip
        smtp = SmtpServer()
        smtp.start()
        try:
            await zalo.control("POST", "/rules", {"phone": NO_ZALO, "rule": "no_zalo"})
            await zalo.control("POST", "/rules", {"phone": NEVER, "rule": "never_delivered"})
            config = daemon_on_zalo(
                gateway_config(broker_port=broker.port, smsc_port=smsc.port, db=db,
                               client_id=f"gw-plans-z-{tmp_path.name}"),
                zalo, hook, smtp_port=smtp.port,
            )  # fmt: skip
            async with StatusWatch(broker.port) as watch, running_gateway(config):
                events = [
                    dossier_event(n, phone="0" + phone[2:], email="an@example.vn")
                    for n, phone in enumerate((DELIVERED, NO_ZALO, NEVER), start=1)
                ]
                await publish(broker.port, [("motcua/SCT/dossier", e) for e in events])
                await watch.wait_for(
                    lambda ev: sum(e["state"] == "delivered" and e.get("channel") != "email"
                                   for e in ev) >= 3,
                    timeout=30,
                )  # fmt: skip
                await watch.wait_for(
                    lambda ev: any(e.get("channel") == "email" for e in ev), timeout=15
                )
                await zalo.control("POST", "/user_text", {"user_id": "u1", "text": "0101700001"})
                await eventually(lambda: bool(zalo.sim.chat), timeout=15)
                for path in ("/healthz", "/metrics"):
                    status, _ = await http_get(config.admin.port, path)
                    assert status == 200
        finally:
            smtp.stop()
    yield db


def _plans_scanning(db_path: Path, traced: list[str]) -> tuple[str, dict[str, list[str]]]:
    """The run's distinct statements (joined, to see which tables they read) and those
    whose plan scans a big table."""
    queries = {shape(sql): sql for sql in traced if _DML.match(sql)}
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        plans = {
            sql: [r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}")] for sql in queries.values()
        }
    finally:
        db.close()
    scans = {sql: found for sql, plan in plans.items() if (found := scanned_big_tables(sql, plan))}
    return " ".join(queries).lower(), scans


async def test_every_query_of_the_channels_beside_sms_uses_an_index(
    channels_run: Path, traced: list[str]
):
    tables, scans = _plans_scanning(channels_run, traced)

    assert "emails" in tables and "channel = ?" in tables, "the run missed the channels"
    assert not scans, "\n".join(f"{plan}  <-  {sql}" for sql, plan in scans.items())


async def test_every_query_of_a_short_run_uses_an_index(short_run: Path, traced: list[str]):
    """Each distinct statement the run executed, planned on its store: no SCAN of a big
    table (a query's cost would grow with a year of traffic)."""
    queries = {shape(sql): sql for sql in traced if _DML.match(sql)}
    db = sqlite3.connect(f"file:{short_run}?mode=ro", uri=True)
    try:
        plans = {
            sql: [r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}")] for sql in queries.values()
        }
        scans = {
            sql: found for sql, plan in plans.items() if (found := scanned_big_tables(sql, plan))
        }
    finally:
        db.close()
    # The run did go down every path: intake, the sender, receipts, the MO, health.
    tables = " ".join(queries).lower()
    for table in ("dossiers", "events", "messages", "parts", "part_keys", "mo_log"):
        assert table in tables, f"no query on {table}: the run missed a path"
    assert not scans, "\n".join(f"{plan}  <-  {sql}" for sql, plan in scans.items())


def test_a_scan_through_an_alias_is_found():
    """`FROM messages m` plans as `SCAN m`: still a scan of the messages."""
    assert scanned_big_tables("SELECT * FROM messages m WHERE m.text = 'x'", ["SCAN m"]) == [
        "SCAN m"
    ]


def test_a_search_by_index_and_a_scan_of_a_small_table_pass():
    plan = ["SEARCH messages USING INDEX messages_state (state=?)", "SCAN status_out"]
    assert scanned_big_tables("SELECT 1 FROM messages, status_out", plan) == []


async def test_the_daily_purge_reads_only_messages_old_enough(tmp_path: Path):
    """The purge's reads of the messages are bounded by the cutoff in the index, not
    every finished message of the store (4.5 s with 5,000,000 delivered)."""
    async with Store.open(tmp_path / "g.db") as store:
        statements: list[str] = []
        store.database.trace(statements.append)
        await store.retention.purge_personal_data(1_000.0)
        store.database.trace(None)
        plans = [
            row[3]
            for sql in statements
            if _DML.match(sql) and "messages" in sql
            for row in await db_rows(store, f"EXPLAIN QUERY PLAN {sql}")
        ]
    on_messages = [p for p in plans if "messages " in p or p.endswith("messages")]
    assert on_messages, plans
    assert all("created_at<?" in p for p in on_messages), plans


async def test_the_receipt_sweep_skipping_a_down_links_messages_stays_on_its_index(
    tmp_path: Path,
):
    """With a link down its messages are left out of the sweep by link, read from the
    rows the index by submission time finds: no scan of the messages."""
    async with Store.open(tmp_path / "g.db") as store:
        statements: list[str] = []
        store.database.trace(statements.append)
        await store.receipts.expire_unreceipted(60.0, paused=["viettel"])
        store.database.trace(None)
        by_link = [sql for sql in statements if "NOT IN" in sql]
        assert by_link, statements
        plans = [row[3] for row in await db_rows(store, f"EXPLAIN QUERY PLAN {by_link[0]}")]
    assert not scanned_big_tables(by_link[0], plans), plans
    assert any("messages_submitted" in p for p in plans), plans
