"""`report` reads the store beside a running daemon: it must never change it. Run by the
new release before the daemon of the previous release was restarted (pip install -U, then
the supervisors' daily report), a migration under that daemon made its delivery receipts
match nothing: delivered notices ended `expired`, "no delivery receipt"."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import STARTUP_FAILURE
from gateway.domain.message import NewMessage
from gateway.store import figures_schema
from gateway.store.figures import Figures
from gateway.store.schema import MIGRATIONS, SCHEMA_VERSION, StoreUnavailable
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.daemon import write_daemon_config


def test_report_does_not_migrate_a_store_of_the_previous_release(tmp_path):
    db = tmp_path / "gateway.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        for number, script in enumerate(MIGRATIONS[:2], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=free_port(), smsc_port=free_port(), db=db)

    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "report", "-c", str(config),
         "--from", "2026-11-01", "--to", "2026-11-30"],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    assert version == 2, f"report migrated the store from schema 2 to {version}"


def _report(config) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "report", "-c", str(config),
         "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _store_at(db, version: int) -> None:
    with sqlite3.connect(db, isolation_level=None) as conn:
        for number, script in enumerate(MIGRATIONS[:version], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


# The oldest schema that holds the figures: a store of it (or of any later schema before
# this version's) is read as it is.
FIGURES_SINCE = MIGRATIONS.index(figures_schema.MIGRATION) + 1


def test_report_reads_a_store_of_an_older_schema_whose_figures_it_can_read(tmp_path):
    db = tmp_path / "gateway.db"
    _store_at(db, FIGURES_SINCE)
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=free_port(), smsc_port=free_port(), db=db)

    done = _report(config)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("agency,dossiers_received,dossiers_resolved")


def test_report_refuses_a_store_from_before_the_figures_saying_the_daemon_upgrades_it(tmp_path):
    db = tmp_path / "gateway.db"
    _store_at(db, FIGURES_SINCE - 1)
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=free_port(), smsc_port=free_port(), db=db)

    done = _report(config)

    assert done.returncode == STARTUP_FAILURE
    (line,) = done.stderr.splitlines()
    assert line.endswith("the daemon upgrades it when it starts")


def test_report_refuses_an_older_store_it_cannot_read_saying_the_daemon_upgrades_it(tmp_path):
    db = tmp_path / "gateway.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        conn.executescript(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY); PRAGMA user_version = 1;"
        )
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=free_port(), smsc_port=free_port(), db=db)

    done = _report(config)

    assert done.returncode == STARTUP_FAILURE
    (line,) = done.stderr.splitlines()
    assert f"store {db}: schema 1 is older than this version's {SCHEMA_VERSION}" in line
    assert line.endswith("the daemon upgrades it when it starts")


def test_report_creates_no_file_and_changes_no_mode_beside_a_closed_store(tmp_path):
    """A WAL store nobody has open has no -wal or -shm; a reader in `mode=ro` would
    create both (and leave them behind, world-readable under a loose umask)."""
    state = tmp_path / "state"
    state.mkdir()
    db = state / "gateway.db"
    _store_at(db, SCHEMA_VERSION)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    db.chmod(0o640)
    before = {p.name: p.stat().st_mode for p in state.iterdir()}
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=free_port(), smsc_port=free_port(), db=db)

    done = _report(config)

    assert done.returncode == 0, done.stderr
    assert {p.name: p.stat().st_mode for p in state.iterdir()} == before


async def test_report_reads_a_store_a_daemon_has_open(tmp_path):
    """Beside a running daemon (its -wal and -shm present) the report sees what it
    committed, and leaves its files as they are."""
    db = tmp_path / "gateway.db"
    async with Store.open(db, clock=lambda: 0.0) as store:  # created on 1 January 1970
        await store.dossiers.record_intake(messages=[NewMessage(
            agency="SCT", ref="j1", kind="sms", source="HCC", priority=1, state="queued",
            not_before=0.0, expires_at=0.0, phone="84905123456", text="x", segments=1,
        )])  # fmt: skip
        names = sorted(p.name for p in tmp_path.iterdir())
        async with Store.open(db, readonly=True) as reader:
            figures = Figures(reader.database, ZoneInfo("UTC"), 0)
            found = await figures.table(date(1970, 1, 1), date(1970, 1, 1), ["agency"])
        assert sorted(p.name for p in tmp_path.iterdir()) == names

    assert [(r.agency, r.notices_queued) for r in found] == [("SCT", 1)]


async def test_a_read_only_store_cannot_be_written(tmp_path):
    db = tmp_path / "gateway.db"
    async with Store.open(db):
        pass

    async with Store.open(db, readonly=True) as reader:
        with pytest.raises(StoreUnavailable, match="readonly"):
            await reader.statuses.published(1)
