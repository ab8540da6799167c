"""`report` reads the store beside a running daemon: it must never change it. Run by the
new release before the daemon of the previous release was restarted (pip install -U, then
the supervisors' daily report), a migration under that daemon made its delivery receipts
match nothing: delivered notices ended `expired`, "no delivery receipt"."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from gateway.schema import MIGRATIONS
from tests.broker import free_port
from tests.gateway_rig import write_daemon_config


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
