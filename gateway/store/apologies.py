"""The 17:30 apology runs: the open dossiers due, and which runs are done."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.dossier import FINISHED_STATUSES, DossierRow
from gateway.domain.message import NewMessage
from gateway.store.database import Connection, Database, rows
from gateway.store.dossiers import COLUMNS, dossier_row, record_intake

# A LIMIT that leaves every row in (PostgreSQL refuses SQLite's -1).
EVERY_ROW = 9_223_372_036_854_775_807  # the largest bigint
_FINISHED = ", ".join(f"'{status}'" for status in sorted(FINISHED_STATUSES))


class ApologyRuns:
    """What the apology run asks of the store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_dossiers_due(
        self, due_date: str, *, after: int = 0, limit: int = -1
    ) -> tuple[list[DossierRow], int]:
        """Dossiers due on `due_date` that have not reached a finished status, in store
        order: at most `limit` (-1: all) of those after the position `after`, and the
        position of the last one returned (`after` again when none), to ask for the next
        page from. A page is read by the due-date index from where the last one ended,
        so a run of 100,000 reads each row once and never holds them all."""
        found = await self._db.read(
            rows,
            f"""SELECT rowid, {COLUMNS} FROM dossiers
                WHERE due_date = ? AND rowid > ? AND status NOT IN ({_FINISHED})
                ORDER BY rowid LIMIT ?""",
            (due_date, after, limit if limit >= 0 else EVERY_ROW),
        )
        return [dossier_row(r[1:]) for r in found], (found[-1][0] if found else after)

    async def apology_ran(self, run_day: str) -> bool:
        found = await self._db.read(
            rows, "SELECT 1 FROM apology_runs WHERE run_day = ?", (run_day,)
        )
        return bool(found)

    async def queue_apologies(self, messages: Sequence[NewMessage]) -> int:
        """Queue one slice of a run's apologies (one transaction); returns how many were
        new. Refs dedupe: a run repeated after a crash between slices queues only what
        the first attempt had not."""
        fresh = await self._db.write(_queue_apologies, messages, self._db.clock())
        self._notify(fresh)
        return fresh

    async def record_apology_run(
        self, run_day: str, due_date: str, messages: Sequence[NewMessage], queued: int = 0
    ) -> int:
        """Queue the run's last apologies and mark the run done, in one transaction;
        returns how many were new. `queued` is how many slices before this one queued,
        for the run's record."""
        fresh = await self._db.write(
            _record_apology_run, run_day, due_date, messages, queued, self._db.clock()
        )
        self._notify(fresh)
        return fresh

    def _notify(self, fresh: int) -> None:
        if fresh:
            self._db.status_added.set()
            self._db.queued_added.set()


def _queue_apologies(db: Connection, messages: Sequence[NewMessage], now: float) -> int:
    return record_intake(db, [], [], messages, [], now)


def _record_apology_run(
    db: Connection,
    run_day: str,
    due_date: str,
    messages: Sequence[NewMessage],
    queued: int,
    now: float,
) -> int:
    fresh = _queue_apologies(db, messages, now)
    db.execute(
        """INSERT INTO apology_runs (run_day, due_date, queued, at) VALUES (?, ?, ?, ?)
           ON CONFLICT (run_day) DO UPDATE SET due_date = excluded.due_date,
           queued = excluded.queued, at = excluded.at""",
        (run_day, due_date, queued + fresh, now),
    )
    return fresh
