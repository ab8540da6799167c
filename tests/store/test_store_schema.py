"""The store's file: what opens, what is refused (naming the file), who may read it.

SQLite only: these examine the file itself (its schema steps, modes, damage). PostgreSQL's
counterparts (a newer schema refused, an unreachable server, a wrong password, read-only
opening) are in test_postgresql_store.py."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.domain.dossier import DossierRow
from gateway.store.lock import hold, lock_path
from gateway.store.schema import SCHEMA_VERSION, StoreUnusable
from gateway.store.store import Store
from tests.support.store_reads import db_rows

SCHEMA_V2 = Path(__file__).parents[1] / "data" / "store_schema_v2.sql"


def v2_store(path: Path) -> None:
    """A store as the previous version left it: its schema, a few rows of each kind."""
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_V2.read_text(encoding="utf-8"))
        db.executemany(
            "INSERT INTO dossiers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                ("000123", "000123", "SCT", "Cấp phép", None, "84905123456", "Thẩm định",
                 "processing", "2026-11-25", 0, "2026-11-20T09:00:00+07:00", None),
                ("R-1", "r-1", "STP", "Hộ tịch", "1.001", "84905000001", "Trả kết quả",
                 "returned", "2026-11-25", 0, "2026-11-24T15:00:00+07:00", None),
                ("R-2", "R-2", "STP", "Hộ tịch", "1.001", None, "Trả kết quả",
                 "result_ready", "2026-11-25", 0, "2026-11-27T08:00:00+07:00", "2026-11-26"),
            ],
        )  # fmt: skip
        db.execute("INSERT INTO events VALUES ('7', 'SCT', '000123', 1, 0)")
        db.execute(
            "INSERT INTO messages (agency, ref, kind, source, priority, state, not_before,"
            " expires_at, created_at, updated_at) VALUES"
            " ('SCT', 'job-1', 'sms', 'MotcuaSMS', 1, 'queued', 0, 9e9, 0, 0)"
        )


async def test_store_written_by_the_previous_schema_opens_and_keeps_its_data(tmp_path):
    path = tmp_path / "gateway.db"
    v2_store(path)

    async with Store.open(path) as store:
        assert await store.outbox.counts() == {"queued": 1}
        (sct,) = (await store.dossiers.lookup(["000123"]))["000123"]
        assert (sct.agency, sct.phone, sct.step) == ("SCT", "84905123456", "Thẩm định")
        assert (await store.dossiers.dossier("STP", "R-1")).receipt_no == "r-1"
        # The new key takes a second agency's dossier of the same number beside it.
        await store.dossiers.record_intake(
            dossiers=[dataclasses.replace(sct, agency="STP", phone=None)]
        )
        rows = (await store.dossiers.lookup(["000123"]))["000123"]
        assert [(r.agency, r.phone) for r in rows] == [("SCT", "84905123456"), ("STP", None)]
        assert set(await store.dossiers.event_digests([("SCT", "7"), ("STP", "7")])) == {
            ("SCT", "7")
        }
        assert await db_rows(store, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


async def test_migrated_dossiers_owe_no_notice_and_keep_one_owed_once_written(tmp_path):
    """Schema 8's `notice_owed`: nothing is owed for dossiers written before it, and what
    intake writes there is read back."""
    path = tmp_path / "gateway.db"
    v2_store(path)

    async with Store.open(path) as store:
        sct = await store.dossiers.dossier("SCT", "000123")
        assert sct is not None and sct.notice_owed is None
        await store.dossiers.record_intake(
            dossiers=[dataclasses.replace(sct, notice_owed="result")]
        )
    async with Store.open(path) as store:
        assert (await store.dossiers.dossier("SCT", "000123")).notice_owed == "result"


async def test_migrated_finished_dossier_without_a_finish_day_gets_its_events_day(tmp_path):
    """Before, only result_ready kept a day: a `returned` row gets the day of the event
    that put it there; a day already kept stays."""
    path = tmp_path / "gateway.db"
    v2_store(path)

    async with Store.open(path) as store:
        assert (await store.dossiers.dossier("STP", "R-1")).finished_on == "2026-11-24"
        assert (await store.dossiers.dossier("STP", "R-2")).finished_on == "2026-11-26"
        assert (await store.dossiers.dossier("SCT", "000123")).finished_on is None


async def test_store_of_a_newer_schema_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "gateway.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()

    with pytest.raises(StoreUnusable) as refused:
        await _open(path)

    assert str(path) in str(refused.value)
    assert "newer version" in str(refused.value)
    assert path.read_bytes() == before


async def test_file_that_is_not_a_database_is_refused_naming_it(tmp_path):
    path = tmp_path / "gateway.db"
    path.write_bytes(os.urandom(8192))

    with pytest.raises(StoreUnusable) as refused:
        await _open(path)

    assert str(refused.value) == f"store {path}: not a database (file is not a database)"


async def test_truncated_store_is_refused_as_damaged(tmp_path):
    path = await real_store(tmp_path)
    os.truncate(path, path.stat().st_size // 2)

    with pytest.raises(StoreUnusable) as refused:
        await _open(path)

    assert str(path) in str(refused.value)
    assert "damaged" in str(refused.value)


async def test_store_with_overwritten_pages_is_refused_as_damaged(tmp_path):
    path = await real_store(tmp_path)
    with path.open("r+b") as f:
        f.seek(path.stat().st_size // 2)
        f.write(os.urandom(3 * 4096))

    with pytest.raises(StoreUnusable) as refused:
        await _open(path)

    assert "damaged" in str(refused.value)


async def test_new_store_files_are_readable_by_their_owner_only(tmp_path, loose_umask):
    """With a umask that lets everyone read (outside systemd), the database, its -wal and
    -shm files and the lock file are still 0600."""
    path = tmp_path / "state" / "gateway.db"

    with hold(path):
        async with Store.open(path) as store:
            await store.receipts.record_receipts([(frozenset({"n:1"}), "delivered", None)])
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), lock_path(path)]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}

    assert modes == {f.name: 0o600 for f in files}


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


async def real_store(tmp_path: Path) -> Path:
    """A store of some size, written and closed by the gateway itself."""
    path = tmp_path / "gateway.db"
    async with Store.open(path) as store:
        rows = [
            DossierRow(f"{n:010d}", f"{n:010d}", "SCT", "Cấp phép " * 5, None,
                       "84905123456", "Thẩm định", "processing", "2026-11-25", False,
                       "2026-11-20T09:00:00+07:00", None)
            for n in range(3000)
        ]  # fmt: skip
        await store.dossiers.record_intake(dossiers=rows)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


async def _open(path: Path) -> None:
    async with Store.open(path):
        pass
