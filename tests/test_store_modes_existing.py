"""A store the daemon did not create (the previous release's, made under umask 022; a
backup restored from `sqlite3 .backup`, which writes 0644) holds phone numbers and texts:
once opened, it and its -wal and -shm are its owner's only, as a new one is."""

from __future__ import annotations

import sqlite3
import stat

from gateway.store import Store


async def test_a_world_readable_store_is_made_owner_only_when_opened(tmp_path):
    db = tmp_path / "gateway.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)  # what `sqlite3 live.db ".backup gateway.db"` leaves under umask 022

    async with Store.open(db):
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}

    assert modes == {name: 0o600 for name in modes}, modes
