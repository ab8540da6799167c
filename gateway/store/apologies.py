"""The 17:30 apology runs: the open dossiers due, and which runs are done."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from gateway.domain.dossier import FINISHED_STATUSES, DossierRow
from gateway.domain.message import NewMessage
from gateway.store.database import Database, digests, rows
from gateway.store.dossiers import dossier_row, record_intake

_FINISHED = ", ".join(f"'{status}'" for status in sorted(FINISHED_STATUSES))


class ApologyRuns:
    """What the apology run asks of the store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_dossiers_due(self, due_date: str) -> list[DossierRow]:
        """Dossiers due on `due_date` that have not reached a finished status."""
        found = await self._db.read(
            rows,
            f"SELECT * FROM dossiers WHERE due_date = ? AND status NOT IN ({_FINISHED})",
            (due_date,),
        )
        return [dossier_row(r) for r in found]

    async def apology_ran(self, run_day: str) -> bool:
        found = await self._db.read(
            rows, "SELECT 1 FROM apology_runs WHERE run_day = ?", (run_day,)
        )
        return bool(found)

    async def record_apology_run(
        self, run_day: str, due_date: str, messages: Sequence[NewMessage]
    ) -> int:
        """Queue the run's new apologies and mark the run done, in one transaction;
        returns how many were new (refs dedupe a run repeated after a crash)."""
        fresh = await self._db.write(
            _record_apology_run, run_day, due_date, messages, self._db.clock()
        )
        if fresh:
            self._db.status_added.set()
            self._db.queued_added.set()
        return fresh


def _record_apology_run(
    db: sqlite3.Connection,
    run_day: str,
    due_date: str,
    messages: Sequence[NewMessage],
    now: float,
) -> int:
    existing = digests(db, "messages", "ref", [(m.agency, m.ref) for m in messages])
    fresh = [m for m in messages if (m.agency, m.ref) not in existing]
    record_intake(db, [], [], fresh, [], now)
    db.execute(
        "INSERT OR REPLACE INTO apology_runs VALUES (?, ?, ?, ?)",
        (run_day, due_date, len(fresh), now),
    )
    return len(fresh)
