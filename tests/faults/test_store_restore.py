"""The daemon restored from an old backup of its store, older than the broker's and the
SMSC's state: it starts, carries on, and leaves nothing waiting for ever."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from gateway.store.receipts import NO_RECEIPT
from tests.support.burst import Burst

TIMEOUT = 2  # smpp.receipt_timeout, seconds


def backup(db: Path, to: Path) -> None:
    """What an operator's backup job does: SQLite's online backup of the running store."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as live, sqlite3.connect(to) as copy:
        live.backup(copy)


def restore(copy: Path, db: Path) -> None:
    for leftover in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    db.write_bytes(copy.read_bytes())


def stored(db: Path) -> dict[str, tuple[str, str | None]]:
    """The jobs' states as a reader beside the daemon sees them; nothing while the daemon
    is (re)opening the file, when a read-only reader may meet its WAL half made."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT ref, state, reason FROM messages WHERE kind = 'sms'")
            return {ref: (state, reason) for ref, state, reason in rows}
    except sqlite3.OperationalError:
        return {}


async def test_restored_from_an_old_backup_the_daemon_finishes_everything(broker, tmp_path):
    """Backup while 100 jobs wait for receipts; 100 more; restore; 100 new jobs. The new
    ones are delivered; what the backup still had waiting for receipts the SMSC sent
    long ago ends `expired` ("no delivery receipt"); nothing stays submitted or queued.
    (Jobs the backup does not know and the broker will not send again are lost: the
    store, not the broker, is the record; restoring a backup goes back in time.)"""
    copy = tmp_path / "backup.db"
    config = SimConfig(receipt_delay=0.05, rules=(Rule("*7", "no_receipt"),))
    async with (
        SmscSimulator(config) as smsc,
        Burst(broker.port, smsc, tmp_path, 300, smpp=f"  receipt_timeout: {TIMEOUT}\n") as burst,
    ):
        await burst.publish(0, 100)
        await burst.submitted_at_least(100)
        await asyncio.to_thread(backup, burst.db, copy)
        await burst.publish(100, 100)
        await burst.submitted_at_least(200)
        await burst.stop()

        restore(copy, burst.db)
        await burst.start()
        await burst.publish(200, 100)
        async with asyncio.timeout(60):
            while not (
                len(states := await asyncio.to_thread(stored, burst.db)) >= 200
                and all(s in ("delivered", "expired") for s, _ in states.values())
            ):
                await asyncio.sleep(0.2)
        assert (await burst.health())["status"] == "ok"

    fresh = {f"job-{n}" for n in range(200, 300)}
    assert {states[ref][0] for ref in fresh if not ref.endswith("7")} == {"delivered"}
    assert {states[ref] for ref in states if ref.endswith("7")} == {("expired", NO_RECEIPT)}
    # The backup's own jobs are all there and settled; of 100-199, acknowledged by the
    # broker after the backup, only those it had not yet acknowledged came again.
    assert {f"job-{n}" for n in [*range(100), *range(200, 300)]} <= set(states)
