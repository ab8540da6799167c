"""A store of the schema before the figures: migrated once by the daemon, its history
counted into the figures as the triggers would have counted it; never by a reader.

SQLite only: a PostgreSQL store has no history before the figures (its first step is the
schema with them)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from gateway.compose.composer import Composer
from gateway.domain.message import MoRecord
from gateway.intake.consumer import Received
from gateway.store import figures_schema
from gateway.store.figures import Figures
from gateway.store.schema import MIGRATIONS, StoreOutdated
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.daemon import dossier_event
from tests.support.figures import ALL, PRICE, TZ, dossier, figure_composer, notice, settle
from tests.support.intake import config as intake_config
from tests.support.intake import intake_on

# The schema just before the figures' step, wherever it lands in MIGRATIONS.
PREVIOUS = MIGRATIONS.index(figures_schema.MIGRATION)
SINCE, UNTIL = date(2026, 11, 23), date(2026, 11, 25)


def previous_store(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for number, script in enumerate(MIGRATIONS[:PREVIOUS], start=1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    return conn


async def written_before_figures(tmp_path: Path, clock: Clock, history, *args) -> Path:
    """A store of the schema before the figures holding `history`: the history is
    written by today's repositories on a store of today's schema, and its rows copied
    into one of the previous schema (the columns that schema has), as the previous
    release would have left them."""
    today, old = tmp_path / "written.db", tmp_path / "old.db"
    async with Store.open(today, clock=clock) as store:
        await history(store, *args, clock)
    conn = previous_store(old)
    conn.execute("ATTACH DATABASE ? AS today", (str(today),))
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )]  # fmt: skip
    conn.execute("BEGIN")
    for table in (t for t in tables if t != "message_states"):  # kept by its triggers
        columns = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM today.{table}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE today")
    conn.close()
    return old


async def history(store: Store, composer: Composer, clock: Clock) -> None:
    """Two days of two agencies: dossiers received and resolved, notices of every fate,
    an answered lookup, a notice still waiting for its receipt."""
    clock.now = at(9)
    await store.dossiers.record_intake(dossiers=[dossier("A0"), dossier("B0", agency="STP")])
    await notice(store, composer, dossier("A1", status="result_ready"), "a1")
    await settle(store, clock, "a1", "delivered")
    await notice(store, composer, dossier("A2", status="result_ready", phone="02363822123"), "a2")
    await notice(store, composer, dossier("B1", agency="STP", status="result_ready"), "b1")
    await settle(store, clock, "b1", "undeliverable")
    reply = composer.text(
        "SCT", ref="mo:1", kind="mo_reply", to="0905123456", text="x", receipt_no="A1"
    )
    mo = MoRecord(clock(), "84905123456", "8083", "MCKH A1", "MCKH", "answered", reply.ref)
    await store.mo_log.record_mos([(mo, reply)])
    clock.now = at(10, day=24)
    when = "2026-11-24T10:00:00+07:00"
    ready = dossier("C1", code=None, status="result_ready", when=when)
    await notice(store, composer, dataclasses.replace(ready, finished_on="2026-11-24"), "c1")
    await settle(store, clock, "c1")  # submitted, its receipt still to come


async def after_upgrade(store: Store, clock: Clock) -> None:
    """What happens once the daemon runs the new version: the waiting receipt comes."""
    await store.receipts.record_receipts([(frozenset({"s:c1"}), "delivered", None)])


@pytest.fixture
def composer(clock) -> Composer:
    return figure_composer(clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(9))


async def test_the_migration_counts_the_history_as_the_triggers_would_have(
    tmp_path, clock, composer
):
    async with Store.open(tmp_path / "live.db", clock=clock) as live:
        await history(live, composer, clock)
        await after_upgrade(live, clock)
        expected = await Figures(live.database, TZ, PRICE).table(SINCE, UNTIL, ALL)
    old = await written_before_figures(tmp_path, clock, history, composer)

    async with Store.open(old, clock=clock) as upgraded:
        await after_upgrade(upgraded, clock)
        found = await Figures(upgraded.database, TZ, PRICE).table(SINCE, UNTIL, ALL)

    assert found == expected
    summary = [
        (r.agency, r.procedure_code, r.day.day, r.dossiers_received, r.dossiers_resolved,
         r.notices_delivered, r.not_delivered_total, r.lookups_answered)
        for r in found
    ]  # fmt: skip
    assert summary == [
        ("SCT", "1.001", 23, 3, 2, 1, 1, 1),
        ("SCT", "Cấp giấy phép", 24, 1, 1, 1, 0, 0),
        ("STP", "1.001", 23, 2, 1, 0, 1, 0),
    ]


async def test_a_reader_of_a_store_before_the_figures_is_told_the_daemon_upgrades_it(tmp_path):
    path = tmp_path / "old.db"
    previous_store(path).close()

    async with Store.open(path, readonly=True) as store:
        with pytest.raises(StoreOutdated, match="the daemon upgrades it when it starts"):
            await Figures(store.database, TZ, PRICE).table(SINCE, UNTIL, ALL)

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (PREVIOUS,)


def _event(status: str, day: int, hour: int) -> Received:
    body = dossier_event(
        1, status=status, occurred_at=f"2026-11-{day}T{hour:02d}:00:00+07:00",
        event_id=f"e-{status}-{day}",
    )  # fmt: skip
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


async def reopened_history(store: Store, clock: Clock) -> None:
    """One dossier through the daemon's intake, each event reaching it as it occurs:
    received on the 22nd, resolved on the 23rd (its result notice sent), reopened on the
    24th."""
    intake = intake_on(store, intake_config(), figure_composer(clock))
    for status, day, hour in (("received", 22, 16), ("result_ready", 23, 9), ("processing", 24, 9)):
        clock.now = at(hour, day=day)
        await intake.process([_event(status, day, hour)])


async def _live_and_backfilled(tmp_path: Path, clock: Clock, history) -> tuple[list, list]:
    since, until = date(2026, 11, 20), date(2026, 11, 26)
    async with Store.open(tmp_path / "live.db", clock=clock) as live:
        await history(live, clock)
        expected = await Figures(live.database, TZ, PRICE).table(since, until, ALL)
    old = await written_before_figures(tmp_path, clock, history)
    async with Store.open(old, clock=clock) as upgraded:
        found = await Figures(upgraded.database, TZ, PRICE).table(since, until, ALL)
    return found, expected


def _dossier_days(rows: list) -> list[tuple[int, int, int]]:
    return [(r.day.day, r.dossiers_received, r.dossiers_resolved) for r in rows]


async def test_the_backfill_counts_a_dossier_received_on_its_first_events_day(tmp_path, clock):
    found, expected = await _live_and_backfilled(tmp_path, clock, reopened_history)

    def received(rows: list) -> list[tuple[int, int]]:
        return [(d, n) for d, n, _ in _dossier_days(rows) if n]

    assert received(found) == received(expected) == [(22, 1)]


async def test_the_backfill_counts_a_dossier_resolved_and_reopened_since_as_resolved_once(
    tmp_path, clock
):
    found, expected = await _live_and_backfilled(tmp_path, clock, reopened_history)

    assert _dossier_days(found) == _dossier_days(expected) == [(22, 1, 0), (23, 0, 1)]
    async with Store.open(tmp_path / "old.db", clock=clock) as upgraded:
        intake = intake_on(upgraded, intake_config(), figure_composer(clock))
        clock.now = at(10, day=25)
        await intake.process([_event("result_ready", 25, 10)])  # resolved again
        again = await Figures(upgraded.database, TZ, PRICE).table(SINCE, UNTIL, ALL)
    assert sum(r.dossiers_resolved for r in again) == 1


async def _late_history(store, clock):
    """A dossier received by its desk at 23:50 on the 23rd, its event reaching the daemon
    at 00:10 on the 24th (the broker was down, the desk's software queued it): intake
    records the event (received_at = the daemon's clock) and the mirror's row."""
    clock.now = at(0, day=24) + 600
    row = dossier("L1", when="2026-11-23T23:50:00+07:00")
    await store.dossiers.record_intake(
        events=[("ev-L1", "SCT", "L1", True, None)], dossiers=[row]
    )


async def test_the_backfill_counts_a_dossier_received_on_the_day_live_counting_does(
    tmp_path, clock
):
    found, expected = await _live_and_backfilled(tmp_path, clock, _late_history)
    assert [(r.day, r.dossiers_received) for r in found] == [
        (r.day, r.dossiers_received) for r in expected
    ]
