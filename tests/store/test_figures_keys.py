"""A message's figures keys (its local day and procedure key) come with its INSERT, so the
figures' insert trigger counts it without writing the row a second time; a message some
other writer inserts without them is still counted, its keys set by the trigger."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.compose.composer import Composer
from gateway.store.figures import Figures
from gateway.store.outbox import insert_messages
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.figures import ALL, PRICE, TZ, dossier, figure_composer, notice

DAY = date(2026, 11, 23)
LOCAL_DAY = (DAY - date(1970, 1, 1)).days


@pytest.fixture
def clock() -> Clock:
    return Clock(at(10))


@pytest.fixture
async def store(tmp_path, store_location, clock):
    async with Store.open(store_location, clock=clock) as store:
        yield store


@pytest.fixture
def composer(clock) -> Composer:
    return figure_composer(clock)


async def keys_of(store: Store, ref: str) -> tuple[str | None, int | None]:
    def read(db):
        return db.execute(
            "SELECT procedure_key, figures_day FROM messages WHERE ref = ?", (ref,)
        ).fetchone()

    return tuple(await store.database.read(read))


async def test_a_queued_notice_carries_its_dossiers_procedure_code_and_local_day(
    store, composer
):
    await notice(store, composer, dossier("000123", code="1.001"), "n1")
    assert await keys_of(store, "n1") == ("1.001", LOCAL_DAY)


async def test_a_notice_of_a_dossier_without_a_code_carries_the_procedure_name(
    store, composer
):
    await notice(store, composer, dossier("000124", code=None, procedure="Cấp phép"), "n2")
    assert await keys_of(store, "n2") == ("Cấp phép", LOCAL_DAY)


async def test_a_message_inserted_without_its_keys_is_counted_and_given_them(store, clock):
    row = dossier("000125", code="2.002")
    await store.dossiers.record_intake(dossiers=[row])

    def insert(db):
        db.execute(
            """INSERT INTO messages (agency, ref, receipt_no, kind, procedure, phone, text,
               priority, state, segments, not_before, expires_at, created_at, updated_at,
               source, channel)
               VALUES ('SCT', 'own', '000125', 'result', 'Cấp giấy phép', '84905123456',
               't', 5, 'queued', 1, ?, ?, ?, ?, '8083', 'sms')""",
            (clock(), clock() + 3600, clock(), clock()),
        )

    await store.database.write(insert)
    assert await keys_of(store, "own") == ("2.002", LOCAL_DAY)
    (figure,) = await Figures(store.database, TZ, PRICE).table(DAY, DAY, ALL)
    assert (figure.procedure_code, figure.notices_queued) == ("2.002", 1)


@pytest.mark.parametrize("store_location", ["sqlite"], indirect=True)
async def test_the_insert_trigger_writes_no_row_twice_when_the_keys_came_with_it(
    store, composer, clock
):
    """SQLite counts every row a statement and its triggers change: a message whose
    INSERT gave its keys changes one row fewer than one the trigger had to update."""
    await store.dossiers.record_intake(dossiers=[dossier("000126")])

    def changes(db, sql, params=()):
        before = db.total_changes
        db.execute(sql, params)
        return db.total_changes - before

    message = composer.notice("result", dossier("000126"), event_id="e", ref="with-keys")

    def both(db):
        before = db.total_changes
        insert_messages(db, [message], clock())
        given = db.total_changes - before
        without = changes(
            db,
            """INSERT INTO messages (agency, ref, receipt_no, kind, procedure, phone, text,
               priority, state, segments, not_before, expires_at, created_at, updated_at,
               source, channel)
               SELECT agency, 'without-keys', receipt_no, kind, procedure, phone, text,
               priority, state, segments, not_before, expires_at, created_at, updated_at,
               source, channel FROM messages WHERE ref = 'with-keys'""",
        )
        return given, without

    given, without = await store.database.write(both)
    assert given == without - 1
