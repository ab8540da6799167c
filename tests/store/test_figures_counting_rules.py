"""What the reconciliation figures count as resolved, received and delivered: once per
dossier whatever the batching, the backfill as live counting, the ratio over result notices."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.store.figures import Figures
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.figures import ALL, PRICE, TZ, dossier, figure_composer, notice, settle

DAY = date(2026, 11, 23)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(10))


@pytest.fixture
async def store(tmp_path, clock):
    async with Store.open(tmp_path / "gateway.db", clock=clock) as store:
        yield store


@pytest.fixture
def figures(store) -> Figures:
    return Figures(store.database, TZ, PRICE)


async def test_a_dossier_resolved_reopened_and_resolved_again_counts_as_resolved_once(
    store, figures
):
    await store.dossiers.record_intake(dossiers=[dossier()])
    await store.dossiers.record_intake(dossiers=[dossier(status="result_ready")])
    await store.dossiers.record_intake(dossiers=[dossier(status="processing")])
    await store.dossiers.record_intake(dossiers=[dossier(status="result_ready")])
    rows = await figures.table(DAY, DAY, ())
    assert [(r.dossiers_received, r.dossiers_resolved) for r in rows] == [(1, 1)]


# -- the migration's backfill against live counting --------------------------------------

import sqlite3  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from gateway.store import figures_schema  # noqa: E402
from gateway.store.database import Database  # noqa: E402
from gateway.store.schema import MIGRATIONS  # noqa: E402

PREVIOUS = MIGRATIONS.index(figures_schema.MIGRATION)


def _previous_store(path):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for number, script in enumerate(MIGRATIONS[:PREVIOUS], start=1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    return conn


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
    since, until = date(2026, 11, 22), date(2026, 11, 25)
    async with Store.open(tmp_path / "live.db", clock=clock) as live:
        await _late_history(live, clock)
        expected = await Figures(live.database, TZ, PRICE).table(since, until, ALL)
    conn = _previous_store(tmp_path / "old.db")
    with ThreadPoolExecutor(max_workers=1) as thread:
        await _late_history(Store(Database(conn, thread, clock, version=PREVIOUS)), clock)
    conn.close()
    async with Store.open(tmp_path / "old.db", clock=clock) as upgraded:
        found = await Figures(upgraded.database, TZ, PRICE).table(since, until, ALL)
    assert [(r.day, r.dossiers_received) for r in found] == [
        (r.day, r.dossiers_received) for r in expected
    ]


async def test_the_delivered_per_resolved_ratio_counts_result_notices_not_every_notice(
    store, figures, clock
):
    """A supplement request delivered, then the result notice undeliverable: no resolved
    dossier's citizen was told of the result, so the ratio is 0, not 1."""
    composer = figure_composer(clock)
    asked = dossier(status="needs_supplement")
    message = composer.notice("supplement", asked, event_id="s1", ref="s1")
    await store.dossiers.record_intake(dossiers=[asked], messages=[message])
    await settle(store, clock, "s1", "delivered")
    await notice(store, composer, dossier(status="result_ready"), "r1")
    await settle(store, clock, "r1", "undeliverable")
    (row,) = await figures.table(DAY, DAY, ())
    assert (row.dossiers_resolved, row.results_delivered, row.delivered_ratio) == (1, 0, 0.0)
    assert row.notices_delivered == 1  # the notice totals still count every kind
