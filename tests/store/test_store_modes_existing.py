"""A store the daemon did not create (the previous release's, made under umask 022; a
backup restored from `sqlite3 .backup`, which writes 0644) holds phone numbers and texts:
once opened, it and its -wal and -shm are its owner's only, as a new one is.

SQLite only: file modes are the SQLite store's; a PostgreSQL store's data is the server's."""

from __future__ import annotations

import sqlite3
import stat

import pytest
import structlog.testing

from gateway.store.schema import SCHEMA_VERSION, StoreUnusable
from gateway.store.store import Store


async def test_a_world_readable_store_is_made_owner_only_when_opened(tmp_path):
    db = tmp_path / "gateway.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)  # what `sqlite3 live.db ".backup gateway.db"` leaves under umask 022

    async with Store.open(db):
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}

    assert modes == {name: 0o600 for name in modes}, modes


async def test_world_readable_wal_and_shm_left_by_a_crash_are_made_owner_only(tmp_path):
    """-wal and -shm kept from the previous release's crash keep their own mode, which
    SQLite does not change when it opens them again."""
    db = tmp_path / "gateway.db"
    sqlite3.connect(db).close()
    for path in (db, tmp_path / "gateway.db-wal", tmp_path / "gateway.db-shm"):
        path.touch()
        path.chmod(0o644)

    async with Store.open(db):
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}

    assert modes == {name: 0o600 for name in modes}, modes


async def test_making_a_store_owner_only_is_logged_once(tmp_path):
    db = tmp_path / "gateway.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)

    with structlog.testing.capture_logs() as logs:
        async with Store.open(db):
            pass
        async with Store.open(db):
            pass

    made = [e for e in logs if e["event"] == "store_files_made_private"]
    assert [e["files"] for e in made] == [{"gateway.db": "0o644"}]


async def test_an_owner_only_store_is_left_as_it_is(tmp_path):
    db = tmp_path / "gateway.db"
    sqlite3.connect(db).close()
    db.chmod(0o400 | 0o200)

    with structlog.testing.capture_logs() as logs:
        async with Store.open(db):
            pass

    assert [e for e in logs if e["event"] == "store_files_made_private"] == []


async def test_a_store_refused_at_start_up_is_left_as_it_is(tmp_path):
    """A store of a newer version is not ours to change, its mode included."""
    db = tmp_path / "gateway.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.chmod(0o644)

    with pytest.raises(StoreUnusable, match="newer version"):
        async with Store.open(db):
            pass

    assert stat.S_IMODE(db.stat().st_mode) == 0o644
